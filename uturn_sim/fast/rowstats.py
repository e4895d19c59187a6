# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled statistics of the summary rows of every replication of a batch.

:func:`batch_rows` fills, per replication and row of
:data:`~uturn_sim.measures.catalog.ROWS`, the columns :data:`STATS` that the measures of
:mod:`uturn_sim.fast.measures` are computed from.  Each replication's vehicles are
taken in the vehicle frame's order (the bay's, then the through lanes'), so every sum
adds the same numbers in the same order as :func:`uturn_sim.measures.summary.summarize`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.fast.lookups import search_right
from uturn_sim.fast.queues import row_queues
from uturn_sim.fast.select import percentiles
from uturn_sim.fast.sorting import _bucket_order, argsort_stable
from uturn_sim.fast.stats import lane_one_records, pairwise_sum
from uturn_sim.measures.safety import _EPS_S as PET_EPS_S  # passages within it: before
from uturn_sim.measures.safety import PET_THRESHOLDS_S

__all__ = ["STATS", "batch_rows"]

#: columns of the compiled per-(replication, row) statistics
STATS = (
    "arrived",
    "departed",
    "served_in_period",
    "delay_mean",
    "delay_median",
    "delay_p95",
    "qdelay_mean",
    "qdelay_p95",
    "qveh_mean",
    "qveh_p95",
    "qveh_max",
    "qm_mean",
    "qm_p95",
    "qm_max",
    "spill_share",
    "spilled",
    "veh_per_gap",
    "veh_per_platoon",
    "in_system_end",
    "pet_n",
    "pet_min",
    "pet_p5",
    "conflicts",
    "total_delay",
    "person_delay",
    "entry_wait",
    "entrance_share",
    "entrance_cycles",
    "lane_share",
    "lane_cycles",
    *(f"pet_below_{k}" for k in range(len(PET_THRESHOLDS_S))),
)
# the kernels' column indices (a dict is no numba constant); runs of columns start at
# _QVEH (mean, p95, max), _QM (the same, m), _LANE_ONE (4) and _PET_BELOW
_ARRIVED, _DEPARTED, _SERVED, _DELAY_MEAN, _DELAY_MEDIAN, _DELAY_P95 = range(6)
_QDELAY_MEAN, _QDELAY_P95, _QVEH, _QM, _SPILL_SHARE, _SPILLED = 6, 7, 8, 11, 14, 15
_PER_GAP, _PER_PLATOON, _IN_END, _PET_N, _PET_MIN, _PET_P5, _CONFLICTS = range(16, 23)
_TOTAL, _PERSON, _ENTRY_WAIT, _LANE_ONE, _PET_BELOW = 23, 24, 25, 26, 30
#: the parameters ``P`` of the kernels: period (s), storage (m), the geometric delay of a
#: stop per movement (s), platoon spacing, conflict entry, turn clear, conflict PET and
#: stop threshold (s), the run's end, the cycle and its origin (s), then PET thresholds
T0, T1, STORAGE, GEO_U, GEO_L, GEO_T, PLATOON, ENTER, CLEAR, CONFLICT, STOPPED = range(11)
END, CYCLE, ORIGIN, PET0 = 11, 12, 13, 14
_UTURN, _THROUGH = 0, 2  # movement codes = ROWS indices (left 1; the last row is all)


@njit(cache=True)
def _platoons(mv, dep, served, n, P, plat):  # pragma: no cover - compiled
    """``Result.vehicles``' ``platoon`` into ``plat[:n]`` (measures.platoons, -1: none)."""
    plat[:n] = -1
    gi = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if mv[i] == _UTURN and served[i] == 2 and not np.isnan(dep[i]):
            gi[m] = i
            m += 1
    if m:
        order = gi[:m][argsort_stable(dep[gi[:m]])]
        pid = 0
        plat[order[0]] = 0
        for k in range(1, m):
            if dep[order[k]] - dep[order[k - 1]] > P[PLATOON] + 1e-9:
                pid += 1
            plat[order[k]] = pid


@njit(cache=True)
def _pet(d, p, P):  # pragma: no cover - compiled
    """``measures.safety.pet_times`` of a U-turn starting at ``d``: min PET before/after, s."""
    e = d + P[ENTER]
    lo = search_right(p, e + PET_EPS_S)
    before = e - p[lo - 1] if lo >= 1 else np.nan
    after = p[lo] - (d + P[CLEAR]) if lo < p.size else np.nan
    return np.fmin(before, after)


@njit(cache=True)
def _samples(
    n, mv, t, dep, served, spilled, wait, persons, p, lg_s, lg_e, P, F, plat, gmark, pmark,
    stamp, pv,
):  # pragma: no cover - compiled
    """Every row's samples and counts from one walk over the vehicles, in their order.

    Fills ``F[row]`` (control delay, queue delay, person delay, bay entry wait of the
    vehicles of the period that left; delay charged to and persons of those still
    waiting at the end) and ``pv`` (PET of the period's U-turns).  Returns the counts
    ``c[row]``: 0 arrived, 1 left in the period, 2 spilled, 3 in system at the end,
    4 departures (samples in ``F[row, :3]``), 5 gap, 6 used gaps, 7 distinct gaps,
    8 distinct platoons, 9 waiting (``F[row, 4:]``), 10 entry waits (``F[row, 3]``);
    and the number of PETs.  Distinct gaps and platoons are marked with ``stamp``.
    """
    rows = F.shape[0]
    last = rows - 1
    t0, t1 = P[T0], P[T1]
    geo = np.array([P[GEO_U], P[GEO_L], P[GEO_T]])
    c = np.zeros((rows, 11), dtype=np.int64)
    npet = 0
    for i in range(n):
        r = mv[i]
        d, ti = dep[i], t[i]
        win = ti >= t0 and ti < t1
        gone = not np.isnan(d)
        inper = d >= t0 and d < t1
        gap = inper and served[i] == 2
        used = -1
        if gap:  # protected: inside a left-turn green; else the passage interval used
            j = search_right(lg_s, d) - 1
            if not (j >= 0 and d < lg_e[j]):
                used = search_right(p, d)
        qd = d - ti
        control = np.nan
        if gone and win:
            stopped = qd > P[STOPPED] or served[i] == 2
            control = qd + (geo[r] if stopped else 0.0)
        for h in range(2):
            rr = r if h == 0 else last
            cr = c[rr]
            if not gone:
                cr[3] += 1
                if win:  # still waiting at the run's end: charged its delay up to it
                    F[rr, 4, cr[9]] = P[END] - ti
                    F[rr, 5, cr[9]] = persons[i]
                    cr[9] += 1
            if win:
                cr[0] += 1
                if spilled[i]:
                    cr[2] += 1
                if gone:
                    F[rr, 0, cr[4]] = control
                    F[rr, 1, cr[4]] = qd
                    F[rr, 2, cr[4]] = control * persons[i]
                    cr[4] += 1
                    if r != _THROUGH and not np.isnan(wait[i]):
                        F[rr, 3, cr[10]] = wait[i]
                        cr[10] += 1
            if inper:
                cr[1] += 1
            if gap:
                cr[5] += 1
                if pmark[rr, plat[i] + 1] != stamp:
                    pmark[rr, plat[i] + 1] = stamp
                    cr[8] += 1
                if used >= 0:
                    cr[6] += 1
                    if gmark[rr, used] != stamp:
                        gmark[rr, used] = stamp
                        cr[7] += 1
        if r == _UTURN and inper:
            x = _pet(d, p, P)
            if not np.isnan(x):
                pv[npet] = x
                npet += 1
    return c, npet


@njit(cache=True)
def _events(n, t, dep, ev, ev_v, ev_s):  # pragma: no cover - compiled
    """The queue events: time ``ev`` (s), vehicle ``ev_v``, sign ``ev_s`` (+1, -1).

    Arrivals, then departures (one before its own arrival counts at the arrival,
    as ``queue_steps`` takes it).  Returns their stable time order.
    """
    m = n
    for i in range(n):
        ev[i], ev_v[i], ev_s[i] = t[i], i, 1.0
        if not np.isnan(dep[i]):
            ev[m], ev_v[m], ev_s[m] = (t[i] if dep[i] < t[i] else dep[i]), i, -1.0
            m += 1
    order = _bucket_order(ev[:m])  # spread times: buckets, else the general stable sort
    return order if order.size == m else argsort_stable(ev[:m])


@njit(cache=True)
def _finish(c, F, npet, pv, qs, spill, log, whole, P, out):  # pragma: no cover - compiled
    """The rows' statistics from the samples (:func:`_samples`) and queues ``qs``."""
    for row in range(out.shape[0]):
        cr = c[row]
        fr = F[row]
        dl, ql, pd_, wl, cw, cp = fr[0], fr[1], fr[2], fr[3], fr[4], fr[5]
        nd, nc, nw = cr[4], cr[9], cr[10]
        o = out[row]
        o[_ARRIVED], o[_DEPARTED], o[_SERVED] = cr[0], nd, cr[1]
        sum_dl = pairwise_sum(dl, 0, nd)
        sum_cw = pairwise_sum(cw, 0, nc)
        o[_TOTAL] = sum_dl + sum_cw
        o[_DELAY_MEAN] = o[_DELAY_MEDIAN] = o[_DELAY_P95] = np.nan
        o[_QDELAY_MEAN] = o[_QDELAY_P95] = np.nan
        if nd:
            o[_DELAY_MEAN] = sum_dl / nd
            o[_QDELAY_MEAN] = pairwise_sum(ql, 0, nd) / nd
        for k in range(nc):
            cw[k] *= cp[k]
        o[_PERSON] = pairwise_sum(pd_, 0, nd) + pairwise_sum(cw, 0, nc)
        o[_ENTRY_WAIT] = pairwise_sum(wl, 0, nw) / nw if nw else np.nan
        if nd:  # after the sums: selection reorders the samples
            o[_DELAY_MEDIAN], o[_DELAY_P95] = percentiles(dl, nd, 0.5, 0.95)
            o[_QDELAY_P95] = percentiles(ql, nd, 0.95, 0.95)[1]
        o[_QVEH : _QVEH + 3] = qs[row, :3]
        o[_QM : _QM + 3] = qs[row, 3:]
        o[_SPILL_SHARE], o[_SPILLED] = spill, cr[2]
        o[_PER_GAP] = cr[6] / cr[7] if cr[6] else np.nan
        o[_PER_PLATOON] = cr[5] / cr[8] if cr[5] else np.nan
        o[_IN_END] = cr[3]
        for k in range(4):  # lane 1: the same in every row (NaN for the bay alone)
            o[_LANE_ONE + k] = log[k] if whole else np.nan
        o[_PET_N] = -1.0  # no PET: not the U-turn row
        o[_PET_MIN] = o[_PET_P5] = o[_CONFLICTS] = np.nan
        o[_PET_BELOW:] = np.nan
        if row == _UTURN:
            o[_PET_N] = npet
            below = np.zeros(P.size - PET0 + 1, dtype=np.int64)
            for i in range(npet):
                if pv[i] < P[CONFLICT]:
                    below[0] += 1
                for k in range(P.size - PET0):
                    if pv[i] < P[PET0 + k]:
                        below[k + 1] += 1
            o[_CONFLICTS] = below[0]
            for k in range(P.size - PET0):
                o[_PET_BELOW + k] = below[k + 1]
            o[_PET_MIN], o[_PET_P5] = percentiles(pv, npet, 0.0, 0.05)


@njit(cache=True)
def _one(
    n, mv, t, length, dep, served, spilled, wait, persons, p, lg_s, lg_e, log, whole, P, wk,
    stamp, out
):  # pragma: no cover - compiled
    """Statistics of one replication into ``out[len(ROWS), len(STATS)]``.

    Per vehicle ``i < n``, in the vehicle frame's order: movement code ``mv``, arrival
    ``t``, queue space ``length``, start of turn ``dep`` (s), ``served`` (1 green, 2
    gap), ``spilled``, wait to enter the bay ``wait`` (s), ``persons``; ``log`` is lane
    1's statistics (:func:`~uturn_sim.fast.stats.lane_one_records`, used when
    ``whole``); ``wk`` the batch's work buffers (:func:`_work`), ``stamp`` a number
    unique to the replication (> 0).  Each row's samples are gathered in vehicle
    order, so every sum adds what ``summarize`` adds, in its order.
    """
    F, plat, gmark, pmark, pv, ev, ev_v, ev_s, G, W, WN, WM, HIST, FMAP = wk
    _platoons(mv, dep, served, n, P, plat)
    c, npet = _samples(
        n, mv, t, dep, served, spilled, wait, persons, p, lg_s, lg_e, P, F, plat, gmark,
        pmark, stamp, pv,
    )  # fmt: skip
    order = _events(n, t, dep, ev, ev_v, ev_s)
    # with through lanes lane 1's time blocked by spillback; else the bay's (= all) queue
    rows = out.shape[0]
    qs = np.empty((rows, 6))
    spill = row_queues(
        ev, ev_v, ev_s, order, n, mv, length, P[T0], P[T1], 0.95, -1 if whole else rows - 1,
        P[STORAGE], G, W, WN, WM, HIST, FMAP, qs,
    )  # fmt: skip
    _finish(c, F, npet, pv, qs, log[2] if whole else spill, log, whole, P, out)


@njit(cache=True)
def _work(nmax, pmax):  # pragma: no cover - compiled
    """Work buffers for replications of up to ``nmax`` vehicles and ``pmax`` passages."""
    rows = _THROUGH + 2
    ne = 2 * nmax + 1
    return (
        np.empty((rows, 6, nmax)),  # F: per row, samples in vehicle order
        np.empty(nmax, dtype=np.int64),  # plat
        np.zeros((rows, pmax + 1), dtype=np.int64),  # gmark: stamp per passage interval
        np.zeros((rows, nmax + 1), dtype=np.int64),  # pmark: stamp per platoon + 1
        np.empty(nmax),  # pv
        np.empty(ne),  # ev: event times
        np.empty(ne, dtype=np.int64),  # ev_v: their vehicles
        np.empty(ne),  # ev_s: their signs
        np.empty((rows, 3, ne)),  # G: per row, its events (time, count and metre change)
        np.empty((rows, ne)),  # W: per row, its steps' weights
        np.empty((rows, ne)),  # WN: weight times count level
        np.empty((rows, ne)),  # WM: weight times metre level
        np.zeros((rows, nmax + 1)),  # HIST
        np.empty((rows, nmax + 1)),  # FMAP
    )


@njit(cache=True)
def batch_rows(
    t,
    mv,
    length,
    dep,
    served,
    spilled,
    entry,
    persons,
    voff,
    tt,
    tlen,
    tdep,
    tpersons,
    toff,
    p,
    poff,
    lg_s,
    lg_e,
    log_t,
    log_s,
    loff,
    whole,
    P,
    out,
):  # pragma: no cover - compiled
    """Every replication's statistics into ``out[r]``: its bay vehicles, then its through ones.

    Bay vehicles (rows ``voff[r]:voff[r+1]``): arrival ``t``, movement ``mv`` (0
    U-turn, 1 left), queue space ``length`` (m), start of turn ``dep``, ``served``
    (1 green, 2 gap), ``spilled``, bay ``entry`` (s), ``persons``.  Through vehicles
    (rows ``toff[r]:toff[r+1]``): ``tt``, ``tlen``, ``tdep``, ``tpersons``.  Passages
    ``p`` (rows ``poff``), left-turn greens ``lg_s``/``lg_e``, lane 1's logs ``log_t``,
    ``log_s`` (rows ``loff``; used when ``whole``), parameters ``P`` (:data:`T0` ...).
    Work buffers are allocated once for the batch.
    """
    R = voff.size - 1
    nmax = pmax = 0
    for r in range(R):
        nmax = max(nmax, voff[r + 1] - voff[r] + toff[r + 1] - toff[r])
        pmax = max(pmax, poff[r + 1] - poff[r])
    wk = _work(nmax, pmax)
    cmv = np.empty(nmax, dtype=np.int64)
    ct, clen, cdep = np.empty(nmax), np.empty(nmax), np.empty(nmax)
    wait, cpersons = np.empty(nmax), np.empty(nmax)
    cserved = np.empty(nmax, dtype=np.int64)
    cspill = np.zeros(nmax, dtype=np.bool_)
    for r in range(R):
        a, b = voff[r], voff[r + 1]
        c, d = toff[r], toff[r + 1]
        nb, n = b - a, b - a + d - c
        cmv[:nb] = mv[a:b]
        cmv[nb:n] = _THROUGH
        ct[:nb], ct[nb:n] = t[a:b], tt[c:d]
        clen[:nb], clen[nb:n] = length[a:b], tlen[c:d]
        cdep[:nb], cdep[nb:n] = dep[a:b], tdep[c:d]
        cserved[:nb] = served[a:b]
        for j in range(c, d):  # served_by: 'green' when it passed, '' while it waits
            cserved[nb + j - c] = 0 if np.isnan(tdep[j]) else 1
        cspill[:nb] = spilled[a:b]
        cspill[nb:n] = False
        for j in range(nb):
            wait[j] = entry[a + j] - t[a + j]
        wait[nb:n] = np.nan
        cpersons[:nb], cpersons[nb:n] = persons[a:b], tpersons[c:d]
        log = np.full(4, np.nan)
        if whole:
            e, f = loff[r], loff[r + 1]
            log = lane_one_records(log_t[e:f], log_s[e:f], P[T0], P[T1], P[CYCLE], P[ORIGIN])
        _one(
            n, cmv, ct, clen, cdep, cserved, cspill, wait, cpersons,
            p[poff[r] : poff[r + 1]], lg_s, lg_e, log, whole, P, wk, r + 1, out[r],
        )  # fmt: skip
