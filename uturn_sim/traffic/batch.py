"""Many replications' arrival tables as one set of concatenated arrays.

:class:`ArrivalBatch` is what the compiled engine (:mod:`uturn_sim.fast`) reads:
replication ``r``'s vehicles are rows ``vehicle_offsets[r]:vehicle_offsets[r+1]``
and its conflict passages ``conflict_offsets[r]:conflict_offsets[r+1]``.  Green
windows depend only on the signal plan and are shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.seeds import replication_seed
from uturn_sim.traffic.signal import GreenWindows
from uturn_sim.traffic.table import (
    ArrivalPlan,
    ArrivalTable,
    arrival_plan,
    assemble,
    draw_ungated,
)

__all__ = ["ArrivalBatch", "build_arrivals_batch"]


@dataclass(frozen=True)
class ArrivalBatch:
    """Arrival tables of several replications, concatenated (times in s from run start).

    Attributes
    ----------
    replications : replication index of each table (their SeedSequence children)
    vehicle_offsets, conflict_offsets : int64 row offsets, one more than tables
    t, movement, heavy, critical_gap_s : per vehicle, as in :class:`ArrivalTable`
    conflict_t : per conflicting passage, s
    uturn_green, left_green : effective-green windows, shared by every replication
    seed_entropy : root entropy of the replications' SeedSequences
    through_offsets : int64 row offsets of the through vehicles, one more than tables
    through_t, through_lane, through_heavy : per through vehicle, as in :class:`ArrivalTable`
    through_green : effective-green windows of the through movement, shared
    """

    replications: np.ndarray
    vehicle_offsets: np.ndarray
    conflict_offsets: np.ndarray
    t: np.ndarray
    movement: np.ndarray
    heavy: np.ndarray
    critical_gap_s: np.ndarray
    conflict_t: np.ndarray
    uturn_green: GreenWindows
    left_green: GreenWindows
    seed_entropy: int
    through_offsets: np.ndarray
    through_t: np.ndarray
    through_lane: np.ndarray
    through_heavy: np.ndarray
    through_green: GreenWindows

    def __len__(self) -> int:
        return len(self.replications)

    @classmethod
    def from_tables(
        cls, tables: Sequence[ArrivalTable], replications: Sequence[int]
    ) -> ArrivalBatch:
        """Concatenate prebuilt :class:`ArrivalTable` objects (same scenario)."""
        voff = np.zeros(len(tables) + 1, dtype=np.int64)
        coff = np.zeros(len(tables) + 1, dtype=np.int64)
        voff[1:] = np.cumsum([len(tb) for tb in tables])
        coff[1:] = np.cumsum([len(tb.conflict_t) for tb in tables])
        toff = np.zeros(len(tables) + 1, dtype=np.int64)
        toff[1:] = np.cumsum([len(tb.through_t) for tb in tables])
        empty = GreenWindows(np.empty(0), np.empty(0))

        def cat(name: str, dtype: type) -> np.ndarray:
            if not tables:
                return np.empty(0, dtype=dtype)
            return np.concatenate([getattr(tb, name) for tb in tables]).astype(dtype, copy=False)

        return cls(
            replications=np.asarray(replications, dtype=np.int64),
            vehicle_offsets=voff,
            conflict_offsets=coff,
            t=np.concatenate([tb.t for tb in tables]) if tables else np.empty(0),
            movement=np.concatenate([tb.movement for tb in tables])
            if tables
            else np.empty(0, np.int8),
            heavy=np.concatenate([tb.heavy for tb in tables]) if tables else np.empty(0, bool),
            critical_gap_s=np.concatenate([tb.critical_gap_s for tb in tables])
            if tables
            else np.empty(0),
            conflict_t=np.concatenate([tb.conflict_t for tb in tables]) if tables else np.empty(0),
            uturn_green=tables[0].uturn_green if tables else GreenWindows(np.empty(0), np.empty(0)),
            left_green=tables[0].left_green if tables else GreenWindows(np.empty(0), np.empty(0)),
            seed_entropy=tables[0].seed_entropy if tables else 0,
            through_offsets=toff,
            through_t=cat("through_t", np.float64),
            through_lane=cat("through_lane", np.int8),
            through_heavy=cat("through_heavy", np.bool_),
            through_green=tables[0].through_green if tables else empty,
        )

    def table(self, k: int) -> dict[str, np.ndarray]:
        """The per-vehicle and conflict arrays of the ``k``-th table in the batch."""
        a, b = self.vehicle_offsets[k], self.vehicle_offsets[k + 1]
        c, d = self.conflict_offsets[k], self.conflict_offsets[k + 1]
        e, f = self.through_offsets[k], self.through_offsets[k + 1]
        return {
            "through_t": self.through_t[e:f],
            "through_lane": self.through_lane[e:f],
            "through_heavy": self.through_heavy[e:f],
            "t": self.t[a:b],
            "movement": self.movement[a:b],
            "heavy": self.heavy[a:b],
            "critical_gap_s": self.critical_gap_s[a:b],
            "conflict_t": self.conflict_t[c:d],
        }


def build_arrivals_batch(
    scn: Scenario,
    seed: int | None = None,
    replications: int | Sequence[int] = 1,
    plan: ArrivalPlan | None = None,
) -> ArrivalBatch:
    """Arrival tables of many replications in one call.

    Replication ``r`` is identical to ``build_arrivals(scn, seed, r)`` (same
    SeedSequence child, same draws).  The whole batch is drawn, gated and merged by one
    compiled call (:mod:`uturn_sim.traffic.kernel`, NumPy's generators reproduced bit
    for bit); what it does not cover (:mod:`uturn_sim.traffic.compiled`) takes the NumPy
    path, each replication from its own streams, the conflicting lanes of the whole
    batch gated in one compiled call per lane of each stream.

    Parameters
    ----------
    scn
        The scenario.
    seed
        Root seed; ``None`` uses ``scn.simulation.seed``.
    replications
        A count ``n`` (replications ``0 .. n-1``) or the replication indices.
    plan
        ``arrival_plan(scn)`` if the caller has it (a chunked study makes it once);
        made here otherwise.
    """
    from uturn_sim.traffic.compiled import compiled_draws  # numba: only batches pay it

    reps = range(replications) if isinstance(replications, int) else list(replications)
    root = scn.simulation.seed if seed is None else seed
    if not len(reps):
        return ArrivalBatch.from_tables([], [])
    plan = arrival_plan(scn) if plan is None else plan  # rates, windows: once a batch
    d = compiled_draws(scn, plan, root, reps)
    if d is None:
        return _numpy_batch(scn, plan, root, reps)
    return ArrivalBatch(
        replications=np.asarray(list(reps), dtype=np.int64),
        vehicle_offsets=d.vehicle_offsets,
        conflict_offsets=d.conflict_offsets,
        t=d.t,
        movement=d.movement,
        heavy=d.heavy,
        critical_gap_s=d.critical_gap_s,
        conflict_t=d.conflict_t,
        uturn_green=plan.uturn_green,
        left_green=plan.left_green,
        seed_entropy=int(d.entropy),
        through_offsets=d.through_offsets,
        through_t=d.through_t,
        through_lane=d.through_lane,
        through_heavy=d.through_heavy,
        through_green=plan.through_green,
    )


def _numpy_batch(
    scn: Scenario, plan: ArrivalPlan, root: int | np.random.SeedSequence, reps: Sequence[int]
) -> ArrivalBatch:
    """:func:`build_arrivals_batch` on NumPy's generators (what the kernel does not cover)."""
    from uturn_sim.numba_cache import ensure_fresh
    from uturn_sim.traffic.gating import gate_lanes

    ensure_fresh()
    draws = [draw_ungated(scn, plan, replication_seed(root, r)) for r in reps]
    passed: list[list[np.ndarray]] = [[] for _ in draws]
    for k, name in enumerate(draws[0].conflict_names):  # lane k of every replication
        wins = plan.conflict_windows[name]
        lanes = [d.conflict_lanes[k] for d in draws]
        if wins is not None:
            lanes = gate_lanes(lanes, wins.starts, wins.ends, plan.conflict_headway_s[name])
        for p, lane in zip(passed, lanes, strict=True):
            p.append(lane)
    tables = [assemble(d, p, plan) for d, p in zip(draws, passed, strict=True)]
    return ArrivalBatch.from_tables(tables, list(reps))
