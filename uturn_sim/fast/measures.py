# ruff: noqa: ANN001  (numba kernels: argument types are inferred from the arrays)
"""Per-replication measures from record arrays, without pandas in the hot path.

:func:`summarize_batch` gives, for every replication of a :class:`BatchRecords`, the
rows ``uturn``, ``left``, ``all`` of :func:`uturn_sim.measures.summary.summarize`
(as :meth:`uturn_sim.Result.summary` calls it), computed by one compiled pass over the
batch; the DataFrame is built once for the whole batch.  A declared measure without a
compiled formula in :data:`COMPILED` is refused (``NotImplementedError``), never
guessed; ``tests/test_fast.py`` checks every declared measure against ``summarize``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numba import njit

from uturn_sim.fast.engine import BatchRecords
from uturn_sim.fast.stats import (
    pairwise_sum,
    percentile_sorted,
    queue_steps,
    share_above,
    time_weighted_stats,
)
from uturn_sim.measures.catalog import (
    LOS_SIGNALIZED,
    LOS_UNSIGNALIZED,
    MEASURES,
)
from uturn_sim.measures.platoons import PLATOON_TOLERANCE_S
from uturn_sim.measures.safety import CONFLICT_PET_S, PET_THRESHOLDS_S
from uturn_sim.measures.summary import SUMMARY_COLUMNS
from uturn_sim.model.kinematics import geometric_delay_s
from uturn_sim.model.result import STOP_THRESHOLD_S
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.batch import ArrivalBatch

__all__ = ["STATS", "summarize_batch", "warmup"]

MOVEMENTS = ("uturn", "left", "all")
#: columns of the compiled per-(replication, movement) statistics
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
    *(f"pet_below_{k}" for k in range(len(PET_THRESHOLDS_S))),
)
_S = {name: k for k, name in enumerate(STATS)}


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
def _one(t, uturn, length, dep, served, spilled, p, lg_s, lg_e, P, out):  # pragma: no cover
    """Statistics of one replication into ``out[3, len(STATS)]`` (rows uturn, left, all).

    ``P``: t0, t1, storage_m, geo_uturn, geo_left, platoon spacing, conflict entry,
    turn clear, conflict PET, then the PET thresholds (s).
    """
    t0, t1, storage = P[0], P[1], P[2]
    n = t.size
    qdel = dep - t
    control = np.empty(n)
    for i in range(n):
        stopped = qdel[i] > P[9] or served[i] == 2
        geo = (P[3] if uturn[i] else P[4]) if stopped else 0.0
        control[i] = qdel[i] + (np.nan if np.isnan(dep[i]) else geo)
    # platoons of U-turns in gaps (measures.platoons)
    platoon = np.full(n, -1, dtype=np.int64)
    gi = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if uturn[i] and served[i] == 2 and not np.isnan(dep[i]):
            gi[m] = i
            m += 1
    gi = gi[:m]
    if m:
        order = gi[np.argsort(dep[gi], kind="mergesort")]
        pid = 0
        platoon[order[0]] = 0
        for k in range(1, m):
            if dep[order[k]] - dep[order[k - 1]] > P[5] + 1e-9:
                pid += 1
            platoon[order[k]] = pid
    # PET (measures.safety.pet_times): min of before and after, NaN-aware
    pet = np.full(n, np.nan)
    for i in range(n):
        if uturn[i] and not np.isnan(dep[i]):
            e = dep[i] + P[6]
            c = dep[i] + P[7]
            lo, hi = 0, p.size
            while lo < hi:
                mid = (lo + hi) >> 1
                if p[mid] <= e:
                    lo = mid + 1
                else:
                    hi = mid
            before = e - p[lo - 1] if lo >= 1 else np.nan
            after = p[lo] - c if lo < p.size else np.nan
            pet[i] = np.fmin(before, after)
    ones = np.ones(n)
    lane_t, lane_m = queue_steps(t, dep, length)
    spill = share_above(lane_t, lane_m, storage, t0, t1)
    for row in range(3):
        sel = np.empty(n, dtype=np.bool_)
        for i in range(n):
            sel[i] = row == 2 or (uturn[i] if row == 0 else not uturn[i])
        arrived = departed = inper = nspill = inend = 0
        dl = np.empty(n)
        ql = np.empty(n)
        nd = 0
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
            if win:
                arrived += 1
                if spilled[i]:
                    nspill += 1
                if not np.isnan(d):
                    departed += 1
                    dl[nd] = control[i]
                    ql[nd] = qdel[i]
                    nd += 1
            if d >= t0 and d < t1:
                inper += 1
                if served[i] == 2:
                    plat[ngap] = platoon[i]
                    ngap += 1
                    # protected: inside a left-turn green window
                    j = -1
                    lo, hi = 0, lg_s.size
                    while lo < hi:
                        mid = (lo + hi) >> 1
                        if lg_s[mid] <= d:
                            lo = mid + 1
                        else:
                            hi = mid
                    j = lo - 1
                    if not (j >= 0 and d < lg_e[j]):
                        lo, hi = 0, p.size
                        while lo < hi:
                            mid = (lo + hi) >> 1
                            if p[mid] <= d:
                                lo = mid + 1
                            else:
                                hi = mid
                        gap_used[nused] = lo
                        nused += 1
        o = out[row]
        o[0], o[1], o[2] = arrived, departed, inper
        if nd:
            dsel = dl[:nd]
            qsel = ql[:nd]
            o[3] = pairwise_sum(dsel, 0, nd) / nd
            ds = np.sort(dsel)
            o[4] = percentile_sorted(ds, 0.5)
            o[5] = percentile_sorted(ds, 0.95)
            o[6] = pairwise_sum(qsel, 0, nd) / nd
            o[7] = percentile_sorted(np.sort(qsel), 0.95)
        else:
            o[3] = o[4] = o[5] = o[6] = o[7] = np.nan
        ts = t[sel]
        dsl = dep[sel]
        qt, qn = queue_steps(ts, dsl, ones[: ts.size])
        o[8], o[9], o[10] = time_weighted_stats(qt, qn, t0, t1)
        if row == 2:
            mt, mm = lane_t, lane_m
        else:
            mt, mm = queue_steps(ts, dsl, length[sel])
        o[11], o[12], o[13] = time_weighted_stats(mt, mm, t0, t1)
        o[14] = spill
        o[15] = nspill
        o[16] = nused / _count_distinct(gap_used[:nused]) if nused else np.nan
        o[17] = ngap / _count_distinct(plat[:ngap]) if ngap else np.nan
        o[18] = inend
        if row == 0:
            pv = np.empty(n)
            npet = 0
            for i in range(n):
                if sel[i] and dep[i] >= t0 and dep[i] < t1 and not np.isnan(pet[i]):
                    pv[npet] = pet[i]
                    npet += 1
            pv = np.sort(pv[:npet])
            o[19] = npet
            o[20] = percentile_sorted(pv, 0.0)
            o[21] = percentile_sorted(pv, 0.05)
            o[22] = np.sum(pv < P[8])
            for k in range(P.size - 10):
                o[23 + k] = np.sum(pv < P[10 + k])
        else:
            o[19] = -1.0
            o[20:] = np.nan


@njit(cache=True)
def _batch(
    t, uturn, length, voff, dep, served, spilled, p, poff, lg_s, lg_e, P, out
):  # pragma: no cover
    for r in range(voff.size - 1):
        a, b = voff[r], voff[r + 1]
        _one(
            t[a:b],
            uturn[a:b],
            length[a:b],
            dep[a:b],
            served[a:b],
            spilled[a:b],
            p[poff[r] : poff[r + 1]],
            lg_s,
            lg_e,
            P,
            out[r],
        )


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
    "in_system_end": lambda s, h: s["in_system_end"].astype(np.int64),
    "oversaturated": lambda s, h: (s["arrived"] - s["departed"]) > 0,
}


def batch_stats(batch: ArrivalBatch, records: BatchRecords, scenario: Scenario) -> np.ndarray:
    """Compiled statistics, shape ``(replications, 3, len(STATS))`` (rows uturn, left, all)."""
    sim, b = scenario.simulation, scenario.behaviour
    rules = records.rules
    geo = geometric_delay_s(
        np.array([b.uturn_speed_m_s, b.left_speed_m_s]),
        b.approach_speed_m_s,
        b.accel_m_s2,
        b.decel_m_s2,
    )
    P = np.array(
        [
            sim.warmup_s,
            sim.warmup_s + sim.duration_s,
            scenario.geometry.storage_m,
            geo[0],
            geo[1],
            rules.uturn_gap_headway_s + PLATOON_TOLERANCE_S,
            b.conflict_entry_s,
            b.turn_clear_s,
            CONFLICT_PET_S,
            STOP_THRESHOLD_S,
            *PET_THRESHOLDS_S,
        ],
        dtype=np.float64,
    )
    out = np.zeros((len(batch), 3, len(STATS)))
    uturn = batch.movement == 0
    length = np.where(batch.heavy, rules.heavy_length_m, rules.car_length_m)
    _batch(
        batch.t,
        uturn,
        length,
        batch.vehicle_offsets,
        records.departure,
        records.served_by.astype(np.int64),
        records.spilled,
        batch.conflict_t,
        batch.conflict_offsets,
        batch.left_green.starts,
        batch.left_green.ends,
        P,
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
        The scenario (measured period, storage, turn times and speeds).
    scheme
        Scheme name written in the ``scheme`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``replication, scheme, movement`` and the measures
        (:data:`uturn_sim.measures.catalog.MEASURES`), three rows per replication.
    """
    stats = batch_stats(batch, records, scenario).reshape(-1, len(STATS))
    s = {name: stats[:, k] for name, k in _S.items()}
    sim = scenario.simulation
    hours = ((sim.warmup_s + sim.duration_s) - sim.warmup_s) / 3600.0
    cols: dict[str, object] = {
        "replication": np.repeat(batch.replications, 3),
        "scheme": scheme,
        "movement": np.tile(np.array(MOVEMENTS, dtype=object), len(batch)),
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
    e = np.empty(0)
    ei = np.zeros(1, dtype=np.int64)
    _batch(
        e,
        np.empty(0, np.bool_),
        e,
        ei,
        e,
        np.empty(0, np.int64),
        np.empty(0, np.bool_),
        e,
        ei,
        e,
        e,
        np.zeros(10 + len(PET_THRESHOLDS_S)),
        np.zeros((0, 3, len(STATS))),
    )
