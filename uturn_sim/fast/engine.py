"""Python face of the compiled engine: arrival batches in, per-vehicle record arrays out."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from uturn_sim.fast.kernel import run_batch
from uturn_sim.fast.rules import pack_rules
from uturn_sim.model.lane import LaneRules
from uturn_sim.numba_cache import ensure_fresh
from uturn_sim.traffic.batch import ArrivalBatch

__all__ = ["BatchRecords", "run_records", "warmup"]


@dataclass(frozen=True)
class BatchRecords:
    """Per-vehicle records of one scheme over a batch, rows as in the :class:`ArrivalBatch`.

    The bay's columns equal the reference engine's
    :class:`~uturn_sim.model.lane.LaneState` records: ``departure`` (start of turn, s;
    NaN: still waiting), ``reached`` (first at rest at a service place, s), ``slot`` and
    ``first_slot`` (int16, 0: none), ``served_by`` (int8: 1 green, 2 gap, 0 not
    served), ``spilled`` (bool), and the vehicle frame's ``bay_entry_s`` as ``entry``
    (s; the arrival for the bay alone, NaN: never entered).  With through lanes
    (``rules.through_lanes`` > 0) the :class:`~uturn_sim.model.approach.ThroughLanes`
    records follow, rows as the batch's through vehicles: ``through_departure`` (s)
    and ``through_lane`` (int8, the lane used); and lane 1's state log
    (``Result.lane_one``) of replication ``k`` is
    ``lane_one_t[lane_one_offsets[k] : lane_one_offsets[k + 1]]`` with ``lane_one_state``.
    For the bay alone the through arrays are empty and every log is empty.
    """

    rules: LaneRules
    departure: np.ndarray
    reached: np.ndarray
    slot: np.ndarray
    first_slot: np.ndarray
    served_by: np.ndarray
    spilled: np.ndarray
    entry: np.ndarray
    through_departure: np.ndarray
    through_lane: np.ndarray
    lane_one_t: np.ndarray
    lane_one_state: np.ndarray
    lane_one_offsets: np.ndarray

    @property
    def whole(self) -> bool:
        """True if the approach's through lanes were modelled."""
        return self.rules.through_lanes > 0

    def rows(self, batch: ArrivalBatch, k: int) -> slice:
        """The bay vehicles' rows of the ``k``-th replication of ``batch``."""
        return slice(int(batch.vehicle_offsets[k]), int(batch.vehicle_offsets[k + 1]))

    def through_rows(self, batch: ArrivalBatch, k: int) -> slice:
        """The through vehicles' rows of the ``k``-th replication (empty for the bay alone)."""
        if not self.whole:
            return slice(0, 0)
        return slice(int(batch.through_offsets[k]), int(batch.through_offsets[k + 1]))

    def lane_one(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Lane 1's state of the ``k``-th replication as ``Result.lane_one`` gives it."""
        if not self.whole:
            return None
        s = slice(int(self.lane_one_offsets[k]), int(self.lane_one_offsets[k + 1]))
        return self.lane_one_t[s], self.lane_one_state[s]


def run_records(batch: ArrivalBatch, rules: LaneRules, end_s: float) -> BatchRecords:
    """Simulate one scheme (``rules = scheme.rules(scenario)``) on every table of ``batch``.

    Parameters
    ----------
    batch
        The replications' arrivals.
    rules
        The scheme's lane rules.
    end_s
        Simulated horizon, s (``scenario.simulation.end_s``).

    Raises
    ------
    ValueError
        If a through vehicle's lane is not one of ``rules.through_lanes``.
    """
    ensure_fresh()
    lanes = rules.through_lanes
    n, reps = len(batch.t), len(batch.vehicle_offsets) - 1
    if lanes > 0:
        toff = batch.through_offsets
        tt = np.ascontiguousarray(batch.through_t, dtype=np.float64)
        tlane = batch.through_lane.astype(np.int8, copy=True)  # the kernel writes lane changes
        if len(tlane) and (tlane.min() < 1 or tlane.max() > lanes):
            raise ValueError(f"through vehicles' lanes must be 1..{lanes} (rules.through_lanes)")
        theavy = batch.through_heavy
    else:  # the bay alone: through vehicles, if any, are not simulated
        toff = np.zeros(reps + 1, dtype=np.int64)
        tt, tlane, theavy = np.empty(0), np.empty(0, np.int8), np.empty(0, bool)
    m = len(tt)
    # lane 1 changes state at most once per call of try_enter: one per lane-1 arrival,
    # lane-1 through departure and bay departure
    cap = np.zeros(reps + 1, dtype=np.int64)
    if lanes > 0:
        cap[1:] = np.cumsum(1 + 2 * (np.diff(batch.vehicle_offsets) + np.diff(toff)))
    log_t = np.empty(cap[-1])
    log_s = np.empty(cap[-1], dtype=np.int8)
    nlog = np.zeros(reps, dtype=np.int64)
    rf = np.full((2, n), np.nan)
    ri = np.zeros((4, n), dtype=np.int64)
    entry = np.full(n, np.nan)
    tdep = np.full(m, np.nan)
    f64 = np.float64
    run_batch(
        pack_rules(rules),
        float(end_s),
        (
            np.ascontiguousarray(batch.t, dtype=f64),
            np.ascontiguousarray(batch.movement == 0),
            np.ascontiguousarray(batch.heavy, dtype=np.bool_),
            np.ascontiguousarray(batch.critical_gap_s, dtype=f64),
        ),
        batch.vehicle_offsets,
        np.ascontiguousarray(batch.conflict_t, dtype=f64),
        batch.conflict_offsets,
        tuple(
            np.ascontiguousarray(x, dtype=f64)
            for g in (batch.uturn_green, batch.left_green, batch.through_green)
            for x in (g.starts, g.ends)
        ),
        (tt, np.where(theavy, rules.heavy_length_m, rules.car_length_m).astype(f64)),
        toff,
        (rf, ri, entry, tlane, tdep),
        (log_t, log_s),
        cap,
        nlog,
    )
    off = np.zeros(reps + 1, dtype=np.int64)
    off[1:] = np.cumsum(nlog)
    # the first nlog[r] entries of each replication's part: indices built from the few
    # written entries, not from the whole capacity
    keep = np.repeat(cap[:-1] - off[:-1], nlog) + np.arange(off[-1])
    return BatchRecords(
        rules=rules,
        departure=rf[0],
        reached=rf[1],
        slot=ri[0].astype(np.int16),
        first_slot=ri[1].astype(np.int16),
        served_by=ri[2].astype(np.int8),
        spilled=ri[3].astype(bool),
        entry=entry if lanes > 0 else np.array(batch.t, dtype=np.float64),
        through_departure=tdep,
        through_lane=tlane,
        lane_one_t=log_t[keep],
        lane_one_state=log_s[keep],
        lane_one_offsets=off,
    )


def warmup() -> float:
    """Compile (or load from numba's on-disk cache) every kernel, arrivals included; seconds."""
    from uturn_sim.fast.measures import warmup as _measures_warmup
    from uturn_sim.model.schemes import get_scheme
    from uturn_sim.scenario.loading import default_scenario
    from uturn_sim.traffic.batch import build_arrivals_batch

    t0 = time.perf_counter()
    empty = ArrivalBatch.from_tables([], [])
    scn = default_scenario()
    build_arrivals_batch(scn, 0, [0])  # the compiled arrival core
    for name in ("ordinary", "linked"):
        run_records(empty, get_scheme(name).rules(scn), 1.0)
    _measures_warmup()
    return time.perf_counter() - t0
