"""The multi-car linked U-turn scheme (多车联动式掉头): numbered U-turn slots.

The rule (Liaocheng traffic police, 2025): a U-turner takes the foremost free slot
("前不留空", no empty slot left ahead), a left-turner waiting in a slot ahead does not
block it, and it U-turns when the opposing lanes are safe (``uturn_when``).

The motions (``docs/model.md``):

* An arriving U-turner stops in the foremost free place of the single file; places
  ``0 .. slots-1`` are the slots.  Left-turners wait for the left-turn green at the
  stop line.
* Slot U-turners go front-most first.  Cars already standing in slots when a gap is
  usable start ``linked_start_lag_s`` apart; a U-turner keeps its slot for
  ``slot_hold_s`` after it starts (swinging out).
* When a car leaves outside a protected green, the cars behind compact slot by slot:
  each reacts ``reaction_time_s`` after the car ahead starts to move (or turn), then
  drives from standstill to standstill (accelerate, creep at most at
  ``move_up_speed_m_s``, brake) to its new place, which it enters no earlier than
  the slot is free.  A car standing in a slot that goes at the start lag anyway does
  not move up first (it turns from its slot, and holds up the cars behind it).
  A car that stops in a slot with the gap already open starts a reaction time later.
* In a protected left-turn (U-turn) green the queue discharges as a flowing queue:
  U-turns a U-turn saturation headway apart, no stops in the slots.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from uturn_sim.model.kinematics import move_time_s
from uturn_sim.model.lane import GAP, GREEN, EventSink, LaneRules, LaneState, Vehicle
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.table import ArrivalTable

from .base import Scheme
from .ordinary import StopLineLane, stop_line

if TYPE_CHECKING:  # pragma: no cover
    import simpy

__all__ = ["MOVE_UP_LOOKAHEAD", "Linked", "SlotLane", "slot_server"]

#: the move-up chain is simulated for the slots and this many places behind them; cars
#: further back roll up one place per departure without it (they reach a slot only after
#: that many more departures, long after such a move has ended)
MOVE_UP_LOOKAHEAD = 8


class SlotLane(StopLineLane):
    """The linked lane: slot U-turners leave from their slots; the file compacts."""

    def place_x(self, pos: int) -> float:
        """Distance of place ``pos`` from the stop line, m."""
        r = self.rules
        if pos < r.slots:
            return pos * r.slot_length_m
        return r.slots * r.slot_length_m + (pos - r.slots) * r.car_length_m

    def place_of(self, v: Vehicle) -> int:
        """``v``'s place, counting the roll-ups it made while far back in the queue.

        A wave that reaches the look-ahead compacts the file behind it: a car that was
        far back then stands at its file index of that moment, ``i - departed`` (every
        car that left so far was ahead of it: nobody passes a car behind the slots).
        """
        return v.pos if v.seen == self.rolls else v.i - self.cut_departed

    def back_place(self) -> int:
        """Right behind the last car (a hole left by a car that turned from its slot stays)."""
        return self.place_of(self.lane[-1]) + 1 if self.lane else 0

    def has_room(self, length_m: float) -> bool:
        """Room in the bay for ``length_m`` (m), counted where the file stands.

        Its queue space, and the back place (slots are ``slot_length_m`` long; a hole
        left by a car that turned from its slot stays until the file compacts) plus
        ``length_m``, within ``storage_m``.
        """
        if not super().has_room(length_m):
            return False
        return not self.lane or (
            self.place_x(self.back_place()) + length_m <= self.rules.storage_m + 1e-9
        )

    def slot_candidate(self) -> int:
        """File index of the front-most U-turner if it is in a slot it may use, else -1."""
        lane, k = self.lane, self.rules.slots
        for idx, v in enumerate(lane):
            if v.pos >= k:
                return -1
            if v.uturn:
                return idx if v.pos < v.max_slot else -1
        return -1

    def plan_slot(self, idx: int, now: float) -> tuple[float, int]:
        """Start time (s) and service kind of the slot U-turner at file index ``idx``."""
        v = self.planned = self.lane[idx]
        return self.plan_uturn(v, now, self.last_uturn_start)

    def depart(self, pos: int, now: float, how: int) -> None:
        """The vehicle at file index ``pos`` starts its turn at ``now`` (s); the file compacts."""
        gone = self.remove(pos, now, how)
        self._compact(pos, now, how, gone)
        self.left(now)

    def _goes_at_lag(self, f: Vehicle, now: float) -> bool:
        """True if standing slot U-turner ``f`` starts within the start lag from now."""
        r = self.rules
        if f.ready > now or f.pos >= r.slots or f.pos >= f.max_slot:
            return False
        t, how = self.plan_uturn(f, now, self.last_uturn_start)
        return how == GAP and t <= now + r.uturn_gap_headway_s + 1e-9

    def _compact(self, p: int, now: float, how: int, gone: Vehicle) -> None:
        r, lane = self.rules, self.lane
        flowing = how == GREEN  # a protected green: the queue rolls up without stopping
        prev = now  # when the car ahead started to move (or to turn), s
        free_at = now + (r.slot_hold_s if gone.uturn and gone.pos < r.slots else 0.0)
        uturn_ahead = False
        limit = r.slots + MOVE_UP_LOOKAHEAD
        cut = False  # the wave reached the look-ahead: every car behind rolls up one place
        for j in range(p, len(lane)):
            if j >= limit:
                cut = True
                break
            f = lane[j]
            if f.seen != self.rolls:  # it rolled up while far back
                f.pos, f.seen = self.place_of(f), self.rolls
            if f.pos == j:
                break  # already in place: nobody behind it can move either
            if f.uturn and not uturn_ahead and not flowing and self._goes_at_lag(f, now):
                break  # turns from its slot at the start lag; the cars behind wait for it
            uturn_ahead = uturn_ahead or f.uturn
            if flowing:
                self.end_leg(f)
                f.move_start, f.pos, f.ready = now, j, max(f.ready, now)
            else:
                if f.ready > now and f.leg_open:  # still on its way: same move, further up
                    start, x0 = f.move_start, f.x_from
                else:
                    self.end_leg(f)
                    start, x0 = max(f.ready, prev + r.reaction_s), self.place_x(f.pos)
                    f.move_start, f.x_from = start, x0
                arrive = start + move_time_s(
                    x0 - self.place_x(j), r.accel_m_s2, r.decel_m_s2, r.creep_speed_m_s
                )
                if j == p:
                    arrive = max(arrive, free_at)
                f.pos, f.ready, f.settle = j, arrive, arrive
                prev = start
            f.leg_open = True
        if cut:  # the cars behind the look-ahead roll up to their file index
            self.rolls += 1
            self.cut_departed = self.departed
            for j in range(limit):
                lane[j].seen = self.rolls


def slot_server(env: simpy.Environment, st: SlotLane) -> Generator[simpy.Event, object, None]:
    """SimPy process starting the U-turns of slot vehicles, front-most first."""
    while True:
        idx = st.slot_candidate()
        if idx < 0:
            yield st.slots.arm()
            continue
        t, how = st.plan_slot(idx, env.now)
        if math.isinf(t):
            yield st.slots.arm()
            continue
        if t > env.now:
            # The plan stands: arrivals join behind the candidate; a left-turner leaving
            # ahead in its green lets the file roll up without changing the candidate's
            # readiness; only this process starts U-turns.
            yield env.timeout(t - env.now)
            idx = st.lane.index(st.planned)  # left-turners ahead may have gone meanwhile
        st.depart(idx, env.now, how)
        st.head.fire()


@dataclass(frozen=True)
class Linked(Scheme):
    """The linked lane with ``geometry.slots`` numbered slots (see the module docstring)."""

    ignores: tuple[str, ...] = ("ordinary", "behaviour.follow_up_headway_s")
    has_slots: bool = True

    def resolved_uturn_when(self, scn: Scenario) -> str:
        """``uturn_when`` if fixed, else the scenario's ``linked.uturn_when``."""
        return self.uturn_when or scn.linked.uturn_when

    def rules(self, scn: Scenario) -> LaneRules:
        """``slots`` service places; slot U-turns a start lag apart; kinematic move-up."""
        return LaneRules(
            **self.shared_rules(scn),
            slot_service=True,
            slots=scn.geometry.slots,
            uturn_gap_headway_s=scn.behaviour.linked_start_lag_s,
            strict_gap_entry=scn.linked.strict_gap_entry,
            heavy_uturn_slots=scn.vehicle_mix.heavy_uturn_slots,
        )

    def make_lane(
        self, table: ArrivalTable, rules: LaneRules, sink: EventSink | None = None
    ) -> LaneState:
        """A lane with numbered slots."""
        return SlotLane(table, rules, sink)

    def start(self, env: simpy.Environment, st: LaneState) -> None:
        """The stop line (left-turners) and the slot server (U-turners)."""
        env.process(stop_line(env, st))
        env.process(slot_server(env, st))

    def on_admit(self, st: LaneState, pos: int) -> None:
        """Wake the stop line when the lane was empty, the slot server when a slot filled."""
        if pos == 0:
            st.head.fire()
        if pos < st.rules.slots:
            st.slots.fire()
