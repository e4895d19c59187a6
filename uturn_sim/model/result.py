"""The frozen :class:`Result` of one replication of one scheme (built by ``simulate``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from uturn_sim.measures.platoons import platoons
from uturn_sim.measures.safety import pet_times
from uturn_sim.measures.summary import queue_steps, summarize
from uturn_sim.model.approach import ThroughLanes
from uturn_sim.model.kinematics import geometric_delay_s
from uturn_sim.model.lane import GAP, GREEN, LaneState
from uturn_sim.scenario.model import Behaviour, Scenario, VehicleMix
from uturn_sim.traffic.table import ArrivalTable

__all__ = ["EVENT_COLUMNS", "VEHICLE_COLUMNS", "Result", "vehicle_frame"]

VEHICLE_COLUMNS = {
    "id": "vehicle number: the bay's vehicles in order of arrival, then the through vehicles",
    "movement": "'uturn', 'left' or 'through'",
    "vehicle_type": "'car' or 'heavy'",
    "length_m": "queue space it takes, m",
    "critical_gap_s": "the driver's critical gap, s (NaN for left-turners)",
    "arrival_s": "unimpeded arrival at the lane, s from the run start",
    "reached_s": "first came to rest at the stop line (linked U-turners: in a slot), s",
    "first_slot": "linked U-turners: the slot it first came to rest in (0: none)",
    "slot": "linked U-turners: the slot it started its U-turn from (0: none)",
    "departure_s": "start of its turn at the stop line or slot, s (NaN: still waiting)",
    "slot_clear_s": "linked: its slot is free again (start + slot_hold_s), s",
    "conflict_enter_s": "U-turners: enters the conflict area (start + conflict_entry_s), s",
    "conflict_clear_s": "U-turners: leaves the conflict area (start + turn_clear_s), s",
    "queue_delay_s": "departure_s - arrival_s (waiting and moving up), s",
    "geometric_delay_s": "deceleration + acceleration delay of its stop against a free-flow "
    "turn (0 if it did not stop), s",
    "control_delay_s": "queue_delay_s + geometric_delay_s (HCM control delay), s",
    "served_by": "'green' (protected phase), 'gap' (accepted gap) or '' (not served)",
    "platoon": "U-turns in gaps: number of its platoon (starts within lag + 0.5 s), -1 none",
    "platoon_place": "place in its platoon, 1 = first (0: none)",
    "spilled": "True if the bay was full when it reached it (bay alone: on arrival the queue "
    "was beyond storage; whole approach: it waited in through lane 1 for room)",
    "lane": "0 = the bay; k = through lane k (1 = next to the bay) it used",
    "bay_entry_s": "bay vehicles: turned into the bay, s (bay alone: arrival_s; NaN: never)",
    "occupancy": "persons in the vehicle (vehicle_mix car/heavy occupancy)",
}
#: queue delay above which a vehicle counts as having stopped, s
STOP_THRESHOLD_S = 0.1
EVENT_COLUMNS = {
    "t_s": "time of the event, s",
    "event": "'arrive', 'move' (starts moving up to position), 'reach' (at rest at "
    "position), 'start' (starts its turn from position)",
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
    lane_one : with through lanes, the state of through lane 1 as a step function
        ``(t_s, state)`` (0 free, 1 bay entrance blocked by the through queue, 2 blocked
        by the bay's spillback; see :mod:`uturn_sim.model.approach`); ``None`` for the
        bay alone
    """

    scheme: str
    scenario: Scenario
    vehicles: pd.DataFrame = field(repr=False)
    seed_entropy: int
    spawn_key: tuple[int, ...]
    arrivals: ArrivalTable = field(repr=False)
    has_slots: bool = False
    events: pd.DataFrame | None = field(default=None, repr=False)
    lane_one: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def window(self) -> tuple[float, float]:
        """Measured period ``(t0, t1)``, s."""
        sim = self.scenario.simulation
        return sim.warmup_s, sim.warmup_s + sim.duration_s

    @cached_property
    def queue(self) -> pd.DataFrame:
        """The bay movements' queue: ``t_s``, ``queue_veh``, ``queue_m``, ``slots_occupied``.

        With through lanes it counts the bay vehicles still waiting in lane 1 too: the
        queue of the bay's demand wherever it stands.  Each row's values hold from ``t_s``
        until the next row's ``t_s``.
        """
        v = self.vehicles
        v = v[v["lane"] == 0]
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

    def lane_queues(self) -> pd.DataFrame:
        """Queues of the approach's lanes over time (a row's values hold until the next).

        Columns: ``t_s``; ``bay_veh``, ``bay_m`` (vehicles standing in the bay); per
        through lane k, ``lane_k_veh`` and ``lane_k_m`` (its through vehicles and, in
        lane 1, the bay vehicles waiting to turn into the bay).
        """
        v = self.vehicles
        bay = (v["lane"] == 0).to_numpy()
        a = v["arrival_s"].to_numpy()
        d = v["departure_s"].to_numpy()
        e = v["bay_entry_s"].to_numpy()
        length = v["length_m"].to_numpy()
        lanes = self.scenario.approach.through_lanes
        parts = {"bay": (np.where(bay, e, np.nan), np.where(bay, d, np.nan), bay & ~np.isnan(e))}
        for k in range(1, lanes + 1):
            thr = (v["lane"] == k).to_numpy()
            waits = bay if k == 1 else np.zeros(len(v), bool)
            parts[f"lane_{k}"] = (a, np.where(thr, d, e), thr | waits)
        steps = {
            name: (queue_steps(start[m], end[m]), queue_steps(start[m], end[m], length[m]))
            for name, (start, end, m) in parts.items()
        }
        grid = np.unique(np.concatenate([s[0][0][1:] for s in steps.values()]))
        out = {"t_s": grid}
        for name, ((tn, n), (_, mm)) in steps.items():
            idx = np.searchsorted(tn, grid, side="right") - 1
            out[f"{name}_veh"] = n[idx]
            out[f"{name}_m"] = mm[idx]
        return pd.DataFrame(out)

    @property
    def cycle_origin_s(self) -> float:
        """Where the blocking measures' signal cycles start, s.

        The end of the through effective green (else the signal's offset), so a queue
        formed at the through red and cleared in the next green falls in one cycle.
        """
        ends = self.arrivals.through_green.ends
        return float(ends[0]) if len(ends) else self.scenario.signal.offset_s

    def spillback_episodes(self) -> pd.DataFrame:
        """Periods when the bay spills back.

        The bay alone: its queue exceeds ``storage_m``.  With through lanes: a bay car
        waits in through lane 1 for room in the bay (``Result.lane_one`` state 2).
        Columns: ``start_s``, ``end_s``, ``duration_s`` and ``max_queue_m`` (the bay's
        demand in the queue, m); an episode still open at the end of the run ends at
        the run's end.
        """
        q = self.queue
        t = q["t_s"].to_numpy()
        m = q["queue_m"].to_numpy()
        end = self.scenario.simulation.end_s
        if self.lane_one is None:
            over = m > self.scenario.geometry.storage_m + 1e-9
            edges = np.diff(np.concatenate(([0], over.astype(np.int8), [0])))
            t_end = np.append(t, end)
            starts = t[np.flatnonzero(edges == 1)]
            ends = t_end[np.flatnonzero(edges == -1)]
        else:
            lt, state = self.lane_one
            on = state == 2
            edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
            t_end = np.append(lt, end)
            starts = lt[np.flatnonzero(edges == 1)]
            ends = t_end[np.flatnonzero(edges == -1)]
        peak = []
        for a, b in zip(starts, ends, strict=True):
            k = max(int(np.searchsorted(t, a, side="right")) - 1, 0)
            inside = m[k : max(int(np.searchsorted(t, b, side="left")), k + 1)]
            peak.append(float(inside.max()) if len(inside) else 0.0)
        return pd.DataFrame(
            {
                "start_s": starts,
                "end_s": ends,
                "duration_s": ends - starts,
                "max_queue_m": peak,
            }
        )

    def summary(self) -> pd.DataFrame:
        """Every declared measure per movement after warm-up (``measures.summary.summarize``)."""
        dep = self.vehicles["departure_s"].to_numpy()
        gap_idx = np.searchsorted(self.arrivals.conflict_t, dep, "right")
        protected = self.arrivals.left_green.contains(np.nan_to_num(dep, nan=-1.0))
        before, after, _, _ = pet_times(
            self.vehicles["conflict_enter_s"].to_numpy(),
            self.vehicles["conflict_clear_s"].to_numpy(),
            self.arrivals.conflict_t,
        )
        out = summarize(
            self.vehicles,
            *self.window,
            self.scenario.geometry.storage_m,
            gap_index=gap_idx,
            protected=protected,
            pet_s=np.fmin(before, after),
            lane_one=self.lane_one,
            cycle_s=self.scenario.signal.cycle_s,
            cycle_origin_s=self.cycle_origin_s,
            end_s=self.scenario.simulation.end_s,
        )
        out.insert(0, "scheme", self.scheme)
        return out

    def check_conservation(self) -> None:
        """Raise AssertionError unless generated = departed + in system and delays are >= 0."""
        v = self.vehicles
        n = len(self.arrivals)
        dep = v["departure_s"].notna().sum()
        inside = v["departure_s"].isna().sum()
        n += len(self.arrivals.through_t) if self.lane_one is not None else 0
        assert n == len(v) == dep + inside, "vehicle conservation violated"
        assert (v["queue_delay_s"].dropna() >= -1e-9).all(), "negative queue delay"


def vehicle_frame(
    table: ArrivalTable, st: LaneState, behaviour: Behaviour, mix: VehicleMix
) -> pd.DataFrame:
    """The per-vehicle records of a finished run (columns ``VEHICLE_COLUMNS``).

    ``behaviour`` gives the turn times and speeds of the delay's geometric part,
    ``mix`` the occupancies.  With through lanes (``st.approach``) their vehicles
    follow the bay's.
    """
    served = np.array(["", "green", "gap"], dtype=object)
    by = np.zeros(len(table), dtype=np.int8)
    by[st.served_by == GREEN] = 1
    by[st.served_by == GAP] = 2
    b = behaviour
    uturn = table.movement == 0
    start = st.departure
    queue_delay = start - table.t
    # a vehicle stops if it waited, or yielded (went in a gap): charge the stop
    stopped = (queue_delay > STOP_THRESHOLD_S) | (st.served_by == GAP)
    geo = np.where(
        stopped,
        geometric_delay_s(
            np.where(uturn, b.uturn_speed_m_s, b.left_speed_m_s),
            b.approach_speed_m_s,
            b.accel_m_s2,
            b.decel_m_s2,
        ),
        0.0,
    )
    geo = np.where(np.isnan(start), np.nan, geo)
    in_slot = st.slot > 0
    gap_start = np.where(uturn & (st.served_by == GAP), start, np.nan)
    platoon, place = platoons(gap_start, st.rules.uturn_gap_headway_s)
    ap = st.approach
    bay = pd.DataFrame(
        {
            "id": np.arange(len(table)),
            "movement": np.where(uturn, "uturn", "left"),
            "vehicle_type": np.where(table.heavy, "heavy", "car"),
            "length_m": st.length_m,
            "critical_gap_s": table.critical_gap_s,
            "arrival_s": table.t,
            "reached_s": st.reached,
            "first_slot": st.first_slot,
            "slot": st.slot,
            "departure_s": start,
            "slot_clear_s": np.where(in_slot, start + b.slot_hold_s, np.nan),
            "conflict_enter_s": np.where(uturn, start + b.conflict_entry_s, np.nan),
            "conflict_clear_s": np.where(uturn, start + b.turn_clear_s, np.nan),
            "queue_delay_s": queue_delay,
            "geometric_delay_s": geo,
            "control_delay_s": queue_delay + geo,
            "served_by": served[by],
            "platoon": platoon,
            "platoon_place": place,
            "spilled": st.spilled,
            "lane": np.zeros(len(table), dtype=np.int8),
            "bay_entry_s": table.t if ap is None else ap.entry,
            "occupancy": np.where(table.heavy, mix.heavy_occupancy, mix.car_occupancy),
        }
    )
    if ap is None:
        return bay
    return pd.concat([bay, _through_frame(table, ap, b, mix, len(table))], ignore_index=True)


def _through_frame(
    table: ArrivalTable, ap: ThroughLanes, b: Behaviour, mix: VehicleMix, first_id: int
) -> pd.DataFrame:
    """The through vehicles' records (columns ``VEHICLE_COLUMNS``)."""
    n = len(table.through_t)
    nan = np.full(n, np.nan)
    zero = np.zeros(n, dtype=np.int16)
    dep = ap.departure
    queue_delay = dep - table.through_t
    geo = geometric_delay_s(b.approach_speed_m_s, b.approach_speed_m_s, b.accel_m_s2, b.decel_m_s2)
    geo = np.where(queue_delay > STOP_THRESHOLD_S, geo, 0.0)
    geo = np.where(np.isnan(dep), np.nan, geo)
    return pd.DataFrame(
        {
            "id": first_id + np.arange(n),
            "movement": np.full(n, "through", dtype=object),
            "vehicle_type": np.where(table.through_heavy, "heavy", "car"),
            "length_m": ap.length_m,
            "critical_gap_s": nan,
            "arrival_s": table.through_t,
            "reached_s": nan,
            "first_slot": zero,
            "slot": zero,
            "departure_s": dep,
            "slot_clear_s": nan,
            "conflict_enter_s": nan,
            "conflict_clear_s": nan,
            "queue_delay_s": queue_delay,
            "geometric_delay_s": geo,
            "control_delay_s": queue_delay + geo,
            "served_by": np.where(np.isnan(dep), "", "green").astype(object),
            "platoon": np.full(n, -1, dtype=np.int64),
            "platoon_place": np.zeros(n, dtype=np.int64),
            "spilled": np.zeros(n, dtype=bool),
            "lane": ap.lane,
            "bay_entry_s": nan,
            "occupancy": np.where(table.through_heavy, mix.heavy_occupancy, mix.car_occupancy),
        }
    )
