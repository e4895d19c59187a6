"""The arrival table of one replication: studied-approach vehicles and conflict passages.

Built once per (scenario, seed, replication) and fed unchanged to both schemes
(common random numbers by construction).  Pure NumPy.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from uturn_sim.scenario.model import CONFLICTING, Headway, Scenario
from uturn_sim.traffic.headways import RatePlan, gate, planned_times, rate_plan
from uturn_sim.traffic.seeds import replication_seed, stream_seed
from uturn_sim.traffic.signal import GreenWindows, green_windows

__all__ = [
    "MOVEMENT_CODES",
    "ArrivalPlan",
    "ArrivalTable",
    "arrival_plan",
    "assemble",
    "build_arrivals",
    "draw_arrivals",
    "draw_ungated",
]

MOVEMENT_CODES = {"uturn": 0, "left": 1}
CONFLICT_RUN_ON_S = 600.0  # conflicting passages generated this far beyond the run's end, s


@dataclass(frozen=True)
class ArrivalTable:
    """Precomputed inputs of one replication (all times in s from the run start).

    Attributes
    ----------
    t : arrival time of each studied-approach vehicle at the back of the lane, sorted
    movement : 0 = U-turn, 1 = left turn
    heavy : True for a heavy vehicle
    critical_gap_s : the driver's critical gap (NaN for left-turners)
    conflict_t : sorted passage times of all conflicting vehicles at the conflict area
    conflict_stream : index into ``CONFLICTING`` of each passage
    uturn_green, left_green : effective-green windows of the two movements
    seed_entropy, spawn_key : the replication's SeedSequence, for the record
    through_t : arrival times of the studied approach's through vehicles at the back of
        their lane's queue, sorted (empty unless ``approach.through_lanes`` > 0)
    through_lane : lane of each through vehicle, 1 = next to the bay
    through_heavy : True for a heavy through vehicle
    through_green : effective-green windows of the through movement
    """

    t: np.ndarray
    movement: np.ndarray
    heavy: np.ndarray
    critical_gap_s: np.ndarray
    conflict_t: np.ndarray
    conflict_stream: np.ndarray
    uturn_green: GreenWindows
    left_green: GreenWindows
    seed_entropy: int
    spawn_key: tuple[int, ...]
    through_t: np.ndarray = field(default_factory=lambda: np.empty(0))
    through_lane: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    through_heavy: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    through_green: GreenWindows = field(
        default_factory=lambda: GreenWindows(np.empty(0), np.empty(0))
    )

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class ArrivalPlan:
    """Everything of a scenario's arrivals that no draw changes, computed once per scenario.

    Attributes
    ----------
    rates : per traffic stream, the :class:`RatePlan` shared by its lanes
    lanes : per traffic stream, its number of lanes
    conflict_windows : per signalized conflicting stream, its effective-green windows
    conflict_headway_s : per conflicting stream, its saturation headway, s
    uturn_green, left_green : effective-green windows of the studied movements
    through_green : effective-green windows of the approach's through movement
    """

    rates: dict[str, RatePlan]
    lanes: dict[str, int]
    conflict_windows: dict[str, GreenWindows | None]
    conflict_headway_s: dict[str, float]
    uturn_green: GreenWindows
    left_green: GreenWindows
    through_green: GreenWindows


def arrival_plan(scn: Scenario) -> ArrivalPlan:
    """The draw-independent part of :func:`build_arrivals` for ``scn``.

    Parameters
    ----------
    scn
        The scenario.
    """
    horizon = scn.simulation.end_s
    # Conflicting traffic runs on past the end of the run: otherwise the last seconds
    # would look like one endless gap and let U-turners leave freely.
    conflict_horizon = horizon + CONFLICT_RUN_ON_S + 2 * scn.signal.cycle_s
    prof = scn.demand.profile

    def plan(name: str, headway: Headway, flow_per_lane_veh_h: float, until_s: float) -> RatePlan:
        use_prof = prof is not None and name in prof.applies_to
        return rate_plan(
            flow_per_lane_veh_h,
            until_s,
            model=headway.model,
            min_headway_s=headway.min_headway_s,
            bunched_share=headway.bunched_share,
            factors=prof.factors if use_prof else None,
            interval_s=prof.interval_s if use_prof else 900.0,
            start_s=scn.simulation.warmup_s,
        )

    rates, lanes, wins, heads = {}, {}, {}, {}
    for name in (*MOVEMENT_CODES, *CONFLICTING):
        s = scn.demand.stream(name)
        until = horizon if name in MOVEMENT_CODES else conflict_horizon
        rates[name] = plan(name, s.headway, s.flow_veh_h / s.lanes, until)
        lanes[name] = s.lanes
    n_thr = scn.approach.through_lanes
    if n_thr:
        s = scn.demand.through
        rates["through"] = plan("through", s.headway, s.flow_veh_h / n_thr, horizon)
        lanes["through"] = n_thr
    for name in CONFLICTING:
        s = scn.demand.stream(name)
        wins[name] = green_windows(scn.signal, name, conflict_horizon) if s.signalized else None
        heads[name] = 3600.0 / s.saturation_flow_veh_h_lane
    return ArrivalPlan(
        rates,
        lanes,
        wins,
        heads,
        green_windows(scn.signal, "uturn", horizon),
        green_windows(scn.signal, "left", horizon),
        green_windows(scn.signal, "through", horizon),
    )


_last_plan: tuple[Scenario, ArrivalPlan] | None = None  # replaced whole: thread-safe


def _stream_times(plan: ArrivalPlan, movement: str, ss: np.random.SeedSequence) -> list[np.ndarray]:
    """Unimpeded arrival times of every lane of ``movement`` (s), one array per lane.

    Lane ``k`` draws from ``spawn_streams(ss)[f"{movement}.arrivals"].spawn(lanes)[k]``.
    """
    rate, name = plan.rates[movement], f"{movement}.arrivals"
    return [
        planned_times(np.random.default_rng(stream_seed(ss, name, k)), rate)
        for k in range(plan.lanes[movement])
    ]


def _critical_gaps(scn: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    cg = scn.behaviour.critical_gap
    if cg.distribution == "constant":
        return np.full(n, cg.mean_s)
    if cg.distribution == "normal":
        x = rng.normal(cg.mean_s, cg.sd_s, n)
    elif cg.distribution == "lognormal":
        s2 = np.log1p((cg.sd_s / cg.mean_s) ** 2)
        x = rng.lognormal(np.log(cg.mean_s) - s2 / 2, np.sqrt(s2), n)
    else:  # uniform with the given mean and standard deviation
        half = np.sqrt(3.0) * cg.sd_s
        x = rng.uniform(cg.mean_s - half, cg.mean_s + half, n)
    return np.clip(x, cg.min_s, cg.max_s)


def build_arrivals(scn: Scenario, seed: int | None = None, replication: int = 0) -> ArrivalTable:
    """Draw the arrival table of replication ``replication`` of ``scn``.

    Parameters
    ----------
    scn
        The scenario.
    seed
        Root seed; ``None`` uses ``scn.simulation.seed``.
    replication
        Replication index (its own independent SeedSequence child).

    Once this process has loaded the compiled arrival core (a batch, or the compiled
    engine, ran), the table comes from it (:mod:`uturn_sim.traffic.compiled`, the same
    arrays bit for bit, about a tenth of the time); otherwise from NumPy, so a single
    run never pays numba's import or a first compilation.
    """
    root = scn.simulation.seed if seed is None else seed
    plan = arrival_plan(scn)
    compiled = sys.modules.get("uturn_sim.traffic.compiled")
    # LOADED is its last line: a module another thread is still importing is not used
    if getattr(compiled, "LOADED", False):  # numba and the kernel are loaded: it pays
        d = compiled.compiled_draws(scn, plan, root, [replication])
        if d is not None:
            return ArrivalTable(
                t=d.t,
                movement=d.movement,
                heavy=d.heavy,
                critical_gap_s=d.critical_gap_s,
                conflict_t=d.conflict_t,
                conflict_stream=d.conflict_stream,
                uturn_green=plan.uturn_green,
                left_green=plan.left_green,
                seed_entropy=int(d.entropy),
                spawn_key=(*d.spawn_key, replication),
                through_t=d.through_t,
                through_lane=d.through_lane,
                through_heavy=d.through_heavy,
                through_green=plan.through_green,
            )
    return draw_arrivals(scn, plan, replication_seed(root, replication))


def draw_arrivals(scn: Scenario, plan: ArrivalPlan, ss: np.random.SeedSequence) -> ArrivalTable:
    """The arrival table drawn from replication SeedSequence ``ss`` under ``plan``.

    Parameters
    ----------
    scn
        The scenario (vehicle mix and critical-gap distribution).
    plan
        ``arrival_plan(scn)``, reusable for every replication.
    ss
        The replication's SeedSequence (:func:`uturn_sim.traffic.seeds.replication_seed`).
    """
    draws = draw_ungated(scn, plan, ss)
    passed = [
        gate(lane, plan.conflict_windows[name], plan.conflict_headway_s[name])
        if plan.conflict_windows[name] is not None
        else lane
        for name, lane in zip(draws.conflict_names, draws.conflict_lanes, strict=True)
    ]
    return assemble(draws, passed, plan)


@dataclass(frozen=True)
class UngatedDraws:
    """One replication's draws before the conflicting lanes pass their signals.

    :func:`draw_arrivals` is ``assemble(d, [gate(lane) ...], plan)`` of these; a batch
    gates the same lane of many replications at once (:func:`~uturn_sim.traffic.headways.
    gate_many`) and assembles each replication alike.
    """

    ss: np.random.SeedSequence
    t: np.ndarray
    movement: np.ndarray
    heavy: np.ndarray
    critical_gap_s: np.ndarray
    conflict_names: list[str]  # the stream of each conflicting lane, in draw order
    conflict_lanes: list[np.ndarray]  # unimpeded arrival times of each lane, s
    through: tuple[np.ndarray, np.ndarray, np.ndarray]


def draw_ungated(scn: Scenario, plan: ArrivalPlan, ss: np.random.SeedSequence) -> UngatedDraws:
    """Every draw of replication ``ss`` (the conflicting lanes not yet gated)."""
    mix = scn.vehicle_mix
    parts_t, parts_h = [], []
    for name in MOVEMENT_CODES:
        t = np.sort(np.concatenate(_stream_times(plan, name, ss)))
        rng = np.random.default_rng(stream_seed(ss, f"{name}.vehicle_type"))
        parts_t.append(t)
        parts_h.append(rng.random(len(t)) < mix.heavy_share)
    n_u, n_l = len(parts_t[0]), len(parts_t[1])
    t = np.concatenate(parts_t)
    order = np.argsort(t, kind="stable")
    movement = np.concatenate(
        [
            np.full(len(x), code, dtype=np.int8)
            for x, code in zip(parts_t, MOVEMENT_CODES.values(), strict=True)
        ]
    )[order]
    heavy = np.concatenate(parts_h)[order]
    gaps_u = _critical_gaps(scn, np.random.default_rng(stream_seed(ss, "uturn.critical_gap")), n_u)
    crit = np.concatenate((gaps_u, np.full(n_l, np.nan)))[order]
    names, lanes = [], []
    for name in CONFLICTING:
        for lane in _stream_times(plan, name, ss):
            names.append(name)
            lanes.append(lane)
    return UngatedDraws(ss, t[order], movement, heavy, crit, names, lanes, _through(scn, plan, ss))


def assemble(draws: UngatedDraws, passed: list[np.ndarray], plan: ArrivalPlan) -> ArrivalTable:
    """The table of ``draws`` given the passage times of its conflicting lanes (s)."""
    if passed:
        ct = np.concatenate(passed)
        code = {name: k for k, name in enumerate(CONFLICTING)}
        cs = np.repeat(
            np.array([code[n] for n in draws.conflict_names], dtype=np.int8),
            [len(p) for p in passed],
        )
    else:
        ct, cs = np.empty(0), np.empty(0, dtype=np.int8)
    corder = np.argsort(ct, kind="stable")
    thr_t, thr_lane, thr_heavy = draws.through
    ss = draws.ss
    return ArrivalTable(
        t=draws.t,
        movement=draws.movement,
        heavy=draws.heavy,
        critical_gap_s=draws.critical_gap_s,
        conflict_t=ct[corder],
        conflict_stream=cs[corder],
        uturn_green=plan.uturn_green,
        left_green=plan.left_green,
        seed_entropy=int(ss.entropy),
        spawn_key=tuple(ss.spawn_key),
        through_t=thr_t,
        through_lane=thr_lane,
        through_heavy=thr_heavy,
        through_green=plan.through_green,
    )


def _through(
    scn: Scenario, plan: ArrivalPlan, ss: np.random.SeedSequence
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The approach's through vehicles: arrival times (s), lanes (1 = next to the bay), heavy."""
    if "through" not in plan.rates:
        return np.empty(0), np.empty(0, dtype=np.int8), np.empty(0, dtype=bool)
    lanes = _stream_times(plan, "through", ss)
    t = np.concatenate(lanes)
    lane = np.concatenate([np.full(len(x), k + 1, dtype=np.int8) for k, x in enumerate(lanes)])
    order = np.argsort(t, kind="stable")
    rng = np.random.default_rng(stream_seed(ss, "through.vehicle_type"))
    heavy = rng.random(len(t)) < scn.vehicle_mix.heavy_share
    return t[order], lane[order], heavy
