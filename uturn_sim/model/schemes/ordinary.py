"""The ordinary scheme: one FIFO left-turn lane, everyone served at the stop line.

Left-turners go in the protected left-turn green at the saturation headway.
U-turners at the head go per ``uturn_when``: in the left-turn green (at the U-turn
saturation headway), in an acceptable gap of the conflicting flow (queued drivers a
follow-up headway apart, Harders), or both.  A left-turner at the head waiting for
its green blocks every U-turner behind it.  Reaction and move-up of queued drivers
are inside the measured follow-up and saturation headways (HCM); a driver reaching
an empty stop line with the gap already open starts a reaction time after it stops.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from uturn_sim.model.lane import GREEN, EventSink, LaneRules, LaneState
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.table import ArrivalTable

from .base import Scheme

if TYPE_CHECKING:  # pragma: no cover
    import simpy

__all__ = ["Ordinary", "StopLineLane", "stop_line"]


class StopLineLane(LaneState):
    """A lane served at the stop line only: the file moves up as its head leaves."""

    def plan_head(self, now: float) -> tuple[float, int]:
        """Start time (s) and service kind of the vehicle at the stop line."""
        v, r = self.lane[0], self.rules
        if not v.uturn:
            ready = max(now, v.ready, self.last_head_dep + r.left_headway_s)
            return self.table.left_green.next_start_scalar(ready), GREEN
        return self.plan_uturn(v, now, self.last_head_dep)

    def depart(self, pos: int, now: float, how: int) -> None:
        """The head starts its turn at ``now`` (s); the next car reaches the stop line."""
        self.remove(pos, now, how)
        if self.lane:
            self.lane[0].pos = 0  # places further back are not tracked: only the head is served
        if self.lane and math.isnan(self.reached[self.lane[0].i]):
            head = self.lane[0]
            self.reached[head.i] = now  # the queue's move-up is inside the headways
            self.emit(now, "reach", head.i, 0)
        self.left(now)


def stop_line(env: simpy.Environment, st: StopLineLane) -> Generator[simpy.Event, object, None]:
    """SimPy process serving the head of the lane.

    Every vehicle in the ordinary lane; only left-turners when a slot server takes
    the U-turners.
    """
    lane, slot_service = st.lane, st.linked
    while True:
        if not lane or (slot_service and lane[0].uturn):
            yield st.head.arm()
            continue
        t, how = st.plan_head(env.now)
        if math.isinf(t):
            yield st.head.arm()  # never served (no green for it): wait for a change
            continue
        if t > env.now:
            # nothing else removes a waiting head, so this plan stands
            yield env.timeout(t - env.now)
        st.depart(0, env.now, how)
        if slot_service:
            st.slots.fire()


@dataclass(frozen=True)
class Ordinary(Scheme):
    """The ordinary shared FIFO lane (see the module docstring)."""

    ignores: tuple[str, ...] = (
        "geometry.slots",
        "geometry.slot_length_m",
        "linked",
        "behaviour.linked_start_lag_s",
        "behaviour.move_up_speed_m_s",
        "vehicle_mix.heavy_uturn_slots",
    )

    def resolved_uturn_when(self, scn: Scenario) -> str:
        """``uturn_when`` if fixed, else the scenario's ``ordinary.uturn_when``."""
        return self.uturn_when or scn.ordinary.uturn_when

    def rules(self, scn: Scenario) -> LaneRules:
        """One service position (the stop line); U-turns a follow-up headway apart in gaps."""
        return LaneRules(
            **self.shared_rules(scn),
            slot_service=False,
            slots=1,
            uturn_gap_headway_s=scn.behaviour.follow_up_headway_s,
            strict_gap_entry=False,
            heavy_uturn_slots=1,
        )

    def make_lane(
        self, table: ArrivalTable, rules: LaneRules, sink: EventSink | None = None
    ) -> LaneState:
        """A lane served at the stop line."""
        return StopLineLane(table, rules, sink)

    def start(self, env: simpy.Environment, st: LaneState) -> None:
        """The stop-line server."""
        env.process(stop_line(env, st))

    def on_admit(self, st: LaneState, pos: int) -> None:
        """Wake the stop line when the lane was empty."""
        if pos == 0:
            st.head.fire()
