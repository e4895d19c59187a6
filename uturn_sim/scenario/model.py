"""Typed scenario model: every number a run needs, in engineers' units.

The model only holds and checks values; reading YAML, line numbers and the
embedded default live in :mod:`uturn_sim.loading`.  Field names carry their unit
(``_s`` seconds, ``_m`` metres, ``_veh_h`` vehicles per hour, ``_m_s`` metres per
second).  Defaults are those of ``docs/model.md`` (Liuyuan Rd / Longshan
Middle Rd, am school peak); every one of them is an assumption to be replaced by
field values where known.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from uturn_sim.scenario.demand import (
    CONFLICTING,
    MOVEMENTS,
    STUDIED,
    Demand,
    Headway,
    Movement,
    Profile,
    Stream,
    StrictModel,
    ThroughStream,
)

__all__ = [
    "APPROACH_LIMIT_M",
    "CONFLICTING",
    "MOVEMENTS",
    "STUDIED",
    "Approach",
    "Behaviour",
    "CriticalGap",
    "Demand",
    "Geometry",
    "Headway",
    "Linked",
    "Ordinary",
    "Phase",
    "Profile",
    "Scenario",
    "Signal",
    "Simulation",
    "Stream",
    "ThroughStream",
    "Uncertainty",
    "VehicleMix",
]

UTurnWhen = Literal["left_green", "any_safe_gap", "left_green_or_safe_gap"]


class Simulation(StrictModel):
    """Run length, warm-up and seeding."""

    duration_s: float = Field(3600.0, gt=0, le=31 * 86400, description="Measured period, s.")
    warmup_s: float = Field(
        900.0, ge=0, le=86400, description="Warm-up before the measured period, s (not measured)."
    )
    cooldown_s: float = Field(
        900.0,
        ge=0,
        le=86400,
        description="Run-on after the measured period so its vehicles can leave, s.",
    )
    seed: int = Field(20250901, ge=0, description="Root seed of the run's SeedSequence.")
    replications: int = Field(10, ge=1, le=100_000, description="Replications for compare.")

    @property
    def end_s(self) -> float:
        """Simulated horizon, s: warm-up + measured period + cool-down."""
        return self.warmup_s + self.duration_s + self.cooldown_s


class Geometry(StrictModel):
    """The studied approach's left-turn lane."""

    storage_m: float = Field(60.0, gt=0, le=2000, description="Left-turn lane storage, m.")
    jam_spacing_m: float = Field(7.5, gt=2, le=30, description="Queue spacing per car, m.")
    slots: int = Field(
        4, ge=1, le=30, description="Linked U-turn slots, numbered from 1 at the stop line."
    )
    slot_length_m: float = Field(7.5, gt=2, le=30, description="Length of one U-turn slot, m.")

    @model_validator(mode="after")
    def _slots_fit(self) -> Self:
        need = self.slots * self.slot_length_m
        if need > self.storage_m + 1e-9:
            raise ValueError(
                f"slots ({self.slots} x {self.slot_length_m} m = {need:g} m) do not fit in "
                f"storage_m ({self.storage_m:g} m)"
            )
        return self


#: upper bound of the bay opening's distance from the stop line, m
APPROACH_LIMIT_M = 2000.0


class Approach(StrictModel):
    """The rest of the studied approach: its through lanes and the bay's entrance.

    ``through_lanes`` = 0 models the left-turn bay alone (a bay queue longer than its
    storage is only flagged ``spilled``).  With through lanes, the bay opens
    ``geometry.storage_m + taper_m`` upstream of the stop line: a bay vehicle enters
    only when the through lane next to the bay is not queued past the opening and the
    bay has room; otherwise it waits in that through lane and blocks it.
    """

    through_lanes: int = Field(
        0,
        ge=0,
        le=6,
        description="Through lanes of the studied approach (0: model the left-turn bay "
        "alone); lane 1 is next to the bay.",
    )
    taper_m: float = Field(
        0.0,
        ge=0,
        le=200,
        description="Taper upstream of the bay's full-width storage that a car can already "
        "enter, m (0: assumption, pessimistic).",
    )
    avoid_blocked_lane: bool = Field(
        False,
        description="A through driver bound for lane 1 takes lane 2 when a bay vehicle stands "
        "in lane 1 and lane 2's queue is shorter (false: drivers keep the lane they drew, "
        "assumption; on the default it is the less favourable choice for the linked lane).",
    )


class Phase(StrictModel):
    """One signal phase: green, then amber, then all-red."""

    name: str = Field(min_length=1, max_length=80, description="Phase name (unique).")
    green_s: float = Field(gt=0, le=600, description="Green, s.")
    amber_s: float = Field(3.0, ge=0, le=10, description="Amber (yellow), s.")
    all_red_s: float = Field(2.0, ge=0, le=30, description="All-red clearance, s.")
    serves: list[Movement] = Field(default_factory=list, description="Movements given this green.")


class Signal(StrictModel):
    """Fixed-time signal plan."""

    cycle_s: float = Field(130.0, gt=0, le=600, description="Cycle length, s.")
    offset_s: float = Field(0.0, ge=0, description="Start of the first phase's green, s.")
    startup_lost_time_s: float = Field(2.0, ge=0, le=10, description="Start-up lost time, s.")
    end_gain_s: float = Field(
        2.0, ge=0, le=10, description="Effective green extending into the amber, s."
    )
    phases: list[Phase] = Field(
        min_length=1, description="Phases in order; green + amber + all-red must sum to cycle_s."
    )

    @model_validator(mode="after")
    def _phases_fit(self) -> Self:
        total = sum(p.green_s + p.amber_s + p.all_red_s for p in self.phases)
        if abs(total - self.cycle_s) > 1e-6:
            raise ValueError(
                f"phases (green + amber + all_red) sum to {total:g} s but cycle_s is "
                f"{self.cycle_s:g} s; they must be equal"
            )
        if self.offset_s >= self.cycle_s:
            raise ValueError(
                f"offset_s ({self.offset_s:g} s) must be < cycle_s ({self.cycle_s:g} s)"
            )
        for i, p in enumerate(self.phases):
            if self.end_gain_s > p.amber_s + p.all_red_s:
                raise ValueError(
                    f"end_gain_s ({self.end_gain_s:g} s) exceeds phases[{i}] ({p.name!r}) "
                    f"amber + all-red ({p.amber_s + p.all_red_s:g} s)"
                )
            if p.green_s - self.startup_lost_time_s + self.end_gain_s <= 0:
                raise ValueError(
                    f"phases[{i}] ({p.name!r}) has no effective green: green_s {p.green_s:g} s "
                    f"<= startup_lost_time_s - end_gain_s"
                )
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ValueError(f"phase names must be unique, got {names}")
        return self

    def effective_green_s(self, movement: str) -> float:
        """Total effective green per cycle for ``movement``, s.

        A movement served by consecutive phases keeps its green through the
        intergreen between them and loses the start-up time only once (as
        :func:`uturn_sim.signal.green_windows` does).
        """
        serves = [movement in p.serves for p in self.phases]
        n = len(serves)
        g = 0.0
        for i, p in enumerate(self.phases):
            if not serves[i]:
                continue
            prev_serves, next_serves = serves[i - 1] and n > 1, serves[(i + 1) % n] and n > 1
            g += p.green_s + (p.amber_s + p.all_red_s if next_serves else self.end_gain_s)
            g -= 0.0 if prev_serves else self.startup_lost_time_s
        return min(g, self.cycle_s)


class CriticalGap(StrictModel):
    """Distribution of drivers' critical gaps, s (each driver keeps one value)."""

    distribution: Literal["constant", "normal", "lognormal", "uniform"] = Field(
        "constant", description="Distribution across drivers (truncated to min_s..max_s)."
    )
    mean_s: float = Field(6.4, gt=0.5, le=20, description="Mean critical gap, s.")
    sd_s: float = Field(0.0, ge=0, le=10, description="Standard deviation, s.")
    min_s: float = Field(3.0, gt=0, description="Truncation: smallest critical gap, s.")
    max_s: float = Field(12.0, gt=0, description="Truncation: largest critical gap, s.")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if not self.min_s <= self.mean_s <= self.max_s:
            raise ValueError(
                f"mean_s ({self.mean_s:g} s) must lie within min_s..max_s "
                f"({self.min_s:g}..{self.max_s:g} s)"
            )
        if self.distribution != "constant" and self.sd_s == 0:
            raise ValueError(f"sd_s must be > 0 for distribution {self.distribution!r}")
        return self


class Behaviour(StrictModel):
    """Driver behaviour and discharge parameters."""

    critical_gap: CriticalGap = Field(
        default_factory=CriticalGap, description="U-turn critical gap (HCM 6.4 s wide median)."
    )
    follow_up_headway_s: float = Field(
        2.5, gt=0, le=10, description="Follow-up headway of a queue entering one gap, s."
    )
    linked_start_lag_s: float = Field(
        2.0,
        gt=0,
        le=10,
        description="Start lag between successive slot cars already standing in slots, s "
        "(1.5-2 s assumed; the pessimistic end).",
    )
    reaction_time_s: float = Field(
        1.0,
        ge=0,
        le=5,
        description="Reaction to the car ahead moving, and to a gap already open when a "
        "driver comes to rest, s (about 1 s).",
    )
    accel_m_s2: float = Field(
        2.0, gt=0, le=1e9, description="Acceleration from standstill, m/s² (2-2.5 m/s²)."
    )
    decel_m_s2: float = Field(
        2.0, gt=0, le=1e9, description="Comfortable deceleration to a stop, m/s² (assumption)."
    )
    move_up_speed_m_s: float = Field(
        4.0,
        gt=0,
        le=1e9,
        description="Creep speed: the most a car moving up the lane reaches, m/s (assumption).",
    )
    slot_hold_s: float = Field(
        2.0,
        ge=0,
        le=10,
        description="A U-turner keeps its slot this long after it starts (swinging out), s "
        "(1.5-3 s).",
    )
    turn_clear_s: float = Field(
        5.5,
        gt=0,
        le=20,
        description="Start of a U-turn to leaving the conflict area, s (5-6 s).",
    )
    conflict_entry_s: float = Field(
        2.0,
        ge=0,
        le=20,
        description="Start of a U-turn to entering the conflict area (the opposing lanes), s "
        "(assumption).",
    )
    min_pet_s: float = Field(
        0.0,
        ge=0,
        le=10,
        description="Safety margin: least post-encroachment time a U-turner keeps to the "
        "conflicting vehicles before and after it in a gap, s (0: assumption, the HCM critical "
        "gap already states what drivers accept; no extra margin).",
    )
    approach_speed_m_s: float = Field(
        11.1, gt=1, le=40, description="Approach (free-flow) speed, m/s (40 km/h, assumption)."
    )
    uturn_speed_m_s: float = Field(
        4.2,
        gt=0.5,
        le=8.4,
        description="Free-flow U-turn speed, m/s (15 km/h assumed; legal cap 30 km/h).",
    )
    left_speed_m_s: float = Field(
        5.6, gt=0.5, le=15, description="Free-flow left-turn speed, m/s (20 km/h, assumption)."
    )
    saturation_flow_veh_h: float = Field(
        1800.0, gt=100, le=2600, description="Left-turn lane saturation flow, veh/h."
    )
    uturn_saturation_factor: float = Field(
        0.8, gt=0.3, le=1.0, description="U-turn saturation flow / left-turn saturation flow."
    )

    @property
    def saturation_headway_s(self) -> float:
        """Left-turn saturation headway, s."""
        return 3600.0 / self.saturation_flow_veh_h

    @property
    def uturn_saturation_headway_s(self) -> float:
        """U-turn saturation headway in a protected green, s."""
        return self.saturation_headway_s / self.uturn_saturation_factor

    @model_validator(mode="after")
    def _follow_below_gap(self) -> Self:
        if self.conflict_entry_s >= self.turn_clear_s:
            raise ValueError(
                f"conflict_entry_s ({self.conflict_entry_s:g} s) must be below turn_clear_s "
                f"({self.turn_clear_s:g} s)"
            )
        if self.follow_up_headway_s >= self.critical_gap.mean_s:
            raise ValueError(
                f"follow_up_headway_s ({self.follow_up_headway_s:g} s) must be below "
                f"critical_gap.mean_s ({self.critical_gap.mean_s:g} s)"
            )
        return self


class VehicleMix(StrictModel):
    """Share of long vehicles on the studied approach."""

    heavy_share: float = Field(0.0, ge=0, le=1, description="Share of heavy vehicles (0..1).")
    heavy_spacing_m: float = Field(12.0, gt=2, le=40, description="Queue spacing of one, m.")
    heavy_uturn_slots: int = Field(
        1, ge=1, le=30, description="Heavy U-turners may U-turn only from slots 1..N."
    )
    car_occupancy: float = Field(
        1.3,
        ge=0,
        le=10,
        description="Persons per car, for person delay (1.3: assumption, urban car average).",
    )
    heavy_occupancy: float = Field(
        1.0,
        ge=0,
        le=150,
        description="Persons per heavy vehicle, for person delay (1.0: assumption, trucks; "
        "set higher for buses).",
    )


class Ordinary(StrictModel):
    """Options of the ordinary shared FIFO lane."""

    uturn_when: UTurnWhen = Field("left_green", description="When a U-turner at the head may go.")


class Linked(StrictModel):
    """Options of the multi-car linked U-turn lane."""

    uturn_when: UTurnWhen = Field(
        "any_safe_gap",
        description="When slot vehicles may go: Liaocheng any_safe_gap; left_green; "
        "left_green_or_safe_gap (Sanya).",
    )
    strict_gap_entry: bool = Field(
        False,
        description="Only vehicles settled in a slot when a gap opens may use it "
        "(the assumption of the closed-form c_k).",
    )


class Uncertainty(StrictModel):
    """The sampling uncertainty of one calibrated (or otherwise estimated) number."""

    field: str = Field(
        min_length=3,
        max_length=200,
        description="Dotted scenario field, e.g. behaviour.slot_hold_s.",
    )
    sd: float = Field(ge=0, le=1e6, description="Standard error of its estimate, in its unit.")


class Scenario(StrictModel):
    """Everything one run needs."""

    name: str = Field("unnamed", max_length=200, description="Scenario name.")
    description: str = Field("", max_length=10_000, description="Free text.")
    simulation: Simulation = Field(default_factory=Simulation, description="Run length, seed.")
    geometry: Geometry = Field(default_factory=Geometry, description="Lane and slots.")
    approach: Approach = Field(
        default_factory=Approach, description="Through lanes and the bay entrance."
    )
    signal: Signal = Field(description="Fixed-time signal plan.")
    demand: Demand = Field(default_factory=Demand, description="Demand per movement.")
    behaviour: Behaviour = Field(default_factory=Behaviour, description="Driver behaviour.")
    vehicle_mix: VehicleMix = Field(default_factory=VehicleMix, description="Heavy vehicles.")
    ordinary: Ordinary = Field(default_factory=Ordinary, description="Ordinary scheme options.")
    linked: Linked = Field(default_factory=Linked, description="Linked scheme options.")
    uncertainty: list[Uncertainty] = Field(
        default_factory=list,
        max_length=200,
        description="Standard errors of estimated fields; compare --parameter-uncertainty "
        "draws them (normal, truncated to each field's valid range) per replication.",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        problems: list[str] = []
        for k, u in enumerate(self.uncertainty):
            obj: object = self
            for key in u.field.split("."):
                if isinstance(obj, list):
                    obj = obj[int(key)] if key.isdigit() and int(key) < len(obj) else None
                else:
                    obj = getattr(obj, key, None)
            if isinstance(obj, bool) or not isinstance(obj, int | float):
                problems.append(
                    f"uncertainty[{k}].field {u.field!r} is not a numeric scenario field"
                )
        for m in STUDIED:  # fields of Stream that only conflicting streams use
            s = self.demand.stream(m)
            if s.lanes != 1:
                problems.append(f"demand.{m}.lanes must be 1: the studied lane is one lane")
            if not s.signalized:
                problems.append(
                    f"demand.{m}.signalized must be true: the studied lane is signalized"
                )
            if (
                s.saturation_flow_veh_h_lane
                != Stream.model_fields["saturation_flow_veh_h_lane"].default
            ):
                problems.append(
                    f"demand.{m}.saturation_flow_veh_h_lane is not used for the studied lane "
                    "(set behaviour.saturation_flow_veh_h)"
                )
        served = {m for p in self.signal.phases for m in p.serves}
        n_thr = self.approach.through_lanes
        thr = self.demand.through
        if self.approach.avoid_blocked_lane and n_thr < 2:
            problems.append(
                "approach.avoid_blocked_lane needs approach.through_lanes >= 2 (a lane to "
                f"move to), got {n_thr}"
            )
        if n_thr and thr.flow_veh_h > 0:
            if "through" not in served:
                problems.append(
                    "demand.through flow_veh_h > 0 with approach.through_lanes > 0 but no "
                    "phase in signal.phases serves 'through'"
                )
            if thr.flow_veh_h / n_thr > 2400:
                problems.append(
                    f"demand.through.flow_veh_h is {thr.flow_veh_h / n_thr:g} veh/h per lane "
                    f"on {n_thr} lane(s); more than 2400 is absurd"
                )
            elif thr.headway.model != "poisson":
                mean_h = 3600.0 * n_thr / thr.flow_veh_h
                if thr.headway.min_headway_s >= mean_h:
                    problems.append(
                        f"demand.through.headway.min_headway_s ({thr.headway.min_headway_s:g} "
                        f"s) must be below the mean headway {mean_h:.3g} s per lane"
                    )
        for m in MOVEMENTS:
            s = self.demand.stream(m)
            needs_phase = m == "left" or (m in CONFLICTING and s.signalized)
            if m == "uturn":
                rules = {self.ordinary.uturn_when, self.linked.uturn_when}
                needs_phase = rules != {"any_safe_gap"}
            if needs_phase and s.flow_veh_h > 0 and m not in served:
                problems.append(
                    f"demand.{m} flow_veh_h > 0 but no phase in signal.phases serves it"
                )
        for m in CONFLICTING:
            s = self.demand.stream(m)
            if not s.signalized or s.flow_veh_h == 0:
                continue
            g = self.signal.effective_green_s(m)
            cap = s.lanes * s.saturation_flow_veh_h_lane * g / self.signal.cycle_s
            peak = max(self.demand.profile.factors) if self._profiled(m) else 1.0
            if s.flow_veh_h * peak >= cap:
                problems.append(
                    f"demand.{m}.flow_veh_h {s.flow_veh_h * peak:g} veh/h (at its peak) is not "
                    f"below its signal capacity {cap:.0f} veh/h (lanes x saturation x g/C); "
                    "a conflicting stream must be able to clear"
                )
        problems += self._peak_problems()
        if self.vehicle_mix.heavy_uturn_slots > self.geometry.slots:
            problems.append(
                f"vehicle_mix.heavy_uturn_slots {self.vehicle_mix.heavy_uturn_slots} "
                f"exceeds geometry.slots ({self.geometry.slots})"
            )
        if problems:
            raise ValueError("\n".join(problems))  # one problem per line
        return self

    def _peak_problems(self) -> list[str]:
        """Per-lane flow and minimum headway must stay feasible at the profile's peak."""
        out = []
        if self.demand.profile is None:
            return out
        peak = max(self.demand.profile.factors)
        for m in self.demand.profile.applies_to:
            s = self.demand.stream(m)
            lanes = max(1, self.approach.through_lanes) if m == "through" else s.lanes
            per_lane = s.flow_veh_h * peak / lanes
            if per_lane > 2400:
                out.append(
                    f"demand.{m}.flow_veh_h {per_lane:g} veh/h per lane at the profile's peak "
                    f"(factor {peak:g}); more than 2400 is absurd"
                )
            elif s.headway.model != "poisson" and per_lane * s.headway.min_headway_s >= 3600:
                out.append(
                    f"demand.{m}.headway.min_headway_s {s.headway.min_headway_s:g} s leaves no "
                    f"room at the profile's peak ({per_lane:g} veh/h per lane, mean headway "
                    f"{3600 / per_lane:.3g} s)"
                )
        return out

    def _profiled(self, movement: str) -> bool:
        p = self.demand.profile
        return p is not None and movement in p.applies_to
