"""The discrete-event SimPy model of one scheme on one arrival table.

Three processes share one :class:`~uturn_sim.lane.LaneState`: arrivals admit
vehicles at their precomputed times, the stop line serves the head of the lane,
and (linked scheme) the slot server lets slot vehicles U-turn in acceptable
gaps.  Processes only decide and wait; every lookup (green windows, next
acceptable gap) is precomputed NumPy.
"""

from __future__ import annotations

import math

import simpy

from uturn_sim.model.lane import LaneRules, LaneState
from uturn_sim.traffic.table import ArrivalTable

__all__ = ["run_lane"]


class _Wake:
    """A re-armable wake-up signal; firing it costs an event only if a process waits."""

    __slots__ = ("env", "event", "waiting")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.event = env.event()
        self.waiting = False

    def arm(self) -> simpy.Event:
        self.event = self.env.event()
        self.waiting = True
        return self.event

    def fire(self) -> None:
        if self.waiting:
            self.waiting = False
            self.event.succeed()


def _arrivals(env: simpy.Environment, st: LaneState, head: _Wake, slots: _Wake):
    times = st.table.t.tolist()
    linked, k = st.linked, st.rules.slots
    for i, t in enumerate(times):
        if t > env.now:
            yield env.timeout(t - env.now)
        pos = st.admit(i, env.now)
        if pos == 0:
            head.fire()
        if linked and pos < k:
            slots.fire()


def _stop_line(env: simpy.Environment, st: LaneState, head: _Wake, slots: _Wake):
    lane, linked = st.lane, st.linked
    while True:
        if not lane or (linked and lane[0].uturn):
            yield head.arm()
            continue
        t, how = st.plan_head(env.now)
        if math.isinf(t):
            yield head.arm()  # never served (no green for it): wait for a change
            continue
        if t > env.now:
            # nothing else removes a waiting head, so this plan stands
            yield env.timeout(t - env.now)
        st.depart(0, env.now, how)
        if linked:
            slots.fire()


def _slot_server(env: simpy.Environment, st: LaneState, head: _Wake, slots: _Wake):
    while True:
        pos = st.slot_candidate()
        if pos < 0:
            yield slots.arm()
            continue
        t, how = st.plan_slot(pos, env.now)
        if math.isinf(t):
            yield slots.arm()
            continue
        if t > env.now:
            # The plan stands: arrivals join behind the candidate, a left-turner leaving
            # ahead neither changes which U-turner is front-most nor its readiness, and
            # only this process starts U-turns.
            yield env.timeout(t - env.now)
            pos = st.lane.index(st.planned)  # left-turners ahead may have gone meanwhile
        st.depart(pos, env.now, how)
        if pos == 0:
            head.fire()


def run_lane(table: ArrivalTable, rules: LaneRules, end_s: float) -> LaneState:
    """Simulate one scheme on ``table`` until ``end_s`` (s); return the final state with records."""
    env = simpy.Environment()
    st = LaneState(table, rules)
    head, slots = _Wake(env), _Wake(env)
    env.process(_arrivals(env, st, head, slots))
    env.process(_stop_line(env, st, head, slots))
    if st.linked:
        env.process(_slot_server(env, st, head, slots))
    env.run(until=end_s)
    return st
