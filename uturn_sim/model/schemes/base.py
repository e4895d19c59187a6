"""What a scheme is: a named lane discipline plus its options.

A scheme turns a scenario into :class:`~uturn_sim.model.lane.LaneRules` (the numbers
the lane decides with) and starts the SimPy processes that serve the lane.  Named
variants (``ordinary_permitted``, ``linked_sanya`` …) are a scheme class with fixed
options, registered under their own name in :mod:`uturn_sim.model.schemes`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import simpy

    from uturn_sim.model.lane import EventSink, LaneRules, LaneState
    from uturn_sim.scenario.model import Scenario
    from uturn_sim.traffic.table import ArrivalTable

__all__ = ["UTURN_WHEN", "Scheme", "UTurnWhen"]

UTurnWhen = Literal["left_green", "any_safe_gap", "left_green_or_safe_gap"]
UTURN_WHEN: tuple[str, ...] = ("left_green", "any_safe_gap", "left_green_or_safe_gap")


@dataclass(frozen=True)
class Scheme:
    """A lane discipline.  Subclasses implement :meth:`rules` and :meth:`start`.

    Attributes
    ----------
    name
        Registry name, used in tables, CSVs and plots.
    uturn_when
        When U-turners may go; ``None`` takes the scenario's own option
        (``ordinary.uturn_when`` or ``linked.uturn_when``).
    label
        One line for tables and legends.
    """

    name: str
    uturn_when: UTurnWhen | None = None
    label: str = ""

    #: Scenario field prefixes (dotted) this scheme never reads: a sweep over one of them
    #: simulates the scheme once per replication and shares the result across cells.
    ignores: tuple[str, ...] = ()
    #: True if U-turners leave from numbered slots (the slot chart and slot columns apply).
    has_slots: bool = False

    def with_options(self, name: str, **options: object) -> Scheme:
        """A variant of this scheme under a new ``name`` with some options fixed."""
        return replace(self, name=name, **options)

    def resolved_uturn_when(self, scn: Scenario) -> str:
        """The U-turn rule this scheme applies in ``scn``."""
        raise NotImplementedError

    def rules(self, scn: Scenario) -> LaneRules:
        """The numbers the lane decides with under this scheme in ``scn``."""
        raise NotImplementedError

    def shared_rules(self, scn: Scenario) -> dict[str, object]:
        """The :class:`LaneRules` fields every scheme takes from ``scn`` the same way."""
        b, g = scn.behaviour, scn.geometry
        return {
            "scheme": self.name,
            "uturn_when": self.resolved_uturn_when(scn),
            "uturn_green_headway_s": b.uturn_saturation_headway_s,
            "left_headway_s": b.saturation_headway_s,
            "reaction_s": b.reaction_time_s,
            "accel_m_s2": b.accel_m_s2,
            "decel_m_s2": b.decel_m_s2,
            "creep_speed_m_s": b.move_up_speed_m_s,
            "slot_hold_s": b.slot_hold_s,
            "storage_m": g.storage_m,
            "car_length_m": g.jam_spacing_m,
            "heavy_length_m": scn.vehicle_mix.heavy_spacing_m,
            "slot_length_m": g.slot_length_m,
            "min_pet_s": b.min_pet_s,
            "conflict_entry_s": b.conflict_entry_s,
            "turn_clear_s": b.turn_clear_s,
            "through_lanes": scn.approach.through_lanes,
            "bay_opening_m": g.storage_m + scn.approach.taper_m,
            "through_headway_s": scn.demand.through.saturation_headway_s,
            "avoid_blocked_lane": scn.approach.avoid_blocked_lane,
        }

    def make_lane(
        self, table: ArrivalTable, rules: LaneRules, sink: EventSink | None = None
    ) -> LaneState:
        """The lane state this scheme's servers work on."""
        raise NotImplementedError

    def start(self, env: simpy.Environment, st: LaneState) -> None:
        """Start the SimPy processes that serve the lane ``st``.

        Whatever removes a vehicle from the lane must, once the file has moved up, call
        ``st.left(now)``: with the approach's through lanes that reopens the bay entrance
        (:meth:`~uturn_sim.model.lane.LaneState.left`).
        """
        raise NotImplementedError

    def on_admit(self, st: LaneState, pos: int) -> None:
        """Called after a vehicle joined the lane at position ``pos`` (wake servers)."""
        raise NotImplementedError

    def needs_uturn_green(self, scn: Scenario) -> bool:
        """True if U-turners may use the left-turn green under this scheme."""
        return self.resolved_uturn_when(scn) != "any_safe_gap"
