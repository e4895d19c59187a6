"""State, records and shared decisions of the studied left-turn lane (no SimPy here).

The lane is one single file of vehicles, front (stop line) first; nobody passes.
Position ``j`` of the file is ``j`` places from the stop line; in the linked scheme
positions ``0 .. slots-1`` are the numbered U-turn slots (slot number = position + 1).
Schemes (:mod:`uturn_sim.model.schemes`) decide who leaves when; this module keeps
the file, the records, the event sink and the gap/green lookups both schemes use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from uturn_sim.model.gaps import GapFinder
from uturn_sim.traffic.table import ArrivalTable

__all__ = ["GAP", "GREEN", "EventSink", "LaneRules", "LaneState", "Vehicle"]

GREEN, GAP = 1, 2  # how a vehicle was served: protected green, or an accepted gap
#: ``sink(t_s, event, vehicle, position)``; events: ``arrive``, ``move`` (starts moving
#: up to ``position``), ``reach`` (stopped at ``position``, ready), ``start`` (starts its
#: turn from ``position``)
EventSink = Callable[[float, str, int, int], Any]


@dataclass(frozen=True)
class LaneRules:
    """Everything the lane model decides with, in s, m, m/s and m/s².

    ``uturn_gap_headway_s`` spaces U-turn starts in gaps (follow-up headway t_f in the
    ordinary lane, start lag of standing slot cars in the linked lane);
    ``uturn_green_headway_s`` spaces U-turns in a protected green (U-turn saturation
    headway).  ``reaction_s`` is the time a driver needs to start after coming to rest
    in a gap that is already open, and to react to the car ahead moving.
    ``min_pet_s`` > 0 adds a safety margin to gap acceptance (:meth:`LaneState.plan_uturn`)
    with the turn's ``conflict_entry_s`` and ``turn_clear_s``; 0 leaves the critical gap
    alone.  ``through_lanes`` > 0 models the approach's through lanes
    (:mod:`uturn_sim.model.approach`): the bay opens ``bay_opening_m`` upstream of the
    stop line and through vehicles pass ``through_headway_s`` apart.
    """

    scheme: str
    slot_service: bool
    slots: int
    uturn_when: str
    uturn_gap_headway_s: float
    uturn_green_headway_s: float
    left_headway_s: float
    reaction_s: float
    accel_m_s2: float
    decel_m_s2: float
    creep_speed_m_s: float
    slot_hold_s: float
    strict_gap_entry: bool
    storage_m: float
    car_length_m: float
    heavy_length_m: float
    slot_length_m: float
    heavy_uturn_slots: int
    min_pet_s: float = 0.0
    conflict_entry_s: float = 0.0
    turn_clear_s: float = 0.0
    through_lanes: int = 0
    bay_opening_m: float = 0.0
    through_headway_s: float = 2.0
    avoid_blocked_lane: bool = False


class Vehicle:
    """One studied-approach vehicle in the lane.

    ``pos`` is the place it stands at or is moving to, ``ready`` when it is (or will
    be) at rest there, ``settle`` when it last came to rest, ``move_start`` and
    ``x_from`` (m from the stop line) describe its current move-up.
    """

    __slots__ = (
        "i",
        "leg_open",
        "length",
        "max_slot",
        "move_start",
        "pos",
        "ready",
        "seen",
        "settle",
        "tc",
        "uturn",
        "x_from",
    )

    def __init__(self, i: int, uturn: bool, length: float, tc: float, max_slot: int, now: float):
        self.i = i
        self.uturn = uturn
        self.length = length
        self.tc = tc
        self.max_slot = max_slot
        self.pos = 0
        self.ready = now
        self.settle = now
        self.move_start = -np.inf
        self.x_from = 0.0
        self.leg_open = False  # a move-up whose end may still be pushed further up
        self.seen = 0  # roll-ups of the far queue already counted in ``pos`` (linked lane)


class LaneState:
    """The lane, its records and its shared decisions for one run of one scheme."""

    def __init__(self, table: ArrivalTable, rules: LaneRules, sink: EventSink | None = None):
        self.table = table
        self.rules = rules
        self.sink = sink
        self.linked = rules.slot_service
        self.head: Any = None  # wake-up signals of the serving processes (set by the engine)
        self.slots: Any = None
        self.on_leave: Callable[[float], None] | None = None  # the bay entrance, if modelled
        self.approach: Any = None  # its ThroughLanes (set by the engine)
        self.gaps = GapFinder(table.conflict_t)
        self.lane: list[Vehicle] = []  # front (stop line) first
        self.planned: Vehicle | None = None  # the slot vehicle the slot server waits for
        self.lane_m = 0.0
        self.rolls = 0  # move-up waves that stopped at the look-ahead (linked lane)
        self.departed = 0  # vehicles that have left the file
        self.cut_departed = 0  # ``departed`` at the last such wave
        self.last_head_dep = -np.inf
        self.last_uturn_start = -np.inf
        self.last_uturn_how = 0
        n = len(table)
        self.departure = np.full(n, np.nan)
        self.reached = np.full(n, np.nan)
        self.slot = np.zeros(n, dtype=np.int16)
        self.first_slot = np.zeros(n, dtype=np.int16)
        self.served_by = np.zeros(n, dtype=np.int8)
        self.spilled = np.zeros(n, dtype=bool)
        self._uturn = table.movement == 0
        self.length_m = np.where(table.heavy, rules.heavy_length_m, rules.car_length_m)

    def emit(self, t: float, event: str, i: int, pos: int) -> None:
        """Send one event to the sink, if any."""
        if self.sink is not None:
            self.sink(t, event, i, pos)

    # -- changes ---------------------------------------------------------------------------
    def admit(self, i: int, now: float) -> int:
        """Vehicle ``i`` joins the back of the lane at ``now`` (s); returns its position.

        Arrival times are the unimpeded arrivals at the vehicle's stopping place
        (vertical queue); the vehicle stands there, ready, at ``now``.
        """
        r = self.rules
        length = float(self.length_m[i])
        uturn = bool(self._uturn[i])
        max_slot = r.heavy_uturn_slots if self.table.heavy[i] else r.slots
        v = Vehicle(i, uturn, length, float(self.table.critical_gap_s[i]), max_slot, now)
        pos = self.back_place()
        v.pos = pos
        v.seen = self.rolls
        self.spilled[i] |= self.lane_m + length > r.storage_m + 1e-9
        self.lane_m += length
        self.lane.append(v)
        self.emit(now, "arrive", i, pos)
        if pos == 0 or (self.linked and uturn and pos < r.slots):
            self.reached[i] = now
            self.emit(now, "reach", i, pos)
            if self.linked and uturn:
                self.first_slot[i] = pos + 1
        return pos

    def back_place(self) -> int:
        """The place a vehicle joining the back of the file stops at."""
        return len(self.lane)

    def has_room(self, length_m: float) -> bool:
        """True if a vehicle of ``length_m`` (m) joining the back stays within ``storage_m``.

        The file's queue space plus its own; an empty lane always takes it.
        """
        if not self.lane:
            return True
        return self.lane_m + length_m <= self.rules.storage_m + 1e-9

    def end_leg(self, v: Vehicle) -> None:
        """``v``'s current move-up is final: record it (and its first stop at a service place)."""
        if not v.leg_open:
            return
        v.leg_open = False
        self.emit(v.move_start, "move", v.i, v.pos)
        self.emit(v.ready, "reach", v.i, v.pos)
        at_service = v.pos == 0 or (self.linked and v.uturn and v.pos < self.rules.slots)
        if at_service and np.isnan(self.reached[v.i]):
            self.reached[v.i] = v.ready
            if self.linked and v.uturn:
                self.first_slot[v.i] = v.pos + 1

    def finish(self, end_s: float) -> None:
        """Close the records at the end of the run (``end_s``, s)."""
        for v in self.lane:
            if v.ready <= end_s:
                self.end_leg(v)

    def left(self, now: float) -> None:
        """A vehicle has left and the file has moved up at ``now`` (s): open the entrance."""
        if self.on_leave is not None:
            self.on_leave(now)

    def remove(self, pos: int, now: float, how: int) -> Vehicle:
        """The vehicle at ``pos`` starts its turn at ``now`` (s) and leaves the file."""
        self.end_leg(self.lane[pos])
        v = self.lane.pop(pos)
        self.departed += 1
        self.lane_m -= v.length
        i = v.i
        self.departure[i] = now
        self.served_by[i] = how
        if self.linked and v.uturn and v.pos < self.rules.slots:
            self.slot[i] = v.pos + 1
        self.emit(now, "start", i, v.pos)
        if pos == 0:
            self.last_head_dep = now
        if v.uturn:
            self.last_uturn_start = now
            self.last_uturn_how = how
        return v

    # -- decisions -------------------------------------------------------------------------
    def _green_start(self, t: float, window: float, lead: float) -> float:
        """Earliest start >= ``t`` (s) inside the U-turn green with a clear conflict area.

        No conflicting vehicle may pass within the ``window`` s beginning ``lead`` s
        before the start.
        """
        green, gaps = self.table.uturn_green, self.gaps
        for _ in range(10_000):
            g = green.next_start_scalar(t)
            if not np.isfinite(g):
                return np.inf
            s = gaps.next_start(g, window, -np.inf, 0.0, False, lead=lead)
            if s == g or (np.isfinite(s) and green.next_start_scalar(s) == s):
                return s
            if not np.isfinite(s):
                return np.inf
            t = s
        return np.inf

    def plan_uturn(self, v: Vehicle, now: float, last: float) -> tuple[float, int]:
        """Earliest U-turn start of ``v`` at or after ``now`` (s) and how it is served.

        ``last`` is the start of the U-turn it follows (s).  In a protected green the
        starts are a U-turn saturation headway apart; in gaps a follow-up headway
        (ordinary) or start lag (linked) apart, and a lag that was already open when
        ``v`` came to rest can be used only a reaction time after it did.  A gap start
        ``s`` needs no conflicting passage in ``[s, s + max(tc, turn_clear_s))``: the
        driver's critical gap, and never a turn the next conflicting vehicle would reach
        before it has cleared.  A protected-green start needs ``[s, s + turn_clear_s)``
        clear too (a U-turn begun at the end of the green, or against an unsignalized
        stream, waits).  With a safety margin ``m = min_pet_s > 0`` the windows become
        ``[s + min(0, conflict_entry_s - m), s + turn_clear_s + m)`` at least (a
        post-encroachment time of at least ``m`` before and after the turn).
        """
        r = self.rules
        start = max(now, v.ready)
        best, how = np.inf, 0
        # the turn occupies the conflict area until turn_clear_s after its start: no start
        # may let a conflicting vehicle arrive before it has cleared (plus the margin)
        m = r.min_pet_s
        clear = r.turn_clear_s + m
        lo = min(0.0, r.conflict_entry_s - m) if m > 0 else 0.0
        if r.uturn_when != "any_safe_gap":
            best = self._green_start(max(start, last + r.uturn_green_headway_s), clear - lo, -lo)
            how = GREEN
        if r.uturn_when != "left_green":
            s = self.gaps.next_start(
                max(start, last + r.uturn_gap_headway_s),
                max(v.tc, clear) - lo,
                v.settle,
                r.reaction_s,
                r.strict_gap_entry,
                lead=-lo,
            )
            if s < best:
                best, how = s, GAP
        return best, how
