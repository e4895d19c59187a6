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

from uturn_sim.fast.queues import row_queues
from uturn_sim.fast.samples import (
    _THROUGH,
    _UTURN,
    CONFLICT,
    CYCLE,
    ORIGIN,
    PET0,
    STORAGE,
    T0,
    T1,
    platoons,
    samples,
)
from uturn_sim.fast.select import percentiles
from uturn_sim.fast.sorting import _bucket_order, argsort_stable
from uturn_sim.fast.stats import lane_one_records, pairwise_sum
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
    """The rows' statistics from their samples and counts and the queues ``qs``.

    ``c``, ``F``, ``npet``, ``pv`` as :func:`~uturn_sim.fast.samples.samples` gives
    them (``F`` and ``pv`` are reordered: sums first, then selection).
    """
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
    platoons(mv, dep, served, n, P, plat)
    nb = 0
    while nb < n and mv[nb] != _THROUGH:
        nb += 1
    c, npet = samples(
        n, nb, mv, t, dep, served, spilled, wait, persons, p, lg_s, lg_e, P, F, plat, gmark,
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
    ``log_s`` (rows ``loff``; used when ``whole``), parameters ``P``
    (:data:`~uturn_sim.fast.samples.T0` ...).
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
