import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import uturn_sim as us
from uturn_sim.scenario.loading import scenario_to_yaml

from .conftest import ROOT, SMALL_SIGNAL


def test_default_is_shipped_and_identical_to_scenarios_copy():
    packaged = (ROOT / "uturn_sim" / "data" / "liuyuan_longshan.yaml").read_text()
    assert (ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text() == packaged


def test_default_numbers_match_domain(default):
    d = default.demand
    assert (d.uturn.flow_veh_h, d.left.flow_veh_h) == (220, 80)
    assert (d.opposing_through.flow_veh_h, d.opposing_through.lanes) == (900, 2)
    assert (d.cross_right.flow_veh_h, d.cross_left.flow_veh_h) == (200, 150)
    assert d.profile.factors == [0.8, 1.3, 1.1, 0.8]
    assert default.signal.cycle_s == 130
    assert [p.green_s for p in default.signal.phases] == [45, 25, 25, 15]
    assert (default.geometry.storage_m, default.geometry.slots) == (60, 4)
    b = default.behaviour
    assert (b.critical_gap.mean_s, b.follow_up_headway_s, b.linked_start_lag_s) == (6.4, 2.5, 2.0)
    assert (b.move_up_speed_m_s, b.saturation_flow_veh_h) == (4.0, 1800)
    assert (b.reaction_time_s, b.accel_m_s2, b.slot_hold_s, b.turn_clear_s) == (1.0, 2.0, 2.0, 5.5)


def test_every_default_value_is_written_in_the_yaml():
    """The embedded YAML states every number (nothing hidden in code defaults), commented."""
    text = (ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text()
    for key in (
        "storage_m",
        "jam_spacing_m",
        "slot_length_m",
        "follow_up_headway_s",
        "linked_start_lag_s",
        "move_up_speed_m_s",
        "reaction_time_s",
        "accel_m_s2",
        "decel_m_s2",
        "slot_hold_s",
        "turn_clear_s",
        "conflict_entry_s",
        "approach_speed_m_s",
        "uturn_speed_m_s",
        "left_speed_m_s",
        "startup_lost_time_s",
        "cooldown_s",
    ):
        assert f"{key}:" in text
    assert text.count("#") > 30


SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", [p for p in SHIPPED if not p.name.startswith("sweep_")])
def test_every_shipped_scenario_is_valid(path):
    us.load_scenario(path)


@pytest.mark.parametrize("path", [p for p in SHIPPED if p.name.startswith("sweep_")])
def test_every_shipped_sweep_is_valid(path):
    from uturn_sim.sweeps.spec import load_sweep

    assert "base" in yaml.safe_load(path.read_text())
    load_sweep(path)


def test_resolved_yaml_round_trips(default):
    again = us.load_scenario(scenario_to_yaml(default))
    assert again == default


def test_schema_file_is_current_and_validates_default():
    text = us.scenario_schema()
    assert (ROOT / "scenarios" / "scenario.schema.json").read_text() == text
    schema = json.loads(text)
    data = yaml.safe_load((ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text())
    jsonschema.validate(data, schema)


def test_readme_scenario_reference_covers_every_field():
    """The README's scenario reference names every field of the schema."""
    readme = (ROOT / "README.md").read_text()
    schema = json.loads(us.scenario_schema())
    for name, model in schema["$defs"].items():
        for field in model.get("properties", {}):
            assert f"`{field}`" in readme, f"README misses field {name}.{field}"


def _good():
    return {
        "signal": SMALL_SIGNAL,
        "demand": {
            "uturn": {"flow_veh_h": 100},
            "left": {"flow_veh_h": 50},
            "opposing_through": {"flow_veh_h": 300},
            "cross_right": {"flow_veh_h": 0},
            "cross_left": {"flow_veh_h": 0},
        },
    }


def test_good_mapping_loads():
    assert us.load_scenario(_good()).demand.uturn.flow_veh_h == 100


YAML_CASES = {
    "typo": (
        "signal:\n  cycle_s: 60\n  phases: [{name: a, green_s: 55, serves: [left, uturn, "
        "opposing_through, cross_right, cross_left]}]\ndemand:\n  uturn:\n    flow_veh_hr: 100\n",
        r"demand\.uturn\.flow_veh_hr \(line 6\): unknown field \(did you mean 'flow_veh_h'\?\)",
    ),
    "negative flow": (
        "signal: {cycle_s: 60, phases: [{name: a, green_s: 55, serves: [left, uturn]}]}\n"
        "demand:\n  left:\n    flow_veh_h: -20\n",
        r"demand\.left\.flow_veh_h \(line 4\): Input should be greater than or equal to 0",
    ),
    "phases longer than cycle": (
        "signal:\n  cycle_s: 60\n  phases:\n    - {name: a, green_s: 70}\n",
        r"signal \(line 2\): phases .* sum to 75 s but cycle_s is 60 s",
    ),
    "syntax": ("signal:\n  cycle_s: [60\n", r"YAML syntax error \(line 3"),
    "empty": ("", r"scenario is empty"),
    "only comment": ("# nothing\n", r"scenario is empty"),
    "not a mapping": ("- 1\n- 2\n", r"must be a YAML mapping"),
    "nan": (
        "signal: {cycle_s: .nan, phases: [{name: a, green_s: 5}]}\n",
        r"signal\.cycle_s \(line 1\): Input should be a finite number",
    ),
    "wrong type": (
        "geometry: {slots: four}\nsignal: {cycle_s: 60, phases: [{name: a, green_s: 55}]}\n",
        r"geometry\.slots \(line 1\): Input should be a valid integer",
    ),
    "alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
            for p, n in zip("abcde", "bcdef", strict=True)
        ),
        r"alias bomb",
    ),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_bad_yaml_names_field_and_line(case):
    text, pattern = YAML_CASES[case]
    with pytest.raises(us.ScenarioError, match=pattern):
        us.load_scenario(text)


def _with(path, value):
    data = _good()
    node = data
    for k in path[:-1]:
        node = node.setdefault(k, {})
    node[path[-1]] = value
    return data


MAPPING_CASES = {
    "absurd flow": (
        ("demand", "opposing_through", "flow_veh_h"),
        9000,
        r"more than 2400 is absurd",
    ),
    "served by no phase": (
        ("signal",),
        {
            "cycle_s": 60,
            "phases": [{"name": "a", "green_s": 55, "serves": ["uturn", "opposing_through"]}],
        },
        r"demand\.left: flow_veh_h > 0 but no phase in signal\.phases serves it",
    ),
    "slots beyond storage": (
        ("geometry",),
        {"storage_m": 20, "slots": 4},
        r"geometry: slots \(4 x 7\.5 m = 30 m\) do not fit in storage_m \(20 m\)",
    ),
    "conflicting above capacity": (
        ("demand", "opposing_through", "flow_veh_h"),
        1000,
        r"demand\.opposing_through\.flow_veh_h: 1000 veh/h \(at its peak\) is not below its "
        r"signal capacity",
    ),
    "headway infeasible": (
        ("demand", "uturn"),
        {"flow_veh_h": 2000, "headway": {"model": "shifted_exponential", "min_headway_s": 2.0}},
        r"headway\.min_headway_s \(2 s\) must be below",
    ),
    "follow-up above gap": (
        ("behaviour",),
        {"follow_up_headway_s": 7.0},
        r"behaviour: follow_up_headway_s \(7 s\) must be below critical_gap\.mean_s",
    ),
    "critical gap bounds": (
        ("behaviour",),
        {"critical_gap": {"mean_s": 2.0}},
        r"behaviour\.critical_gap: mean_s \(2 s\) must lie within",
    ),
    "infinite": (
        ("geometry",),
        {"storage_m": float("inf")},
        r"geometry\.storage_m: Input should be a finite",
    ),
    "unknown section": (
        ("simulaton",),
        {},
        r"simulaton: unknown field \(did you mean 'simulation'\?\)",
    ),
    "bad movement": (
        ("signal",),
        {"cycle_s": 60, "phases": [{"name": "a", "green_s": 55, "serves": ["uturns"]}]},
        r"signal\.phases\[0\]\.serves\[0\]: Input should be 'uturn'",
    ),
    "missing signal": (("signal",), None, r"signal: Input should be a valid dictionary"),
}


@pytest.mark.parametrize("case", sorted(MAPPING_CASES))
def test_bad_values_name_the_field(case):
    path, value, pattern = MAPPING_CASES[case]
    with pytest.raises(us.ScenarioError, match=pattern):
        us.load_scenario(_with(path, value))


def test_all_problems_reported_at_once():
    data = _with(("demand", "left", "flow_veh_h"), -1)
    data["geometry"] = {"slots": 0, "storage_mm": 3}
    with pytest.raises(us.ScenarioError) as info:
        us.load_scenario(data)
    assert len(info.value.problems) == 3
    assert isinstance(info.value, ValueError)


def test_file_errors(tmp_path):
    with pytest.raises(us.ScenarioError, match="no scenario file at"):
        us.load_scenario(tmp_path / "missing.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(us.ScenarioError, match=r"not UTF-8 text|binary"):
        us.load_scenario(binary)
    huge = tmp_path / "huge.yaml"
    huge.write_text("# x\n" * 400_000)
    with pytest.raises(us.ScenarioError, match="larger than"):
        us.load_scenario(huge)
    assert isinstance(Path(huge), Path)


def test_readme_reference_block_is_generated_from_the_models():
    from uturn_sim.scenario.reference import scenario_reference

    assert scenario_reference() in (ROOT / "README.md").read_text()


def test_public_api_matches_readme():
    """__all__ is the documented API (as SimPy checks its __all__ against its docs)."""
    import re

    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("Public API (`uturn_sim.__all__`)") :].split("\n\n")[0]
    documented = set(re.findall(r"`(\w+)`", block)) - {"uturn_sim", "__all__"}
    documented -= {"plots", "theory"}
    assert documented == set(us.__all__)
    for name in us.__all__:
        assert getattr(us, name) is not None
    assert (ROOT / "uturn_sim" / "py.typed").exists()


def test_update_scenario_validates(default):
    s = us.update_scenario(
        default, {"geometry.slots": 3, "signal.phases.1.green_s": 20, "signal.phases.0.green_s": 50}
    )
    assert s.geometry.slots == 3 and s.signal.phases[1].green_s == 20
    with pytest.raises(us.ScenarioError, match=r"geometry: slots \(9 x 7\.5 m"):
        us.update_scenario(default, {"geometry.slots": 9})
    with pytest.raises(us.ScenarioError, match=r"geometry\.slot: geometry has no field 'slot'"):
        us.update_scenario(default, {"geometry.slot": 3})


def test_lazy_api_names_are_the_functions_not_modules():
    import importlib
    import inspect

    for mod in ("study", "sweeps", "model", "scenario", "traffic", "measures", "validation"):
        importlib.import_module(f"uturn_sim.{mod}")
    for name in us.__all__:
        obj = getattr(us, name)
        assert inspect.isclass(obj) or inspect.isfunction(obj), name
    assert sorted(dir(us)) == sorted(us.__all__)
