"""Python face of the compiled engine: arrival batches in, per-vehicle record arrays out."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from uturn_sim.fast import THROUGH_LANES_REFUSAL
from uturn_sim.fast.kernel import run_batch
from uturn_sim.fast.rules import pack_rules
from uturn_sim.model.lane import LaneRules
from uturn_sim.traffic.batch import ArrivalBatch

__all__ = ["BatchRecords", "run_records", "warmup"]


@dataclass(frozen=True)
class BatchRecords:
    """Per-vehicle records of one scheme over a batch, rows as in the :class:`ArrivalBatch`.

    The columns equal the reference engine's :class:`~uturn_sim.model.lane.LaneState`
    records: ``departure`` (start of turn, s; NaN: still waiting), ``reached`` (first at
    rest at a service place, s), ``slot`` and ``first_slot`` (int16, 0: none),
    ``served_by`` (int8: 1 green, 2 gap, 0 not served), ``spilled`` (bool).
    """

    rules: LaneRules
    departure: np.ndarray
    reached: np.ndarray
    slot: np.ndarray
    first_slot: np.ndarray
    served_by: np.ndarray
    spilled: np.ndarray

    def rows(self, batch: ArrivalBatch, k: int) -> slice:
        """The rows of the ``k``-th replication of ``batch``."""
        return slice(int(batch.vehicle_offsets[k]), int(batch.vehicle_offsets[k + 1]))


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
    NotImplementedError
        When ``rules.through_lanes`` > 0 or ``batch`` carries through vehicles (its
        scenario has ``approach.through_lanes`` > 0): the compiled engine does not
        model the approach's through lanes yet.
    """
    if len(batch.through_t):
        raise NotImplementedError(THROUGH_LANES_REFUSAL)
    n = len(batch.t)
    rf = np.full((2, n), np.nan)
    ri = np.zeros((4, n), dtype=np.int64)
    run_batch(
        pack_rules(rules),
        np.ascontiguousarray(batch.t, dtype=np.float64),
        np.ascontiguousarray(batch.movement == 0),
        np.ascontiguousarray(batch.heavy, dtype=np.bool_),
        np.ascontiguousarray(batch.critical_gap_s, dtype=np.float64),
        batch.vehicle_offsets,
        np.ascontiguousarray(batch.conflict_t, dtype=np.float64),
        batch.conflict_offsets,
        np.ascontiguousarray(batch.uturn_green.starts, dtype=np.float64),
        np.ascontiguousarray(batch.uturn_green.ends, dtype=np.float64),
        np.ascontiguousarray(batch.left_green.starts, dtype=np.float64),
        np.ascontiguousarray(batch.left_green.ends, dtype=np.float64),
        float(end_s),
        rf,
        ri,
    )
    return BatchRecords(
        rules=rules,
        departure=rf[0],
        reached=rf[1],
        slot=ri[0].astype(np.int16),
        first_slot=ri[1].astype(np.int16),
        served_by=ri[2].astype(np.int8),
        spilled=ri[3].astype(bool),
    )


def warmup() -> float:
    """Compile (or load from numba's on-disk cache) every kernel; the seconds it took."""
    from uturn_sim.fast.measures import warmup as _measures_warmup

    t0 = time.perf_counter()
    empty = ArrivalBatch.from_tables([], [])
    from uturn_sim.model.schemes import get_scheme
    from uturn_sim.scenario.loading import default_scenario, update_scenario

    scn = update_scenario(default_scenario(), {"approach.through_lanes": 0})
    for name in ("ordinary", "linked"):
        run_records(empty, get_scheme(name).rules(scn), 1.0)
    _measures_warmup()
    return time.perf_counter() - t0
