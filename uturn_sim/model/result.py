"""The frozen :class:`Result` of one replication of one scheme (built by ``simulate``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from uturn_sim.measures.summary import queue_steps, summarize
from uturn_sim.model.lane import GAP, GREEN, LaneState
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.table import ArrivalTable

__all__ = ["EVENT_COLUMNS", "VEHICLE_COLUMNS", "Result", "vehicle_frame"]

VEHICLE_COLUMNS = {
    "id": "vehicle number, in order of arrival",
    "movement": "'uturn' or 'left'",
    "vehicle_type": "'car' or 'heavy'",
    "length_m": "queue space it takes, m",
    "critical_gap_s": "the driver's critical gap, s (NaN for left-turners)",
    "arrival_s": "unimpeded arrival at the lane, s from the run start",
    "reached_s": "reached the stop line (or, linked U-turners, its slot), s",
    "slot": "linked U-turners: number of the slot it first stopped in (0: none)",
    "departure_s": "start of its turn at the stop line or slot, s (NaN: still waiting)",
    "delay_s": "control delay = departure_s - arrival_s, s",
    "served_by": "'green' (protected phase), 'gap' (accepted gap) or '' (not served)",
    "spilled": "True if on arrival the lane was full (queue beyond storage)",
}
EVENT_COLUMNS = {
    "t_s": "time of the event, s",
    "event": "'arrive', 'reach' (stopped, ready to go), 'start' (starts its turn)",
    "vehicle": "vehicle id",
    "position": "place in the lane counted from the stop line (0 = slot 1 / stop line)",
}


@dataclass(frozen=True)
class Result:
    """One replication of one scheme.

    Attributes
    ----------
    scheme : registry name of the scheme (``"ordinary"``, ``"linked"`` …)
    scenario : the :class:`~uturn_sim.Scenario` simulated
    vehicles : one row per studied-approach vehicle, columns in ``VEHICLE_COLUMNS``
    seed_entropy, spawn_key : the replication's ``numpy.random.SeedSequence``
    arrivals : the :class:`~uturn_sim.traffic.ArrivalTable` it ran on
    has_slots : True if U-turners left from numbered slots
    events : with ``simulate(..., trace=True)``, every lane event (``EVENT_COLUMNS``)
    """

    scheme: str
    scenario: Scenario
    vehicles: pd.DataFrame = field(repr=False)
    seed_entropy: int
    spawn_key: tuple[int, ...]
    arrivals: ArrivalTable = field(repr=False)
    has_slots: bool = False
    events: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def window(self) -> tuple[float, float]:
        """Measured period ``(t0, t1)``, s."""
        sim = self.scenario.simulation
        return sim.warmup_s, sim.warmup_s + sim.duration_s

    @cached_property
    def queue(self) -> pd.DataFrame:
        """Lane occupancy over time: ``t_s``, ``queue_veh``, ``queue_m``, ``slots_occupied``.

        Each row's values hold from ``t_s`` until the next row's ``t_s``.
        """
        v = self.vehicles
        t, n = queue_steps(v["arrival_s"], v["departure_s"])
        _, m = queue_steps(v["arrival_s"], v["departure_s"], v["length_m"])
        slots = self.scenario.geometry.slots if self.has_slots else 0
        return pd.DataFrame(
            {
                "t_s": t[1:],
                "queue_veh": n[1:],
                "queue_m": m[1:],
                "slots_occupied": np.minimum(n[1:], slots),
            }
        )

    def spillback_episodes(self) -> pd.DataFrame:
        """Periods when the lane's queue exceeds ``storage_m`` (spills into the through lane).

        Columns: ``start_s``, ``end_s``, ``duration_s`` and ``max_queue_m``; an episode
        still open at the end of the run ends at the run's end.
        """
        q = self.queue
        t = q["t_s"].to_numpy()
        m = q["queue_m"].to_numpy()
        over = m > self.scenario.geometry.storage_m + 1e-9
        edges = np.diff(np.concatenate(([0], over.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        t_end = np.append(t, self.scenario.simulation.end_s)
        peak = [float(m[s:e].max()) for s, e in zip(starts, ends, strict=True)]
        return pd.DataFrame(
            {
                "start_s": t[starts],
                "end_s": t_end[ends],
                "duration_s": t_end[ends] - t[starts],
                "max_queue_m": peak,
            }
        )

    def summary(self) -> pd.DataFrame:
        """Measures per movement after warm-up (see :func:`uturn_sim.metrics.summarize`)."""
        gap_idx = np.searchsorted(self.arrivals.conflict_t, self.vehicles["departure_s"], "right")
        out = summarize(
            self.vehicles, *self.window, self.scenario.geometry.storage_m, gap_index=gap_idx
        )
        out.insert(0, "scheme", self.scheme)
        return out

    def check_conservation(self) -> None:
        """Raise AssertionError unless generated = departed + in system and delays are >= 0."""
        v = self.vehicles
        n = len(self.arrivals)
        dep = v["departure_s"].notna().sum()
        inside = v["departure_s"].isna().sum()
        assert n == len(v) == dep + inside, "vehicle conservation violated"
        assert (v["delay_s"].dropna() >= -1e-9).all(), "negative control delay"


def vehicle_frame(table: ArrivalTable, st: LaneState) -> pd.DataFrame:
    """The per-vehicle records of a finished run (columns ``VEHICLE_COLUMNS``)."""
    served = np.array(["", "green", "gap"], dtype=object)
    by = np.zeros(len(table), dtype=np.int8)
    by[st.served_by == GREEN] = 1
    by[st.served_by == GAP] = 2
    return pd.DataFrame(
        {
            "id": np.arange(len(table)),
            "movement": np.where(table.movement == 0, "uturn", "left"),
            "vehicle_type": np.where(table.heavy, "heavy", "car"),
            "length_m": st.length_m,
            "critical_gap_s": table.critical_gap_s,
            "arrival_s": table.t,
            "reached_s": st.reached,
            "slot": st.slot,
            "departure_s": st.departure,
            "delay_s": st.departure - table.t,
            "served_by": served[by],
            "spilled": st.spilled,
        }
    )
