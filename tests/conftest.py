"""Shared fixtures: small hand-built scenarios and arrival tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim.traffic.signal import green_windows
from uturn_sim.traffic.table import ArrivalTable

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# A 60 s two-phase plan: opposing through 0-30 s, left + U-turn 30-60 s.
# Effective greens (2 s lost, 2 s gain): through [2, 27), left/U-turn [32, 57).
SMALL_SIGNAL = {
    "cycle_s": 60,
    "phases": [
        {
            "name": "through",
            "green_s": 25,
            "serves": ["opposing_through", "cross_right", "cross_left"],
        },
        {"name": "left", "green_s": 25, "serves": ["left", "uturn"]},
    ],
}


def small_scenario(**sections) -> us.Scenario:
    """A short scenario on SMALL_SIGNAL; keyword sections override (dicts)."""
    base = {
        "name": "small",
        "simulation": {"duration_s": 600, "warmup_s": 0, "cooldown_s": 0, "seed": 1},
        "signal": SMALL_SIGNAL,
        "demand": {
            "uturn": {"flow_veh_h": 200},
            "left": {"flow_veh_h": 60},
            "opposing_through": {"flow_veh_h": 400},
            "cross_right": {"flow_veh_h": 100},
            "cross_left": {"flow_veh_h": 50},
        },
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return us.load_scenario(base)


def hand_table(
    scn: us.Scenario,
    arrivals: list[tuple[float, str]],
    conflicts: list[float] = (),
    heavy: list[bool] | None = None,
    critical_gap_s: float | None = None,
) -> ArrivalTable:
    """An ArrivalTable from explicit (time, movement) pairs and conflict passage times."""
    t = np.array([a for a, _ in arrivals], dtype=float)
    mv = np.array([0 if m == "uturn" else 1 for _, m in arrivals], dtype=np.int8)
    tc = critical_gap_s or scn.behaviour.critical_gap.mean_s
    horizon = scn.simulation.end_s
    return ArrivalTable(
        t=t,
        movement=mv,
        heavy=np.array(heavy if heavy is not None else [False] * len(t)),
        critical_gap_s=np.where(mv == 0, tc, np.nan),
        conflict_t=np.sort(np.asarray(conflicts, dtype=float)),
        conflict_stream=np.zeros(len(conflicts), dtype=np.int8),
        uturn_green=green_windows(scn.signal, "uturn", horizon),
        left_green=green_windows(scn.signal, "left", horizon),
        seed_entropy=0,
        spawn_key=(),
    )


@pytest.fixture(scope="session")
def default():
    return us.default_scenario()


@pytest.fixture(scope="session")
def default_pair(default):
    table = us.build_arrivals(default)
    return tuple(us.simulate(default, s, arrivals=table) for s in ("ordinary", "linked"))


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """The CLI in-process: ``(exit code, stdout, stderr)``; argparse errors give their code."""
    from uturn_sim.cli import main

    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err


# one phase serving everything: signals play no part, only the conflict passages given
ONE_PHASE = {
    "cycle_s": 60,
    "phases": [
        {
            "name": "a",
            "green_s": 55,
            "serves": ["left", "uturn", "opposing_through", "cross_right", "cross_left"],
        }
    ],
}


def busy(t0, t1, step=1.0):
    """Conflicting passages every ``step`` s on [t0, t1]: no acceptable gap."""
    return list(np.arange(t0, t1 + 1e-9, step))


# Trace setting of the whole approach: through [2, 27) + 60 k, left/U-turn [32, 57) + 60 k,
# bay storage 15 m (two cars), two through lanes.
APPROACH_SIGNAL = {
    "cycle_s": 60,
    "phases": [
        {"name": "through", "green_s": 25, "serves": ["opposing_through", "through"]},
        {"name": "left", "green_s": 25, "serves": ["left", "uturn"]},
    ],
}


def approach_scenario(avoid: bool = False, **approach) -> us.Scenario:
    """A short scenario of the whole approach on APPROACH_SIGNAL (``approach`` overrides)."""
    return small_scenario(
        signal=APPROACH_SIGNAL,
        simulation={"duration_s": 300, "warmup_s": 0, "cooldown_s": 0, "seed": 1},
        geometry={"storage_m": 15.0, "slots": 2},
        approach={"through_lanes": 2, "avoid_blocked_lane": avoid, **approach},
        demand={
            "uturn": {"flow_veh_h": 100},
            "left": {"flow_veh_h": 100},
            "through": {"flow_veh_h": 400},
            "opposing_through": {"flow_veh_h": 0},
            "cross_right": {"flow_veh_h": 0},
            "cross_left": {"flow_veh_h": 0},
        },
    )


def approach_table(
    scn: us.Scenario,
    bay: list[tuple[float, str]],
    through: list[tuple[float, int]],
    conflicts: list[float] = (),
) -> ArrivalTable:
    """An ArrivalTable from explicit (time, movement) bay arrivals, (time, lane) through
    arrivals and conflict passage times."""
    t = np.array([a for a, _ in bay], dtype=float)
    mv = np.array([0 if m == "uturn" else 1 for _, m in bay], dtype=np.int8)
    horizon = scn.simulation.end_s
    return ArrivalTable(
        t=t,
        movement=mv,
        heavy=np.zeros(len(t), bool),
        critical_gap_s=np.where(mv == 0, scn.behaviour.critical_gap.mean_s, np.nan),
        conflict_t=np.asarray(conflicts, dtype=float),
        conflict_stream=np.zeros(len(conflicts), dtype=np.int8),
        uturn_green=green_windows(scn.signal, "uturn", horizon),
        left_green=green_windows(scn.signal, "left", horizon),
        seed_entropy=0,
        spawn_key=(),
        through_t=np.array([a for a, _ in through], dtype=float),
        through_lane=np.array([k for _, k in through], dtype=np.int8),
        through_heavy=np.zeros(len(through), bool),
        through_green=green_windows(scn.signal, "through", horizon),
    )
