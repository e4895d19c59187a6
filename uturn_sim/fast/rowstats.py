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
from uturn_sim.fast.sorting import argsort_stable, percentile
from uturn_sim.fast.stats import (
    lane_one_records,
    pairwise_sum,
    queue_events,
    queue_steps,
    share_above,
    time_weighted_stats,
)
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
def _count_distinct(x):  # pragma: no cover - compiled
    if x.size == 0:
        return 0
    s = np.sort(x)
    n = 1
    for k in range(1, s.size):
        if s[k] != s[k - 1]:
            n += 1
    return n


@njit(cache=True)
def _vehicles(mv, t, dep, served, P):  # pragma: no cover - compiled
    """Per vehicle: queue delay and control delay (s), platoon of the gap U-turns.

    ``Result.vehicles``' ``queue_delay_s``, ``control_delay_s`` and ``platoon``;
    ``P`` as :data:`T0` ...
    """
    n = t.size
    qdel = dep - t
    control = np.empty(n)
    geo = np.array([P[GEO_U], P[GEO_L], P[GEO_T]])
    for i in range(n):
        stopped = qdel[i] > P[STOPPED] or served[i] == 2
        control[i] = qdel[i] + (np.nan if np.isnan(dep[i]) else (geo[mv[i]] if stopped else 0.0))
    platoon = np.full(n, -1, dtype=np.int64)  # measures.platoons over gap U-turns
    gi = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if mv[i] == _UTURN and served[i] == 2 and not np.isnan(dep[i]):
            gi[m] = i
            m += 1
    if m:
        order = gi[:m][argsort_stable(dep[gi[:m]])]
        pid = 0
        platoon[order[0]] = 0
        for k in range(1, m):
            if dep[order[k]] - dep[order[k - 1]] > P[PLATOON] + 1e-9:
                pid += 1
            platoon[order[k]] = pid
    return qdel, control, platoon


@njit(cache=True)
def _pet(mv, dep, p, P):  # pragma: no cover - compiled
    """``measures.safety.pet_times``: min of PET before and after each U-turn, s (NaN)."""
    pet = np.full(mv.size, np.nan)
    for i in range(mv.size):
        if mv[i] == _UTURN and not np.isnan(dep[i]):
            e = dep[i] + P[ENTER]
            lo = search_right(p, e + PET_EPS_S)
            before = e - p[lo - 1] if lo >= 1 else np.nan
            after = p[lo] - (dep[i] + P[CLEAR]) if lo < p.size else np.nan
            pet[i] = np.fmin(before, after)
    return pet


@njit(cache=True)
def _one(
    mv, t, length, dep, served, spilled, wait, persons, p, lg_s, lg_e, log, whole, P, out
):  # pragma: no cover - compiled
    """Statistics of one replication into ``out[len(ROWS), len(STATS)]``.

    Per vehicle, in the vehicle frame's order: movement code ``mv``, arrival ``t``,
    queue space ``length``, start of turn ``dep`` (s), ``served`` (1 green, 2 gap),
    ``spilled``, wait to enter the bay ``wait`` (s), ``persons``; ``log`` is lane 1's
    statistics (:func:`~uturn_sim.fast.stats.lane_one_records`, used when ``whole``).
    """
    t0, t1 = P[T0], P[T1]
    n = t.size
    qdel, control, platoon = _vehicles(mv, t, dep, served, P)
    pet = _pet(mv, dep, p, P)
    bay = mv != _THROUGH
    ev_t, ev_veh, ev_sign = queue_events(t, dep)
    all_t, all_n, all_m = queue_steps(ev_t, ev_veh, ev_sign, np.ones(n, np.bool_), length)
    # with through lanes lane 1's time blocked by spillback; else the bay's (= all) queue
    spill = log[2] if whole else share_above(all_t, all_m, P[STORAGE], t0, t1)
    for row in range(out.shape[0]):
        last = row == out.shape[0] - 1
        sel = np.ones(n, dtype=np.bool_) if last else mv == row
        arrived = inper = nspill = inend = 0
        dl, ql, pd_, wl = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
        cw, cp = np.empty(n), np.empty(n)
        nd = nw = nc = 0
        gap_used = np.empty(n, dtype=np.int64)
        plat = np.empty(n, dtype=np.int64)
        ngap = nused = 0
        for i in range(n):
            if not sel[i]:
                continue
            d = dep[i]
            win = t[i] >= t0 and t[i] < t1
            if np.isnan(d):
                inend += 1
                if win:  # still waiting at the run's end: charged its delay up to it
                    cw[nc] = P[END] - t[i]
                    cp[nc] = persons[i]
                    nc += 1
            if win:
                arrived += 1
                if spilled[i]:
                    nspill += 1
                if not np.isnan(d):
                    dl[nd] = control[i]
                    ql[nd] = qdel[i]
                    pd_[nd] = control[i] * persons[i]
                    nd += 1
                    if bay[i] and not np.isnan(wait[i]):
                        wl[nw] = wait[i]
                        nw += 1
            if d >= t0 and d < t1:
                inper += 1
                if served[i] == 2:
                    plat[ngap] = platoon[i]
                    ngap += 1
                    j = search_right(lg_s, d) - 1  # protected: inside a left-turn green
                    if not (j >= 0 and d < lg_e[j]):
                        gap_used[nused] = search_right(p, d)
                        nused += 1
        o = out[row]
        o[_ARRIVED], o[_DEPARTED], o[_SERVED] = arrived, nd, inper
        o[_DELAY_MEAN] = o[_DELAY_MEDIAN] = o[_DELAY_P95] = np.nan
        o[_QDELAY_MEAN] = o[_QDELAY_P95] = np.nan
        if nd:
            o[_DELAY_MEAN] = pairwise_sum(dl, 0, nd) / nd
            o[_DELAY_MEDIAN] = percentile(dl[:nd], 0.5)
            o[_DELAY_P95] = percentile(dl[:nd], 0.95)
            o[_QDELAY_MEAN] = pairwise_sum(ql, 0, nd) / nd
            o[_QDELAY_P95] = percentile(ql[:nd], 0.95)
        o[_TOTAL] = pairwise_sum(dl, 0, nd) + pairwise_sum(cw, 0, nc)
        cw[:nc] *= cp[:nc]
        o[_PERSON] = pairwise_sum(pd_, 0, nd) + pairwise_sum(cw, 0, nc)
        o[_ENTRY_WAIT] = pairwise_sum(wl, 0, nw) / nw if nw else np.nan
        if last:
            qt, qn, qm = all_t, all_n, all_m
        else:
            qt, qn, qm = queue_steps(ev_t, ev_veh, ev_sign, sel, length)
        o[_QVEH : _QVEH + 3] = time_weighted_stats(qt, qn, t0, t1)
        o[_QM : _QM + 3] = time_weighted_stats(qt, qm, t0, t1)
        o[_SPILL_SHARE], o[_SPILLED] = spill, nspill
        o[_PER_GAP] = nused / _count_distinct(gap_used[:nused]) if nused else np.nan
        o[_PER_PLATOON] = ngap / _count_distinct(plat[:ngap]) if ngap else np.nan
        o[_IN_END] = inend
        for k in range(4):  # lane 1: the same in every row (NaN for the bay alone)
            o[_LANE_ONE + k] = log[k] if whole else np.nan
        o[_PET_N] = -1.0  # no PET: not the U-turn row
        o[_PET_MIN] = o[_PET_P5] = o[_CONFLICTS] = np.nan
        o[_PET_BELOW:] = np.nan
        if row == _UTURN:
            pv = np.empty(n)
            npet = 0
            for i in range(n):
                if sel[i] and dep[i] >= t0 and dep[i] < t1 and not np.isnan(pet[i]):
                    pv[npet] = pet[i]
                    npet += 1
            pv = pv[:npet]
            o[_PET_N] = npet
            o[_PET_MIN] = percentile(pv, 0.0)
            o[_PET_P5] = percentile(pv, 0.05)
            o[_CONFLICTS] = np.sum(pv < P[CONFLICT])
            for k in range(P.size - PET0):
                o[_PET_BELOW + k] = np.sum(pv < P[PET0 + k])


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
    """
    for r in range(voff.size - 1):
        a, b = voff[r], voff[r + 1]
        c, d = toff[r], toff[r + 1]
        nb, n = b - a, b - a + d - c
        cmv = np.empty(n, dtype=np.int64)
        cmv[:nb] = mv[a:b]
        cmv[nb:] = _THROUGH
        ct = np.concatenate((t[a:b], tt[c:d]))
        clen = np.concatenate((length[a:b], tlen[c:d]))
        cdep = np.concatenate((dep[a:b], tdep[c:d]))
        cserved = np.empty(n, dtype=np.int64)
        cserved[:nb] = served[a:b]
        for j in range(c, d):  # served_by: 'green' when it passed, '' while it waits
            cserved[nb + j - c] = 0 if np.isnan(tdep[j]) else 1
        cspill = np.zeros(n, dtype=np.bool_)
        cspill[:nb] = spilled[a:b]
        wait = np.full(n, np.nan)
        wait[:nb] = entry[a:b] - t[a:b]
        cpersons = np.concatenate((persons[a:b], tpersons[c:d]))
        log = np.full(4, np.nan)
        if whole:
            e, f = loff[r], loff[r + 1]
            log = lane_one_records(log_t[e:f], log_s[e:f], P[T0], P[T1], P[CYCLE], P[ORIGIN])
        _one(
            cmv, ct, clen, cdep, cserved, cspill, wait, cpersons,
            p[poff[r] : poff[r + 1]], lg_s, lg_e, log, whole, P, out[r],
        )  # fmt: skip
