"""Validation experiments: the model configured where a closed form holds.

Each experiment returns a tidy DataFrame with the simulated mean, its 95%
confidence interval over replications, the closed form and the relative error.
``python -m uturn_sim.reports.validation --out docs`` writes ``docs/validation.md``
and its figures; ``--full`` uses longer runs and more replications.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from uturn_sim.model.run import simulate
from uturn_sim.model.schemes import DEFAULT_PAIR as SCHEMES
from uturn_sim.scenario.loading import validate_mapping
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.compare import compare, mean_ci
from uturn_sim.validation.theory import (
    cowan_m3_capacity,
    harders_capacity,
    hcm_uniform_delay,
    linked_capacity,
    webster_delay,
)

__all__ = [
    "capacity_scenario",
    "crn_variance",
    "littles_law",
    "run_capacity",
    "run_webster",
    "uniform_arrival_delay",
    "webster_scenario",
]

TC, TF = 6.4, 2.5  # HCM Exhibits 20-17/20-18, U-turn, wide median
LAG = 2.0  # start lag of standing slot cars (the scenario default)
#: behaviour of the closed-form c_k setting: motions take no time
INSTANT = {
    "reaction_time_s": 0.0,
    "accel_m_s2": 1e9,
    "decel_m_s2": 1e9,
    "move_up_speed_m_s": 1e9,
    "slot_hold_s": 0.0,
}
NO_SIGNAL = {"cycle_s": 60, "phases": [{"name": "none", "green_s": 55, "serves": []}]}


def capacity_scenario(
    q_veh_h: float,
    *,
    slots: int = 1,
    strict: bool = False,
    instant: bool = False,
    headway: dict[str, Any] | None = None,
    duration_s: float = 3600.0,
    seed: int = 1,
) -> Scenario:
    """A saturated U-turn queue against one unsignalized conflicting stream of ``q_veh_h``.

    ``strict``: only cars standing in slots when a gap opens use it; ``instant``:
    reaction, move-up and slot hold take no time (both: the closed-form ``c_k``).
    """
    return validate_mapping(
        {
            "name": f"capacity q={q_veh_h:g}",
            "simulation": {
                "duration_s": duration_s,
                "warmup_s": 300,
                "cooldown_s": 0,
                "seed": seed,
            },
            "geometry": {"storage_m": 2000, "slots": slots},
            "signal": NO_SIGNAL,
            "demand": {
                "uturn": {"flow_veh_h": 2400},
                "left": {"flow_veh_h": 0},
                "opposing_through": {
                    "flow_veh_h": q_veh_h,
                    "signalized": False,
                    "headway": headway or {"model": "poisson"},
                },
                "cross_right": {"flow_veh_h": 0},
                "cross_left": {"flow_veh_h": 0},
            },
            "behaviour": {
                "critical_gap": {"mean_s": TC},
                "follow_up_headway_s": TF,
                "linked_start_lag_s": LAG,
                **(INSTANT if instant else {}),
            },
            "ordinary": {"uturn_when": "any_safe_gap"},
            "linked": {"uturn_when": "any_safe_gap", "strict_gap_entry": strict},
        }
    )


def _rows(case: str, x_name: str, x: float, samples: np.ndarray, theory: float) -> dict:
    mean, lo, hi = mean_ci(samples)
    return {
        "case": case,
        "x_name": x_name,
        "x": x,
        "sim": mean,
        "ci_low": lo,
        "ci_high": hi,
        "theory": theory,
        "rel_error": (mean - theory) / theory,
        "n": len(samples),
    }


def _uturn_capacity(scn: Scenario, scheme: str, replications: int) -> np.ndarray:
    out = []
    for r in range(replications):
        s = simulate(scn, scheme, replication=r).summary().set_index("movement")
        out.append(s.loc["uturn", "throughput_veh_h"])
    return np.asarray(out)


def run_capacity(
    case: str,
    flows_veh_h: Sequence[float],
    *,
    replications: int = 5,
    duration_s: float = 3600.0,
    slots: Sequence[int] = (1,),
) -> pd.DataFrame:
    """Simulated U-turn capacity (veh/h) against its closed form.

    ``case``: ``"harders"`` (ordinary, Poisson), ``"cowan"`` (ordinary, Cowan M3:
    Δ = 2 s, 40% bunched), ``"linked_strict"`` (linked, instant move-up, only
    settled vehicles use a gap: ``c_k``), ``"linked_real"`` (linked, the default
    kinematics: reaction, move-up, slot hold; followers may join a gap: compared with
    ``c_k`` to show how far real motions land from it).
    """
    rows = []
    for k in slots:
        for q in flows_veh_h:
            qs = q / 3600.0
            if case == "harders":
                scn = capacity_scenario(q, duration_s=duration_s)
                sim, theory, scheme = scn, harders_capacity(qs, TC, TF), "ordinary"
            elif case == "cowan":
                hw = {"model": "cowan_m3", "min_headway_s": 2.0, "bunched_share": 0.4}
                sim = capacity_scenario(q, headway=hw, duration_s=duration_s)
                theory, scheme = cowan_m3_capacity(qs, TC, TF, 2.0, 0.4), "ordinary"
            elif case in ("linked_strict", "linked_real"):
                strict = case == "linked_strict"
                sim = capacity_scenario(
                    q,
                    slots=k,
                    strict=strict,
                    instant=strict,
                    duration_s=duration_s,
                )
                theory, scheme = linked_capacity(qs, TC, LAG, k), "linked"
            else:
                raise ValueError(f"unknown capacity case {case!r}")
            row = _rows(
                case,
                "conflicting_veh_h",
                q,
                _uturn_capacity(sim, scheme, replications),
                float(theory) * 3600.0,
            )
            row["slots"] = k
            rows.append(row)
    return pd.DataFrame(rows)


def webster_scenario(
    x: float, *, duration_s: float = 7200.0, seed: int = 1, movement: str = "left"
) -> Scenario:
    """One signalized movement alone, Poisson, C = 60 s, g = 24 s, degree of saturation ``x``.

    Saturation flow 1800 veh/h per lane; the left-turn bay (``movement="left"``), or two
    through lanes of the approach with an empty bay (``"through"``).
    """
    q = x * 1800.0 * 24.0 / 60.0
    through = movement == "through"
    return validate_mapping(
        {
            "name": f"webster x={x:g} {movement}",
            "simulation": {
                "duration_s": duration_s,
                "warmup_s": 900,
                "cooldown_s": 900,
                "seed": seed,
            },
            "geometry": {"storage_m": 2000, "slots": 1},
            "approach": {"through_lanes": 2 if through else 0},
            "signal": {
                "cycle_s": 60,
                "phases": [
                    {"name": "other", "green_s": 26, "serves": []},
                    {"name": "main", "green_s": 24, "serves": ["left", "uturn", "through"]},
                ],
            },
            "demand": {
                "uturn": {"flow_veh_h": 0},
                "left": {"flow_veh_h": 0 if through else q},
                "through": {"flow_veh_h": 2 * q if through else 0},
                "opposing_through": {"flow_veh_h": 0},
                "cross_right": {"flow_veh_h": 0},
                "cross_left": {"flow_veh_h": 0},
            },
        }
    )


def run_webster(
    xs: Sequence[float],
    *,
    replications: int = 5,
    duration_s: float = 7200.0,
    movement: str = "left",
) -> pd.DataFrame:
    """Mean queue delay of one lane's movement against Webster (``theory``) and HCM d1.

    ``movement``: ``"left"`` (the bay's left-turners) or ``"through"`` (the approach's
    two through lanes, per-lane flow as the left-turners'; no bay vehicle, so no
    interaction).  Webster's and HCM's formulas are vertical-queue delays: compared
    with the simulated queue delay (start of the turn or stop-line passage - arrival),
    not the control delay, which adds the geometric part.
    """
    rows = []
    for x in xs:
        scn = webster_scenario(x, duration_s=duration_s, movement=movement)
        q = x * 1800.0 * 24.0 / 60.0 / 3600.0  # per lane, veh/s
        d = [
            simulate(scn, "ordinary", replication=r)
            .summary()
            .set_index("movement")
            .loc[movement, "queue_delay_mean_s"]
            for r in range(replications)
        ]
        row = _rows("webster", "x", x, np.asarray(d), float(webster_delay(q, 0.5, 60.0, 24.0)))
        row["hcm_d1"] = float(hcm_uniform_delay(q, 0.5, 60.0, 24.0))
        row["sim_uniform_arrivals"] = uniform_arrival_delay(x)
        row["movement"] = movement
        rows.append(row)
    return pd.DataFrame(rows)


def uniform_arrival_delay(x: float, duration_s: float = 36000.0, phases: int = 7) -> float:
    """Mean left-turn delay (s/veh) of the Webster setting with *uniform* arrivals.

    Averaged over ``phases`` arrival phases; isolates the discrete-departure effect
    from randomness (compare with HCM ``d1``).
    """
    from uturn_sim.traffic.signal import green_windows
    from uturn_sim.traffic.table import ArrivalTable

    scn = webster_scenario(x, duration_s=duration_s)
    q = scn.demand.left.flow_veh_h / 3600.0
    horizon, t0 = scn.simulation.end_s, scn.simulation.warmup_s
    out = []
    for ph in np.linspace(0.0, 1.0 / q, phases, endpoint=False):
        t = np.arange(ph, horizon, 1.0 / q)
        n = len(t)
        table = ArrivalTable(
            t=t,
            movement=np.ones(n, np.int8),
            heavy=np.zeros(n, bool),
            critical_gap_s=np.full(n, np.nan),
            conflict_t=np.empty(0),
            conflict_stream=np.empty(0, np.int8),
            uturn_green=green_windows(scn.signal, "uturn", horizon),
            left_green=green_windows(scn.signal, "left", horizon),
            seed_entropy=0,
            spawn_key=(),
        )
        dep = simulate(scn, "ordinary", arrivals=table).vehicles["departure_s"].to_numpy()
        sel = (t >= t0) & (t < t0 + duration_s)
        out.append(np.nanmean(dep[sel] - t[sel]))
    return float(np.mean(out))


def littles_law(scn: Scenario, replications: int = 5) -> pd.DataFrame:
    """Time-weighted mean number in the system ``L`` against ``λ W``, per movement.

    For each scheme and movement (``uturn``, ``left``, ``through`` when the approach's
    through lanes are modelled, and ``all``), ``L`` counts the movement's vehicles in
    the system during ``[t0, t1)``; ``λ W`` uses the vehicles arriving in it (rate
    and mean time in the system), so they differ only by edge effects that vanish
    as the period grows.
    """
    movements = ["uturn", "left", "all"]
    if scn.approach.through_lanes and scn.demand.through.flow_veh_h > 0:
        movements.insert(2, "through")
    rows = []
    for scheme in SCHEMES:
        ratio: dict[str, list[float]] = {m: [] for m in movements}
        for r in range(replications):
            res = simulate(scn, scheme, replication=r)
            summary = res.summary().set_index("movement")
            t0, t1 = res.window
            v = res.vehicles
            for m in movements:
                sel = v["movement"] == m if m != "all" else np.ones(len(v), bool)
                win = sel & (v["arrival_s"] >= t0) & (v["arrival_s"] < t1)
                lam = win.sum() / (t1 - t0)
                w = (v.loc[win, "departure_s"] - v.loc[win, "arrival_s"]).mean()
                ratio[m].append(lam * w / summary.loc[m, "queue_mean_veh"])
        for m in movements:
            code = 0 if scheme == "ordinary" else 1
            row = _rows("little", "scheme", code, np.asarray(ratio[m]), 1.0)
            row["scheme"] = scheme
            row["movement"] = m
            rows.append(row)
    return pd.DataFrame(rows)


def crn_variance(scn: Scenario, replications: int = 20, measure: str = "delay_mean_s") -> dict:
    """Variance of the linked − ordinary U-turn difference with and without CRN."""
    comp = compare(scn, replications=replications, seed=scn.simulation.seed)
    s = comp.summaries[comp.summaries["movement"] == "uturn"]
    o = s[s["scheme"] == "ordinary"].set_index("replication")[measure]
    li = s[s["scheme"] == "linked"].set_index("replication")[measure]
    crn = (li - o).to_numpy()
    other = scn.simulation.seed + 7919
    ind = (
        np.asarray(
            [
                simulate(scn, "linked", seed=other, replication=r)
                .summary()
                .set_index("movement")
                .loc["uturn", measure]
                for r in range(replications)
            ]
        )
        - o.to_numpy()
    )
    return {
        "var_crn": float(np.var(crn, ddof=1)),
        "var_independent": float(np.var(ind, ddof=1)),
        "mean_crn": float(crn.mean()),
        "mean_independent": float(ind.mean()),
    }
