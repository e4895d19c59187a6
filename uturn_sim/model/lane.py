"""Rules and state of the studied left-turn lane, shared by every scheme (no SimPy here).

The lane is one single file of vehicles, front (stop line) first; nobody passes.
Positions ``0 .. slots-1`` are the numbered U-turn slots (slot number = position
+ 1).  The ordinary scheme is the same lane with one service position (the stop
line) and U-turns served there; the linked scheme lets a U-turner in any slot
leave the file in an acceptable gap, so a left-turner waiting for its green in a
slot ahead does not block it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from uturn_sim.model.gaps import GapFinder
from uturn_sim.traffic.table import ArrivalTable

__all__ = ["GAP", "GREEN", "EventSink", "LaneRules", "LaneState"]

GREEN, GAP = 1, 2  # how a vehicle was served: protected green, or an accepted gap
#: ``sink(t_s, event, vehicle, position)``; events: ``arrive``, ``reach`` (stopped at the
#: stop line or in its slot, ready to go), ``start`` (starts its turn, leaves the lane)
EventSink = Callable[[float, str, int, int], Any]
# Move-up delays are tracked for the first ``slots + MOVE_UP_LOOKAHEAD`` positions.
MOVE_UP_LOOKAHEAD = 8


@dataclass(frozen=True)
class LaneRules:
    """Everything the lane model needs to decide, in s and m.

    ``uturn_gap_headway_s`` spaces U-turn starts in gaps (follow-up headway t_f
    in the ordinary lane, start lag in the linked lane); ``uturn_green_headway_s``
    spaces U-turns in a protected green.
    """

    scheme: str
    slot_service: bool
    slots: int
    uturn_when: str
    uturn_gap_headway_s: float
    uturn_green_headway_s: float
    left_headway_s: float
    move_up_s_per_m: float
    strict_gap_entry: bool
    storage_m: float
    car_length_m: float
    heavy_length_m: float
    slot_length_m: float
    heavy_uturn_slots: int


class Vehicle:
    """One studied-approach vehicle in the lane."""

    __slots__ = ("i", "length", "max_slot", "settle", "tc", "uturn")

    def __init__(self, i: int, uturn: bool, length: float, tc: float, max_slot: int, now: float):
        self.i = i
        self.uturn = uturn
        self.length = length
        self.tc = tc
        self.max_slot = max_slot
        self.settle = now  # when it comes to rest at its current position


class LaneState:
    """The lane, its decisions and its records for one run of one scheme."""

    def __init__(self, table: ArrivalTable, rules: LaneRules, sink: EventSink | None = None):
        self.table = table
        self.rules = rules
        self.sink = sink
        self.linked = rules.slot_service
        self.head: Any = None  # wake-up signals of the serving processes (set by the scheme)
        self.slots: Any = None
        self.gaps = GapFinder(table.conflict_t)
        self.lane: deque[Vehicle] = deque()  # front (stop line) first
        self.planned: Vehicle | None = None  # the slot vehicle the slot server waits for
        self.lane_m = 0.0
        self.last_head_dep = -np.inf
        self.last_uturn_start = -np.inf
        n = len(table)
        self.departure = np.full(n, np.nan)
        self.reached = np.full(n, np.nan)
        self.slot = np.zeros(n, dtype=np.int16)
        self.served_by = np.zeros(n, dtype=np.int8)
        self.spilled = np.zeros(n, dtype=bool)
        self._uturn = table.movement == 0
        self.length_m = np.where(table.heavy, rules.heavy_length_m, rules.car_length_m)

    # -- changes ---------------------------------------------------------------------------
    def admit(self, i: int, now: float) -> int:
        """Vehicle ``i`` joins the back of the lane at ``now`` (s); returns its position."""
        r = self.rules
        length = float(self.length_m[i])
        uturn = bool(self._uturn[i])
        max_slot = r.heavy_uturn_slots if self.table.heavy[i] else r.slots
        v = Vehicle(i, uturn, length, float(self.table.critical_gap_s[i]), max_slot, now)
        pos = len(self.lane)
        self.spilled[i] = self.lane_m + length > r.storage_m + 1e-9
        self.lane_m += length
        self.lane.append(v)
        if self.sink is not None:
            self.sink(now, "arrive", i, pos)
        if pos == 0 or (self.linked and uturn and pos < r.slots):
            self._reach(i, now, pos)
        if self.linked and uturn and pos < r.slots:
            self.slot[i] = pos + 1
        return pos

    def _reach(self, i: int, t: float, pos: int) -> None:
        self.reached[i] = t
        if self.sink is not None:
            self.sink(t, "reach", i, pos)

    def depart(self, pos: int, now: float, how: int) -> None:
        """The vehicle at ``pos`` leaves at ``now`` (s); followers move up."""
        lane, r = self.lane, self.rules
        if pos == 0:
            v = lane.popleft()
        else:
            v = lane[pos]
            del lane[pos]
        self.lane_m -= v.length
        i = v.i
        self.departure[i] = now
        self.served_by[i] = how
        if self.sink is not None:
            self.sink(now, "start", i, pos)
        if pos == 0:
            self.last_head_dep = now
        if v.uturn:
            self.last_uturn_start = now
        if lane and pos == 0 and not (self.linked and lane[0].uturn):
            if np.isnan(self.reached[lane[0].i]):
                self._reach(lane[0].i, now, 0)  # reached the stop line
        if self.linked:
            k = r.slots
            pace = r.move_up_s_per_m
            # followers that were queued behind the slots drive up one place: into slot k
            # (one slot length) or along the queue (their own queue spacing)
            for j in range(max(pos, k - 1), min(len(lane), k + MOVE_UP_LOOKAHEAD)):
                w = lane[j]
                step = r.slot_length_m if j < k else w.length
                w.settle = max(w.settle, now) + step * pace
                if j < k and w.uturn and np.isnan(self.reached[w.i]):
                    self._reach(w.i, w.settle, j)
                    self.slot[w.i] = j + 1

    # -- decisions -------------------------------------------------------------------------
    def plan_head(self, now: float) -> tuple[float, int]:
        """Start time (s) and service kind of the vehicle at the stop line."""
        v, r, t = self.lane[0], self.rules, self.table
        if not v.uturn:
            ready = max(now, self.last_head_dep + r.left_headway_s)
            return t.left_green.next_start_scalar(ready), GREEN
        return self._plan_uturn(v, now, self.last_head_dep)

    def slot_candidate(self) -> int:
        """Position of the front-most U-turner within the slots (-1 if none or not allowed)."""
        lane = self.lane
        for pos in range(min(self.rules.slots, len(lane))):
            v = lane[pos]
            if v.uturn:
                return pos if pos < v.max_slot else -1
        return -1

    def plan_slot(self, pos: int, now: float) -> tuple[float, int]:
        """Start time (s) and service kind of the linked slot vehicle at ``pos``."""
        v = self.planned = self.lane[pos]
        return self._plan_uturn(v, max(now, v.settle), self.last_uturn_start)

    def _plan_uturn(self, v: Vehicle, now: float, last: float) -> tuple[float, int]:
        """Earliest start at or after ``now`` (s), ``last`` being the previous start it follows."""
        r = self.rules
        best, how = np.inf, 0
        if r.uturn_when != "any_safe_gap":
            best = self.table.uturn_green.next_start_scalar(
                max(now, last + r.uturn_green_headway_s)
            )
            how = GREEN
        if r.uturn_when != "left_green":
            ready = max(now, last + r.uturn_gap_headway_s)
            s = self.gaps.next_start(ready, v.tc, v.settle, r.strict_gap_entry)
            if s < best:
                best, how = s, GAP
        return best, how
