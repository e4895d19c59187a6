"""Per-replication measures from record arrays, without pandas in the hot path.

:func:`summarize_batch` gives, for every replication of a :class:`BatchRecords`, the
rows :data:`~uturn_sim.measures.catalog.ROWS` (``uturn``, ``left``, ``through``,
``all``) of :func:`uturn_sim.measures.summary.summarize` as
:meth:`uturn_sim.Result.summary` calls it, in two steps: :func:`batch_stats`, one
compiled pass over the batch (:mod:`uturn_sim.fast.rowstats`) giving an array of
statistics, and :func:`stats_frame`, which builds the DataFrame once from that array
(for one batch, or several batches' stacked).  A declared measure
without a compiled formula in :data:`COMPILED` is refused (``NotImplementedError``),
never guessed; ``tests/test_fast.py`` checks every declared measure against
``Result.summary()``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from uturn_sim.fast.engine import BatchRecords
from uturn_sim.fast.rowstats import STATS, batch_rows
from uturn_sim.fast.samples import (
    CLEAR,
    CONFLICT,
    CYCLE,
    END,
    ENTER,
    GEO_L,
    GEO_T,
    GEO_U,
    ORIGIN,
    PET0,
    PLATOON,
    STOPPED,
    STORAGE,
    T0,
    T1,
)
from uturn_sim.measures.catalog import LOS_SIGNALIZED, LOS_UNSIGNALIZED, MEASURES, ROWS
from uturn_sim.measures.platoons import PLATOON_TOLERANCE_S
from uturn_sim.measures.safety import CONFLICT_PET_S, PET_THRESHOLDS_S
from uturn_sim.measures.summary import SUMMARY_COLUMNS
from uturn_sim.model.kinematics import geometric_delay_s
from uturn_sim.model.result import STOP_THRESHOLD_S
from uturn_sim.numba_cache import ensure_fresh
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.batch import ArrivalBatch

__all__ = ["STATS", "batch_stats", "stats_columns", "stats_frame", "summarize_batch", "warmup"]


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
    """The kernels' ``P`` (:data:`~uturn_sim.fast.samples.T0` ...), as ``Result.summary()``."""
    sim, b = scenario.simulation, scenario.behaviour
    geo = geometric_delay_s(
        np.array([b.uturn_speed_m_s, b.left_speed_m_s]),
        b.approach_speed_m_s,
        b.accel_m_s2,
        b.decel_m_s2,
    )
    ends = batch.through_green.ends  # Result.cycle_origin_s
    P = np.empty(PET0 + len(PET_THRESHOLDS_S))
    P[T0], P[T1] = sim.warmup_s, sim.warmup_s + sim.duration_s
    P[STORAGE] = scenario.geometry.storage_m
    P[GEO_U], P[GEO_L] = geo
    P[GEO_T] = geometric_delay_s(
        b.approach_speed_m_s, b.approach_speed_m_s, b.accel_m_s2, b.decel_m_s2
    )
    P[PLATOON] = records.rules.uturn_gap_headway_s + PLATOON_TOLERANCE_S
    P[ENTER], P[CLEAR] = b.conflict_entry_s, b.turn_clear_s
    P[CONFLICT], P[STOPPED] = CONFLICT_PET_S, STOP_THRESHOLD_S
    P[END], P[CYCLE] = sim.end_s, scenario.signal.cycle_s
    P[ORIGIN] = float(ends[0]) if len(ends) else scenario.signal.offset_s
    P[PET0:] = PET_THRESHOLDS_S
    return P


def batch_stats(batch: ArrivalBatch, records: BatchRecords, scenario: Scenario) -> np.ndarray:
    """Compiled statistics of every replication, shape ``(replications, len(ROWS), len(STATS))``.

    Parameters
    ----------
    batch
        The replications' arrivals.
    records
        One scheme's records on ``batch``: any :class:`BatchRecords` (from
        :func:`uturn_sim.fast.engine.run_records` or built from other results); only
        its documented fields are read.
    scenario
        The scenario (measured period, s; storage, m; turn times, s; speeds; occupancies).

    Returns
    -------
    numpy.ndarray
        ``stats[k, row, col]``: replication ``k``, row of
        :data:`~uturn_sim.measures.catalog.ROWS`, column of :data:`STATS`
        (:func:`stats_frame` turns it into the measures).
    """
    ensure_fresh()
    rules, mix = records.rules, scenario.vehicle_mix
    whole = records.whole
    reps = len(batch)
    if whole:
        toff = batch.through_offsets
        theavy, tt, tdep = batch.through_heavy, batch.through_t, records.through_departure
        lo_t, lo_s = records.lane_one_t, records.lane_one_state
        loff = records.lane_one_offsets
    else:  # the bay alone: no through rows, no lane 1
        toff = np.zeros(reps + 1)
        theavy, tt, tdep = np.empty(0, dtype=bool), np.empty(0), np.empty(0)
        lo_t, lo_s, loff = np.empty(0), np.empty(0), np.zeros(reps + 1)
    heavy = _b(batch.heavy)
    theavy = _b(theavy)
    out = np.zeros((reps, len(ROWS), len(STATS)))
    batch_rows(
        _f(batch.t),
        _i(batch.movement),
        _f(np.where(heavy, rules.heavy_length_m, rules.car_length_m)),
        _f(records.departure),
        _i(records.served_by),
        _b(records.spilled),
        _f(records.entry),
        _f(np.where(heavy, mix.heavy_occupancy, mix.car_occupancy)),
        _i(batch.vehicle_offsets),
        _f(tt),
        _f(np.where(theavy, rules.heavy_length_m, rules.car_length_m)),
        _f(tdep),
        _f(np.where(theavy, mix.heavy_occupancy, mix.car_occupancy)),
        _i(toff),
        _f(batch.conflict_t),
        _i(batch.conflict_offsets),
        _f(batch.left_green.starts),
        _f(batch.left_green.ends),
        _f(lo_t),
        _i(lo_s),
        _i(loff),
        whole,
        _parameters(batch, records, scenario),
        out,
    )
    return out


def _f(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _i(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


def _b(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.bool_)


def stats_columns(
    stats: np.ndarray,
    replications: np.ndarray,
    scheme: str | np.ndarray,
    scenario: Scenario,
) -> dict[str, np.ndarray]:
    """Every declared measure per replication and movement, from compiled statistics.

    The columns of :func:`stats_frame` as arrays (no DataFrame: a sweep turns them
    into its rows directly).

    Parameters
    ----------
    stats
        Shape ``(entries, len(ROWS), len(STATS))``, as :func:`batch_stats` gives.
    replications
        The replication number of each ``stats[k]``, written in the ``replication``
        column.
    scheme
        Scheme name written in the ``scheme`` column, or one name per row (``entries
        * len(ROWS)``) when ``stats`` stacks several schemes.
    scenario
        The scenario (its measured period, h, divides the rates).
    """
    stats = np.asarray(stats, dtype=np.float64)
    if stats.ndim != 3 or stats.shape[1:] != (len(ROWS), len(STATS)):
        raise ValueError(
            f"stats must have shape (replications, {len(ROWS)}, {len(STATS)}), "
            f"got {stats.shape}"
        )
    if len(replications) != len(stats):
        raise ValueError(
            f"replications has {len(replications)} entries for {len(stats)} replications"
        )
    rows = len(stats) * len(ROWS)
    if isinstance(scheme, str):
        names = np.full(rows, scheme, dtype=object)
    else:
        names = np.asarray(scheme, dtype=object)
        if names.shape != (rows,):
            raise ValueError(f"scheme must be one name or {rows} names, got {names.shape}")
    flat = stats.reshape(-1, len(STATS))
    s = {name: flat[:, k] for k, name in enumerate(STATS)}
    sim = scenario.simulation
    hours = ((sim.warmup_s + sim.duration_s) - sim.warmup_s) / 3600.0
    cols: dict[str, np.ndarray] = {
        "replication": np.repeat(np.asarray(replications), len(ROWS)),
        "scheme": names,
        "movement": np.tile(np.array(ROWS, dtype=object), len(stats)),
    }
    for m in MEASURES:
        f = COMPILED.get(m.name)
        if f is None:
            raise NotImplementedError(
                f"measure {m.name!r} has no compiled formula in uturn_sim.fast.measures; "
                "use engine='simpy' or add it to COMPILED"
            )
        cols[m.name] = np.asarray(f(s, hours))
    return cols


def stats_frame(
    stats: np.ndarray, replications: np.ndarray, scheme: str | np.ndarray, scenario: Scenario
) -> pd.DataFrame:
    """Every declared measure per replication and movement, from compiled statistics.

    Parameters are those of :func:`stats_columns`.

    Returns
    -------
    pandas.DataFrame
        Columns ``replication, scheme, movement`` and the measures
        (:data:`uturn_sim.measures.catalog.MEASURES`), a row per replication and
        :data:`~uturn_sim.measures.catalog.ROWS` entry, as ``Result.summary()``.
    """
    return pd.DataFrame(
        stats_columns(stats, replications, scheme, scenario),
        columns=["replication", "scheme", *SUMMARY_COLUMNS],
    )


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
        :func:`stats_frame` of :func:`batch_stats`.
    """
    stats = batch_stats(batch, records, scenario)
    return stats_frame(stats, batch.replications, scheme, scenario)


def warmup() -> None:
    """Compile the measure kernels (or load them from numba's disk cache)."""
    from uturn_sim.fast.engine import run_records
    from uturn_sim.model.schemes import get_scheme
    from uturn_sim.scenario.loading import default_scenario

    scn = default_scenario()
    empty = ArrivalBatch.from_tables([], [])
    batch_stats(empty, run_records(empty, get_scheme("linked").rules(scn), 1.0), scn)
