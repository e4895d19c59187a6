"""The benchmark gates can fail: their logic on made-up timings, and a CPU-burning
slowdown injected into each gated stage's code path makes its gate fail.

Quick (a few seconds): the injected slowdown is sized from the floor measured here,
so the slowed stage's ratio exceeds the gate's limit whatever the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import gates  # noqa: E402
import stages  # noqa: E402

BY_STAGE = {g.stage: g for g in gates.GATES}


def _all_times(scale: float = 1.0) -> dict[str, float]:
    """Made-up timings: every floor 1 s, every stage at ``scale`` times half its limit."""
    t = dict.fromkeys(gates.FLOORS, 1.0)
    t.update({g.stage: 0.5 * g.limit * scale for g in gates.GATES})
    t.update(dict.fromkeys(gates.UNGATED, 1.0))
    return t


def test_registry_names_real_benchmarks():
    text = (BENCH / "test_bench.py").read_text()
    names = {g.stage for g in gates.GATES} | set(gates.FLOORS) | set(gates.UNGATED)
    for n in names:
        assert f"def {n}(" in text, f"{n} is registered but not a benchmark"
    assert all(g.floor in gates.FLOORS for g in gates.GATES)


def test_gates_pass_within_limits():
    lines, failures = gates.check(_all_times())
    assert failures == [] and len(lines) == len(gates.GATES)


@pytest.mark.parametrize("gate", gates.GATES, ids=lambda g: g.stage)
def test_gate_fails_when_its_stage_slows(gate):
    t = _all_times()
    t[gate.stage] = gate.limit * 1.01
    _, failures = gates.check(t)
    assert len(failures) == 1 and "REGRESSED" in failures[0] and gate.stage in failures[0]


@pytest.mark.parametrize("gate", gates.GATES, ids=lambda g: g.stage)
def test_gate_fails_when_missing(gate):
    t = _all_times()
    del t[gate.stage]
    _, failures = gates.check(t)
    assert len(failures) == 1 and "MISSING" in failures[0]


def test_unknown_benchmark_fails():
    t = _all_times()
    t["test_renamed_benchmark"] = 1.0
    _, failures = gates.check(t)
    assert len(failures) == 1 and "test_renamed_benchmark" in failures[0]


def _spin(seconds: float) -> None:
    t0 = time.process_time()
    while time.process_time() - t0 < seconds:
        pass


# gated stage -> (module, attribute on that path, called at least once per replication?)
INJECT = {
    "test_arrivals_poisson_1m": ("uturn_sim.traffic.headways", "unit_headways", True),
    "test_arrivals_time_varying_1m": ("uturn_sim.traffic.headways", "unit_headways", True),
    "test_arrivals_default_table": ("uturn_sim.traffic.table", "planned_times", True),
    "test_arrivals_default_batch": ("uturn_sim.traffic.compiled", "compiled_draws", False),
    "test_simpy_engine_ordinary": ("uturn_sim.model.engine", "run_lane", True),
    "test_simpy_engine_linked": ("uturn_sim.model.engine", "run_lane", True),
    "test_fast_engine_ordinary": ("uturn_sim.fast.engine", "run_batch", False),
    "test_fast_engine_linked": ("uturn_sim.fast.engine", "run_batch", False),
    "test_fast_measures": ("uturn_sim.fast.measures", "batch_rows", False),
    "test_simpy_summary": ("uturn_sim.model.result", "summarize", True),
    "test_compare_fast": ("uturn_sim.fast.study", "run_records", False),
    "test_compare_simpy": ("uturn_sim.study.compare", "replication_runs", True),
    "test_sweep_fast": ("uturn_sim.sweeps.run", "_fill_fast", False),
}
#: a two-cell sweep, so the sweep gate's SimPy reference takes a second, not a minute
SMALL_SWEEP = {
    "base": "default",
    "parameters": {"geometry.slots": [2, 4]},
    "schemes": ["ordinary", "linked"],
    "replications": 1,
    "seed": 1,
}

STAGES = stages.stages(batch_size=4, sweep_spec=SMALL_SWEEP)


def test_every_gate_has_an_injection():
    assert set(INJECT) | {"test_cli_check"} == set(BY_STAGE)


@pytest.mark.parametrize("stage", sorted(INJECT))
def test_injected_slowdown_fails_the_gate(stage, monkeypatch):
    import importlib

    gate = BY_STAGE[stage]
    floor = stages.cpu_min(STAGES[gate.floor]()[0], repeat=3, budget_s=0.02)
    fn, reps = STAGES[stage]()
    mod_name, attr, per_rep = INJECT[stage]
    mod = importlib.import_module(mod_name)
    real = getattr(mod, attr)
    spin = 1.2 * gate.limit * floor * (1 if per_rep else reps)
    calls = []

    def slowed(*a, **k):
        calls.append(1)
        _spin(spin)
        return real(*a, **k)

    monkeypatch.setattr(mod, attr, slowed)
    t = stages.cpu_min(fn, repeat=1, budget_s=0.0) / reps
    assert calls, f"{mod_name}.{attr} is not on the path of {stage}"
    (res,) = [r for r in gates.evaluate({stage: t, gate.floor: floor}) if r.gate is gate]
    assert not res.ok and res.ratio > gate.limit


def test_injected_slowdown_fails_the_cli_gate(tmp_path):
    gate = BY_STAGE["test_cli_check"]
    floor = min(stages.python_numpy_cpu() for _ in range(2))
    # every interpreter started with this path runs sitecustomize; only the CLI spins
    (tmp_path / "sitecustomize.py").write_text(
        "import sys, time\n"
        "if 'uturn_sim.cli' in sys.orig_argv:\n"
        "    t0 = time.process_time()\n"
        f"    while time.process_time() - t0 < {1.2 * gate.limit * floor!r}:\n"
        "        pass\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    before = os.times()
    subprocess.run(
        [sys.executable, "-m", "uturn_sim.cli", "check", str(stages.DEFAULT_YAML)],
        check=True,
        capture_output=True,
        env=env,
    )
    after = os.times()
    t = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    (res,) = [r for r in gates.evaluate({gate.stage: t, gate.floor: floor}) if r.gate is gate]
    assert not res.ok
