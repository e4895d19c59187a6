"""Demand per movement: hourly flows, headway models and time-varying profiles.

Also the movement names shared by the scenario model: the studied approach's
``uturn`` and ``left``, and the ``CONFLICTING`` streams that cross the U-turn's path
or enter its target leg.
"""

from __future__ import annotations

import math
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CONFLICTING",
    "MOVEMENTS",
    "STUDIED",
    "Demand",
    "Headway",
    "Movement",
    "Profile",
    "Stream",
    "StrictModel",
    "ThroughStream",
]

Movement = Literal["uturn", "left", "through", "opposing_through", "cross_right", "cross_left"]
#: the movements of the left-turn bay (the studied lane)
STUDIED: tuple[str, ...] = ("uturn", "left")
CONFLICTING: tuple[str, ...] = ("opposing_through", "cross_right", "cross_left")
MOVEMENTS: tuple[str, ...] = STUDIED + CONFLICTING
UTurnWhen = Literal["left_green", "any_safe_gap", "left_green_or_safe_gap"]

# strict: numbers must be numbers (no booleans, no numeric strings)
_FINITE = {"allow_inf_nan": False, "strict": True}


class StrictModel(BaseModel):
    """Base of every scenario section: unknown keys are errors, values frozen and finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, **_FINITE)


class Headway(StrictModel):
    """Headway model of an arrival stream.

    ``poisson``: exponential headways.  ``shifted_exponential``: exponential
    plus ``min_headway_s``.  ``cowan_m3``: a share ``bunched_share`` of vehicles
    follow at exactly ``min_headway_s``, the rest at ``min_headway_s`` plus an
    exponential (Cowan 1975).
    """

    model: Literal["poisson", "shifted_exponential", "cowan_m3"] = Field(
        "poisson", description="Headway distribution."
    )
    min_headway_s: float = Field(1.5, ge=0, le=10, description="Minimum headway, s.")
    bunched_share: float = Field(0.0, ge=0, lt=1, description="Cowan M3 bunched share (0..1).")


class Stream(StrictModel):
    """Demand of one movement."""

    flow_veh_h: float = Field(ge=0, description="Hourly demand of the movement, veh/h (all lanes).")
    lanes: int = Field(1, ge=1, le=6, description="Lanes carrying it (conflicting streams).")
    saturation_flow_veh_h_lane: float = Field(
        1800.0, gt=0, le=2600, description="Saturation flow per lane at its green, veh/h/lane."
    )
    signalized: bool = Field(True, description="False: passes the conflict area ungated.")
    headway: Headway = Field(default_factory=Headway, description="Headway model.")

    @model_validator(mode="after")
    def _flow_feasible(self) -> Self:
        per_lane = self.flow_veh_h / self.lanes
        if per_lane > 2400:
            raise ValueError(f"flow_veh_h is {per_lane:g} veh/h per lane; more than 2400 is absurd")
        h = self.headway
        if h.model != "poisson" and per_lane > 0:
            mean_h = 3600.0 / per_lane
            if h.min_headway_s >= mean_h:
                raise ValueError(
                    f"headway.min_headway_s ({h.min_headway_s:g} s) must be below the mean "
                    f"headway {mean_h:.3g} s of flow_veh_h {self.flow_veh_h:g} veh/h on "
                    f"{self.lanes} lane(s)"
                )
        return self


class ThroughStream(StrictModel):
    """The studied approach's through movement (modelled when ``approach.through_lanes`` > 0).

    Its lanes are ``approach.through_lanes``; each lane gets an equal share of
    ``flow_veh_h`` (independent arrivals per lane, the same headway model).
    """

    flow_veh_h: float = Field(
        900.0, ge=0, description="Hourly demand of the through movement, veh/h (all lanes)."
    )
    saturation_flow_veh_h_lane: float = Field(
        1800.0, gt=100, le=2600, description="Saturation flow per through lane, veh/h/lane."
    )
    headway: Headway = Field(default_factory=Headway, description="Headway model (per lane).")

    @property
    def saturation_headway_s(self) -> float:
        """Through saturation headway per lane, s."""
        return 3600.0 / self.saturation_flow_veh_h_lane


class Profile(StrictModel):
    """Piecewise-constant demand factors (e.g. 15-minute rates / hourly rate).

    Interval 0 starts at the beginning of the measured period; the warm-up uses
    the first factor and times after the last interval the last factor.
    """

    interval_s: float = Field(900.0, gt=0, le=86400, description="Length of one interval, s.")
    factors: list[float] = Field(
        min_length=1, max_length=100_000, description="Rate factor per interval (x flow_veh_h)."
    )
    applies_to: list[Movement] = Field(
        default_factory=lambda: ["uturn", "left"], description="Movements the profile scales."
    )

    @model_validator(mode="after")
    def _factors_ok(self) -> Self:
        for i, f in enumerate(self.factors):
            if not (0 <= f <= 10) or not math.isfinite(f):
                raise ValueError(f"factors[{i}] = {f!r}; each factor must be within 0..10")
        return self


class Demand(StrictModel):
    """Hourly demands of the studied and conflicting movements, veh/h."""

    uturn: Stream = Field(
        default_factory=lambda: Stream(flow_veh_h=220), description="Studied approach U-turns."
    )
    left: Stream = Field(
        default_factory=lambda: Stream(flow_veh_h=80), description="Studied approach left turns."
    )
    through: ThroughStream = Field(
        default_factory=ThroughStream,
        description="Studied approach through movement (used when approach.through_lanes > 0).",
    )
    opposing_through: Stream = Field(
        default_factory=lambda: Stream(flow_veh_h=900, lanes=2),
        description="Opposing through movement (conflicting).",
    )
    cross_right: Stream = Field(
        default_factory=lambda: Stream(flow_veh_h=200),
        description="Cross street right turn into the U-turn's target leg (conflicting).",
    )
    cross_left: Stream = Field(
        default_factory=lambda: Stream(flow_veh_h=150),
        description="Cross street left turn into the U-turn's target leg (conflicting).",
    )
    profile: Profile | None = Field(None, description="Optional time-varying demand profile.")

    def stream(self, movement: str) -> Stream:
        """The :class:`Stream` of ``movement`` (``through``: a :class:`ThroughStream`)."""
        return getattr(self, movement)
