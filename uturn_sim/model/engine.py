"""The SimPy run of one scheme on one arrival table.

The arrival process admits vehicles at their precomputed times; the scheme starts
the processes that serve the lane (:mod:`uturn_sim.model.schemes`).  Processes only
decide and wait; every lookup (green windows, next acceptable gap) is precomputed
NumPy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from uturn_sim.model.approach import ThroughLanes
from uturn_sim.model.lane import EventSink, LaneRules, LaneState
from uturn_sim.traffic.table import ArrivalTable

if TYPE_CHECKING:  # pragma: no cover
    from uturn_sim.model.schemes.base import Scheme

__all__ = ["Wake", "run_lane"]


class Wake:
    """A re-armable wake-up signal; firing it costs an event only if a process waits."""

    __slots__ = ("env", "event", "waiting")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.event = env.event()
        self.waiting = False

    def arm(self) -> simpy.Event:
        """A fresh event to wait on."""
        self.event = self.env.event()
        self.waiting = True
        return self.event

    def fire(self) -> None:
        """Wake the waiting process, if any."""
        if self.waiting:
            self.waiting = False
            self.event.succeed()


def _arrivals(env: simpy.Environment, st: LaneState, scheme: Scheme):
    times = st.table.t.tolist()
    for i, t in enumerate(times):
        if t > env.now:
            yield env.timeout(t - env.now)
        scheme.on_admit(st, st.admit(i, env.now))


def _approach_arrivals(env: simpy.Environment, ap: ThroughLanes):
    times, codes = ap.arrival_t.tolist(), ap.arrival_code.tolist()
    for t, code in zip(times, codes, strict=True):
        if t > env.now:
            yield env.timeout(t - env.now)
        ap.arrive(code, env.now)


def _through_server(env: simpy.Environment, ap: ThroughLanes, k: int):
    """Through vehicles at the head of lane ``k + 1`` pass the stop line (a bay car waits)."""
    file = ap.files[k]
    while True:
        if not file or file[0] < 0:
            yield ap.wakes[k].arm()
            continue
        t = ap.plan_head(k, env.now)
        if math.isinf(t):
            yield ap.wakes[k].arm()  # no through green: never served
            continue
        if t > env.now:
            # nothing but this process removes a through head, and its plan stands
            yield env.timeout(t - env.now)
        ap.depart_head(k, env.now)


def run_lane(
    table: ArrivalTable,
    scheme: Scheme,
    rules: LaneRules,
    end_s: float,
    sink: EventSink | None = None,
) -> LaneState:
    """Simulate ``scheme`` on ``table`` until ``end_s`` (s); return the final lane state.

    Parameters
    ----------
    table
        The replication's arrival table.
    scheme
        The scheme (see :func:`uturn_sim.model.schemes.get_scheme`).
    rules
        ``scheme.rules(scenario)``.
    end_s
        Simulated horizon, s.
    sink
        Optional ``sink(t_s, event, vehicle, position)`` receiving every lane event.

    With ``rules.through_lanes`` > 0 the bay's vehicles reach it through lane 1 of the
    approach (:mod:`uturn_sim.model.approach`); the returned state's ``approach``
    holds the through records and lane 1's blocking log.
    """
    env = simpy.Environment()
    st = scheme.make_lane(table, rules, sink)
    st.head, st.slots = Wake(env), Wake(env)
    ap = None
    if rules.through_lanes > 0:
        ap = st.approach = ThroughLanes(table, st, scheme.on_admit)
        ap.wakes = [Wake(env) for _ in range(ap.lanes)]
        st.on_leave = ap.try_enter
        env.process(_approach_arrivals(env, ap))
    else:
        env.process(_arrivals(env, st, scheme))
    scheme.start(env, st)
    if ap is not None:  # the lanes nothing else touches are served after the run
        for k in range(ap.first_alone):
            env.process(_through_server(env, ap, k))
    env.run(until=end_s)
    if ap is not None:
        ap.serve_alone(end_s)
    st.finish(end_s)
    return st
