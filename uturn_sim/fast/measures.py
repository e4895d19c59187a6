# ruff: noqa: ANN001  (numba kernels: argument types are inferred from the arrays)
"""Per-replication measures from record arrays, without pandas in the hot path.

:func:`summarize_batch` gives, for every replication of a :class:`BatchRecords`, the
rows :data:`~uturn_sim.measures.catalog.ROWS` (``uturn``, ``left``, ``through``,
``all``) of :func:`uturn_sim.measures.summary.summarize` as
:meth:`uturn_sim.Result.summary` calls it, computed by one compiled pass over the
batch; the DataFrame is built once for the whole batch.  Each replication's vehicles
are taken in the vehicle frame's order (the bay's, then the through lanes'), so
every sum adds the same numbers in the same order as NumPy's.  A declared measure
without a compiled formula in :data:`COMPILED` is refused (``NotImplementedError``),
never guessed; ``tests/test_fast.py`` checks every declared measure against
``Result.summary()``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numba import njit

from uturn_sim.fast.engine import BatchRecords
from uturn_sim.fast.sorting import argsort_stable, percentile
from uturn_sim.fast.stats import (
    lane_one_records,
    pairwise_sum,
    queue_events,
    queue_steps,
    share_above,
    time_weighted_stats,
)
from uturn_sim.measures.catalog import LOS_SIGNALIZED, LOS_UNSIGNALIZED, MEASURES, ROWS
from uturn_sim.measures.platoons import PLATOON_TOLERANCE_S
from uturn_sim.measures.safety import CONFLICT_PET_S, PET_THRESHOLDS_S
from uturn_sim.measures.summary import SUMMARY_COLUMNS
from uturn_sim.model.kinematics import geometric_delay_s
from uturn_sim.model.result import STOP_THRESHOLD_S
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.batch import ArrivalBatch

__all__ = ["STATS", "summarize_batch", "warmup"]

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
_S = {name: k for k, name in enumerate(STATS)}
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
_UTURN, _LEFT, _THROUGH = 0, 1, 2  # movement codes (ROWS order; the last row is all)
_EPS_S = 1e-9  # measures.safety: passages within 1 ns of the entry count as before it


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
def _search_right(a, x):  # pragma: no cover - compiled
    lo, hi = 0, a.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _vehicles(mv, t, dep, served, P):  # pragma: no cover - compiled
    """Per vehicle: queue delay, control delay, platoon of gap U-turns and PET (s).

    ``Result.vehicles``' ``queue_delay_s``, ``control_delay_s`` and ``platoon`` and
    ``measures.safety.pet_times``; ``P`` as :data:`T0` ...
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
            lo = _search_right(p, e + _EPS_S)
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
                    j = _search_right(lg_s, d) - 1  # protected: inside a left-turn green
                    if not (j >= 0 and d < lg_e[j]):
                        gap_used[nused] = _search_right(p, d)
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
def _batch(
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
    """Every replication: its bay rows, then its through rows, into ``out[r]``."""
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


def _los(delay: np.ndarray, thresholds: tuple[float, ...]) -> np.ndarray:
    letters = np.array(list("ABCDEF"), dtype=object)
    k = np.searchsorted(np.asarray(thresholds), np.nan_to_num(delay, nan=0.0), side="left")
    return np.where(np.isfinite(delay), letters[k], "-").astype(object)


def _nan_unless_uturn(s: dict[str, np.ndarray], values: np.ndarray) -> np.ndarray:
    return np.where(s["pet_n"] > 0, values, np.nan)


def _pet_share(k: int) -> Callable[[dict[str, np.ndarray], float], np.ndarray]:
    def share(s: dict[str, np.ndarray], hours: float) -> np.ndarray:
        n = np.where(s["pet_n"] > 0, s["pet_n"], 1.0)
        return _nan_unless_uturn(s, s[f"pet_below_{k}"] / n)

    return share


#: measure name -> its column from the statistics (dict of arrays) and the hours
COMPILED: dict[str, Callable[[dict[str, np.ndarray], float], np.ndarray]] = {
    "demand_veh_h": lambda s, h: s["arrived"] / h,
    "arrived": lambda s, h: s["arrived"].astype(np.int64),
    "departed": lambda s, h: s["departed"].astype(np.int64),
    "throughput_veh_h": lambda s, h: s["served_in_period"] / h,
    "unserved": lambda s, h: (s["arrived"] - s["departed"]).astype(np.int64),
    "delay_mean_s": lambda s, h: s["delay_mean"],
    "delay_median_s": lambda s, h: s["delay_median"],
    "delay_p95_s": lambda s, h: s["delay_p95"],
    "queue_delay_mean_s": lambda s, h: s["qdelay_mean"],
    "queue_delay_p95_s": lambda s, h: s["qdelay_p95"],
    "los": lambda s, h: _los(s["delay_mean"], LOS_SIGNALIZED),
    "los_unsignalized": lambda s, h: _los(s["delay_mean"], LOS_UNSIGNALIZED),
    "queue_mean_veh": lambda s, h: s["qveh_mean"],
    "queue_p95_veh": lambda s, h: s["qveh_p95"],
    "queue_max_veh": lambda s, h: s["qveh_max"],
    "queue_mean_m": lambda s, h: s["qm_mean"],
    "queue_p95_m": lambda s, h: s["qm_p95"],
    "queue_max_m": lambda s, h: s["qm_max"],
    "spillback_share": lambda s, h: s["spill_share"],
    "spilled_vehicles": lambda s, h: s["spilled"].astype(np.int64),
    "veh_per_gap": lambda s, h: s["veh_per_gap"],
    "veh_per_platoon": lambda s, h: s["veh_per_platoon"],
    **{
        f"pet_below_{str(x).replace('.', '_')}_s": _pet_share(k)
        for k, x in enumerate(PET_THRESHOLDS_S)
    },
    "conflicts_per_h": lambda s, h: np.where(s["pet_n"] >= 0, s["conflicts"] / h, np.nan),
    "pet_min_s": lambda s, h: s["pet_min"],
    "pet_p5_s": lambda s, h: s["pet_p5"],
    "total_delay_veh_h_per_h": lambda s, h: s["total_delay"] / 3600.0 / h,
    "person_delay_h_per_h": lambda s, h: s["person_delay"] / 3600.0 / h,
    "bay_entry_wait_s": lambda s, h: s["entry_wait"],
    "entrance_blocked_share": lambda s, h: s["entrance_share"],
    "entrance_blocked_cycle_share": lambda s, h: s["entrance_cycles"],
    "lane_blocked_share": lambda s, h: s["lane_share"],
    "lane_blocked_cycle_share": lambda s, h: s["lane_cycles"],
    "in_system_end": lambda s, h: s["in_system_end"].astype(np.int64),
    "oversaturated": lambda s, h: (s["arrived"] - s["departed"]) > 0,
}


def _parameters(batch: ArrivalBatch, records: BatchRecords, scenario: Scenario) -> np.ndarray:
    """The kernels' ``P`` (:data:`T0` ...), as ``Result.summary()`` takes them."""
    sim, b = scenario.simulation, scenario.behaviour
    geo = geometric_delay_s(
        np.array([b.uturn_speed_m_s, b.left_speed_m_s]),
        b.approach_speed_m_s,
        b.accel_m_s2,
        b.decel_m_s2,
    )
    geo_through = geometric_delay_s(
        b.approach_speed_m_s, b.approach_speed_m_s, b.accel_m_s2, b.decel_m_s2
    )
    ends = batch.through_green.ends  # Result.cycle_origin_s
    origin = float(ends[0]) if len(ends) else scenario.signal.offset_s
    return np.array(
        [
            sim.warmup_s,
            sim.warmup_s + sim.duration_s,
            scenario.geometry.storage_m,
            geo[0],
            geo[1],
            geo_through,
            records.rules.uturn_gap_headway_s + PLATOON_TOLERANCE_S,
            b.conflict_entry_s,
            b.turn_clear_s,
            CONFLICT_PET_S,
            STOP_THRESHOLD_S,
            sim.end_s,
            scenario.signal.cycle_s,
            origin,
            *PET_THRESHOLDS_S,
        ],
        dtype=np.float64,
    )


def batch_stats(batch: ArrivalBatch, records: BatchRecords, scenario: Scenario) -> np.ndarray:
    """Compiled statistics, shape ``(replications, len(ROWS), len(STATS))``."""
    rules, mix = records.rules, scenario.vehicle_mix
    whole = records.whole
    if whole:
        toff = batch.through_offsets
        theavy, tt = batch.through_heavy, batch.through_t
    else:  # the bay alone: no through rows
        toff = np.zeros(len(batch) + 1, dtype=np.int64)
        theavy, tt = np.empty(0, dtype=bool), np.empty(0)
    out = np.zeros((len(batch), len(ROWS), len(STATS)))
    _batch(
        batch.t,
        batch.movement.astype(np.int64),
        np.where(batch.heavy, rules.heavy_length_m, rules.car_length_m),
        records.departure,
        records.served_by.astype(np.int64),
        records.spilled,
        records.entry,
        np.where(batch.heavy, mix.heavy_occupancy, mix.car_occupancy).astype(np.float64),
        batch.vehicle_offsets,
        np.ascontiguousarray(tt, dtype=np.float64),
        np.where(theavy, rules.heavy_length_m, rules.car_length_m).astype(np.float64),
        records.through_departure,
        np.where(theavy, mix.heavy_occupancy, mix.car_occupancy).astype(np.float64),
        toff,
        batch.conflict_t,
        batch.conflict_offsets,
        batch.left_green.starts,
        batch.left_green.ends,
        records.lane_one_t,
        records.lane_one_state,
        records.lane_one_offsets,
        whole,
        _parameters(batch, records, scenario),
        out,
    )
    return out


def summarize_batch(
    batch: ArrivalBatch, records: BatchRecords, scenario: Scenario, scheme: str
) -> pd.DataFrame:
    """Every declared measure per replication and movement, as ``Result.summary()`` gives.

    Parameters
    ----------
    batch
        The replications' arrivals.
    records
        One scheme's records on ``batch`` (:func:`uturn_sim.fast.engine.run_records`).
    scenario
        The scenario (measured period, storage, turn times and speeds, occupancies).
    scheme
        Scheme name written in the ``scheme`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``replication, scheme, movement`` and the measures
        (:data:`uturn_sim.measures.catalog.MEASURES`), a row per replication and
        :data:`~uturn_sim.measures.catalog.ROWS` entry.
    """
    stats = batch_stats(batch, records, scenario).reshape(-1, len(STATS))
    s = {name: stats[:, k] for name, k in _S.items()}
    sim = scenario.simulation
    hours = ((sim.warmup_s + sim.duration_s) - sim.warmup_s) / 3600.0
    cols: dict[str, object] = {
        "replication": np.repeat(batch.replications, len(ROWS)),
        "scheme": scheme,
        "movement": np.tile(np.array(ROWS, dtype=object), len(batch)),
    }
    for m in MEASURES:
        f = COMPILED.get(m.name)
        if f is None:
            raise NotImplementedError(
                f"measure {m.name!r} has no compiled formula in uturn_sim.fast.measures; "
                "use engine='simpy' or add it to COMPILED"
            )
        cols[m.name] = f(s, hours)
    return pd.DataFrame(cols, columns=["replication", "scheme", *SUMMARY_COLUMNS])


def warmup() -> None:
    """Compile the measure kernels (or load them from numba's disk cache)."""
    from uturn_sim.fast.engine import run_records
    from uturn_sim.model.schemes import get_scheme
    from uturn_sim.scenario.loading import default_scenario

    scn = default_scenario()
    empty = ArrivalBatch.from_tables([], [])
    batch_stats(empty, run_records(empty, get_scheme("linked").rules(scn), 1.0), scn)
