"""The multi-car linked U-turn scheme (多车联动式掉头): numbered U-turn slots.

An arriving U-turner stops in the foremost free slot it can reach (slots held by
waiting left-turners ahead are skipped, not blocking) or queues behind the slots.
A slot server lets the front-most slot U-turner go when ``uturn_when`` allows
(Liaocheng: any phase with an acceptable gap); several slot vehicles use one gap a
start lag apart; followers move up into freed slots.  Left-turners still wait for
the left-turn green at the stop line.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import simpy

from uturn_sim.model.lane import LaneRules, LaneState
from uturn_sim.scenario.model import Scenario

from .base import Scheme
from .ordinary import stop_line

__all__ = ["Linked", "slot_server"]


def slot_server(env: simpy.Environment, st: LaneState) -> Generator[simpy.Event, object, None]:
    """SimPy process starting the U-turns of slot vehicles, front-most first."""
    while True:
        pos = st.slot_candidate()
        if pos < 0:
            yield st.slots.arm()
            continue
        t, how = st.plan_slot(pos, env.now)
        if math.isinf(t):
            yield st.slots.arm()
            continue
        if t > env.now:
            # The plan stands: arrivals join behind the candidate, a left-turner leaving
            # ahead neither changes which U-turner is front-most nor its readiness, and
            # only this process starts U-turns.
            yield env.timeout(t - env.now)
            pos = st.lane.index(st.planned)  # left-turners ahead may have gone meanwhile
        st.depart(pos, env.now, how)
        if pos == 0:
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
        """``slots`` service positions; slot U-turns a start lag apart."""
        b, g = scn.behaviour, scn.geometry
        return LaneRules(
            scheme=self.name,
            slot_service=True,
            slots=g.slots,
            uturn_when=self.resolved_uturn_when(scn),
            uturn_gap_headway_s=b.linked_start_lag_s,
            uturn_green_headway_s=b.linked_start_lag_s,
            left_headway_s=b.saturation_headway_s,
            move_up_s_per_m=1.0 / b.move_up_speed_m_s,
            strict_gap_entry=scn.linked.strict_gap_entry,
            storage_m=g.storage_m,
            car_length_m=g.jam_spacing_m,
            heavy_length_m=scn.vehicle_mix.heavy_spacing_m,
            slot_length_m=g.slot_length_m,
            heavy_uturn_slots=scn.vehicle_mix.heavy_uturn_slots,
        )

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
