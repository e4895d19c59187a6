"""Bad input never escapes as anything but ScenarioError / exit 2; extreme and long runs."""

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uturn_sim as us

from .conftest import ROOT, run_cli, small_scenario

CORPUS = sorted((Path(__file__).parent / "corpus" / "scenarios").glob("*.yaml"))


def expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first[len("# expect: ") :]


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_library_error_names_field(path):
    with pytest.raises(us.ScenarioError) as info:
        us.load_scenario(path)
    assert expected(path) in str(info.value)


@pytest.mark.parametrize("path", CORPUS[:6], ids=[p.stem for p in CORPUS[:6]])
def test_corpus_cli_exit_2_one_paragraph(path, capsys):
    rc, _, err = run_cli(["run", str(path)], capsys)
    assert rc == 2
    assert expected(path) in err and "Traceback" not in err
    assert "\n\n" not in err.strip()


DEFAULT = yaml.safe_load((ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text())
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


PATHS = list(_paths(DEFAULT))


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete", "typo"]), JUNK),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_scenarios_load_or_raise_scenario_error(mutations):
    data = copy.deepcopy(DEFAULT)
    for path, op, value in mutations:
        node = data
        try:
            for k in path[:-1]:
                node = node[k]
            key = path[-1]
            if op == "set":
                node[key] = value
            elif op == "delete":
                del node[key]
            elif isinstance(node, dict):
                node[str(key) + "x"] = node.pop(key)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        scn = us.load_scenario(data)
    except us.ScenarioError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    assert isinstance(scn, us.Scenario)
    assert math.isfinite(scn.simulation.end_s)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_random_text_never_crashes_the_loader(text):
    try:
        us.load_scenario(text + "\nx: 1")
    except us.ScenarioError:
        pass


def test_far_above_capacity_24h_bounded_memory(tmp_path):
    """24 h at ~8x the lane's capacity: finishes, reports oversaturation, bounded RSS."""
    script = tmp_path / "over.py"
    script.write_text(
        "import json, resource, time, uturn_sim as us\n"
        "from tests.conftest import small_scenario\n"
        "scn = small_scenario(\n"
        "    demand={'uturn': {'flow_veh_h': 2000}, 'left': {'flow_veh_h': 400}},\n"
        "                     simulation={'duration_s': 86400, 'warmup_s': 0, 'cooldown_s': 0})\n"
        "t = time.perf_counter()\n"
        "out = {}\n"
        "for scheme in ('ordinary', 'linked'):\n"
        "    res = us.simulate(scn, scheme)\n"
        "    res.check_conservation()\n"
        "    s = res.summary().set_index('movement').loc['all']\n"
        "    out[scheme] = [bool(s['oversaturated']), int(s['unserved']),\n"
        "                   float(s['spillback_share']), int(s['arrived'])]\n"
        "out['seconds'] = time.perf_counter() - t\n"
        # VmHWM is this process's own peak; ru_maxrss carries the parent's (an xdist
        # worker's) high-water mark across exec on Linux
        "try:\n"
        "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "    out['peak_rss_mb'] = int(hwm.split()[1]) / 1024\n"
        "except (OSError, IndexError):\n"
        "    out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    print(out)
    for scheme in ("ordinary", "linked"):
        over, unserved, spill, arrived = out[scheme]
        assert over and unserved > 0.25 * arrived and spill > 0.99
    assert out["peak_rss_mb"] < 800


def test_zero_conflicting_flow_and_many_slots():
    scn = small_scenario(
        demand={
            "opposing_through": {"flow_veh_h": 0},
            "cross_right": {"flow_veh_h": 0},
            "cross_left": {"flow_veh_h": 0},
        },
        geometry={"slots": 20, "storage_m": 200},
    )
    res = us.simulate(scn, "linked")
    s = res.summary().set_index("movement")
    # with no conflicting traffic every U-turner leaves a reaction time after it stops
    # (start lag apart); its control delay adds the stop's deceleration/acceleration
    assert s.loc["uturn", "queue_delay_mean_s"] < 2.0
    geo = res.vehicles.loc[res.vehicles.movement == "uturn", "geometric_delay_s"]
    assert s.loc["uturn", "delay_mean_s"] == pytest.approx(
        s.loc["uturn", "queue_delay_mean_s"] + geo.mean(), rel=0.05
    )
    assert res.vehicles["slot"].max() <= 20


def test_whole_day_profile_runs(tmp_path):
    scn = us.load_scenario(ROOT / "scenarios" / "liuyuan_longshan_24h.yaml")
    assert len(scn.demand.profile.factors) == 96
    res = us.simulate(scn, "linked")
    res.check_conservation()
    v = res.vehicles
    hourly = np.histogram(v["arrival_s"], bins=np.arange(0, 86401, 3600))[0]
    assert hourly[7] > 3 * hourly[3] and hourly[16] > 2 * hourly[3]


def test_results_do_not_depend_on_hash_seed():
    code = (
        "import uturn_sim as us, hashlib\n"
        "r = us.simulate(us.default_scenario(), 'linked')\n"
        "print(hashlib.sha256(r.vehicles.to_csv().encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
        ).stdout
        for seed in ("0", "12345")
    }
    assert len(digests) == 1


SWEEP_CORPUS = sorted((Path(__file__).parent / "corpus" / "sweeps").glob("*.yaml"))


@pytest.mark.parametrize("path", SWEEP_CORPUS, ids=[p.stem for p in SWEEP_CORPUS])
def test_sweep_corpus_error_names_field(path):
    from uturn_sim.sweeps.run import load_sweep

    with pytest.raises(us.ScenarioError) as info:
        load_sweep(path)
    assert expected(path) in str(info.value)
    assert str(info.value).startswith("invalid sweep")


def test_sweep_corpus_cli_exit_2(capsys):
    for path in SWEEP_CORPUS[:4]:
        rc, _, err = run_cli(["sweep", str(path)], capsys)
        assert rc == 2 and expected(path) in err


SWEEP = {
    "parameters": {
        "geometry.slots": [1, 2],
        "demand.uturn.flow_veh_h": {"start": 100, "stop": 300, "step": 100},
    },
    "replications": 2,
    "seed": 1,
}


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.sampled_from(["parameters", "replications", "seed", "schemes", "base", "extra"]), JUNK)
def test_mutated_sweeps_load_or_raise_scenario_error(key, value):
    from uturn_sim.sweeps.run import load_sweep

    data = copy.deepcopy(SWEEP)
    data[key] = value
    try:
        spec, _, cells = load_sweep(data)
    except us.ScenarioError as exc:
        assert exc.problems
        return
    assert len(cells) == len(spec.cells())


@pytest.mark.parametrize(
    "field,value,pattern",
    [
        ("lanes", 2, r"demand\.uturn\.lanes: must be 1"),
        ("signalized", False, r"demand\.uturn\.signalized: must be true"),
        (
            "saturation_flow_veh_h_lane",
            1500,
            r"saturation_flow_veh_h_lane: is not used .* \(set behaviour\.saturation_flow_veh_h\)",
        ),
    ],
)
def test_studied_stream_fields_that_would_be_ignored_are_errors(default, field, value, pattern):
    with pytest.raises(us.ScenarioError, match=pattern):
        us.update_scenario(default, {f"demand.uturn.{field}": value})


def test_sweep_binary_huge_and_bomb_files(tmp_path):
    from uturn_sim.sweeps.spec import load_sweep

    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    huge = tmp_path / "huge.yaml"
    huge.write_text("# x\n" * 400_000)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(YAML_BOMB)
    for path, pattern in ((binary, "not UTF-8"), (huge, "at most"), (bomb, "alias bomb")):
        with pytest.raises(us.ScenarioError, match=pattern):
            load_sweep(path)


YAML_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcde", "bcdef", strict=True)
)


def test_profile_peak_checked_for_headway_and_flow(default):
    # found by review: a profile peak beyond the minimum headway crashed the arrival core
    with pytest.raises(
        us.ScenarioError, match=r"demand\.uturn\.headway\.min_headway_s: 2 s leaves no room"
    ):
        us.update_scenario(
            default,
            {
                "demand.uturn.flow_veh_h": 1000,
                "demand.uturn.headway.model": "shifted_exponential",
                "demand.uturn.headway.min_headway_s": 2.0,
                "demand.profile.factors": [1.0, 2.0],
            },
        )
    with pytest.raises(us.ScenarioError, match=r"demand\.left\.flow_veh_h: 4000 veh/h per lane"):
        us.update_scenario(
            default, {"demand.left.flow_veh_h": 2000, "demand.profile.factors": [1.0, 2.0]}
        )


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=2))
def test_every_valid_mutation_also_runs(mutations):
    """Valid means runnable: whatever passes validation simulates without an exception."""
    data = copy.deepcopy(DEFAULT)
    for path, value in mutations:
        node = data
        try:
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        scn = us.load_scenario(data)
        scn = us.update_scenario(
            scn,
            {
                "simulation.duration_s": 600.0,
                "simulation.warmup_s": 0.0,
                "simulation.cooldown_s": 0.0,
            },
        )
    except us.ScenarioError:
        return
    table = us.build_arrivals(scn)
    for scheme in ("ordinary", "linked"):
        us.simulate(scn, scheme, arrivals=table).check_conservation()
