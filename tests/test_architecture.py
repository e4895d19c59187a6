"""The architecture's promises: plug-in schemes, declared measures, light start-up."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim.measures.catalog import COMPARED, MEASURES, RUN_TABLE, measure
from uturn_sim.model.schemes import Ordinary, get_scheme, register, scheme_names

from .conftest import small_scenario

PKG = Path(us.__file__).parent


@dataclass(frozen=True)
class LeftGreenOnlyOrdinary(Ordinary):
    """A toy scheme defined outside the package: the ordinary lane, U-turns on green only."""


def test_a_scheme_registered_from_outside_runs_in_compare():
    toy = register(
        LeftGreenOnlyOrdinary("toy_green_only", uturn_when="left_green", label="toy"),
        replace=True,
    )
    assert "toy_green_only" in scheme_names()
    scn = small_scenario(ordinary={"uturn_when": "any_safe_gap"})
    comp = us.compare(
        scn, schemes=["toy_green_only", "ordinary"], baseline="ordinary", replications=2, seed=3
    )
    t = comp.table()
    assert set(t["scheme"]) == {"toy_green_only"}
    # U-turns only on the green cannot beat U-turns in any safe gap
    row = t[(t.movement == "uturn") & (t.measure == "delay_mean_s")].iloc[0]
    assert row["mean"] > row["baseline_mean"]
    res = us.simulate(scn, toy, seed=3)
    assert res.scheme == "toy_green_only"
    assert set(res.vehicles.loc[res.vehicles.movement == "uturn", "served_by"]) <= {"green", ""}


def test_compare_three_schemes_against_the_baseline():
    scn = small_scenario()
    comp = us.compare(scn, schemes=["ordinary", "ordinary_permitted", "linked"], replications=2)
    t = comp.table()
    assert comp.baseline == "ordinary"
    assert set(t["scheme"]) == {"ordinary_permitted", "linked"}
    # paired difference = mean of scheme - mean of baseline
    np.testing.assert_allclose(t["difference"], t["mean"] - t["baseline_mean"], atol=1e-9)


def test_variants_fix_their_uturn_rule():
    scn = us.default_scenario()
    assert get_scheme("linked_zhengzhou").rules(scn).uturn_when == "left_green"
    assert get_scheme("linked_sanya").rules(scn).uturn_when == "left_green_or_safe_gap"
    assert get_scheme("ordinary_permitted").rules(scn).uturn_when == "left_green_or_safe_gap"
    assert get_scheme("linked").rules(scn).uturn_when == scn.linked.uturn_when


def test_unknown_scheme_and_duplicate_registration():
    with pytest.raises(ValueError, match="unknown scheme 'zz'; registered: ordinary"):
        get_scheme("zz")
    with pytest.raises(ValueError, match="already registered"):
        register(Ordinary("ordinary"))


def test_measures_are_declared_once_and_used_everywhere():
    names = [m.name for m in MEASURES]
    assert len(set(names)) == len(names)
    assert set(COMPARED) <= set(names) and set(RUN_TABLE) <= set(names)
    summ = us.simulate(small_scenario(), "linked").summary()
    assert list(summ.columns) == ["movement", "scheme", *names] or list(summ.columns) == [
        "scheme",
        "movement",
        *names,
    ]
    for m in MEASURES:
        assert m.unit and m.label, m.name
    with pytest.raises(KeyError, match="unknown measure 'nope'"):
        measure("nope")


def test_check_and_schema_import_neither_pandas_nor_matplotlib(tmp_path):
    code = (
        "import sys\n"
        "from uturn_sim.cli import main\n"
        f"assert main(['check', {str(PKG / 'data' / 'liuyuan_longshan.yaml')!r}]) == 0\n"
        "assert main(['schema']) == 0\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'matplotlib'})\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _imports(path: Path) -> set[str]:
    """Runtime imports of ``path`` (annotation-only imports under TYPE_CHECKING excluded)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("uturn_sim"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("uturn_sim")}
    return out


# each layer may import only layers listed before it (and itself)
LAYERS = [
    "errors",
    "scenario",
    "traffic",
    "measures",
    "model",
    "study",
    "sweeps",
    "validation",
    "calibration",
    "advisor",
    "plots",
    "cli",
]


def test_nothing_imports_upward():
    rank = {name: i for i, name in enumerate(LAYERS)}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        layer = rel.parts[0]
        if layer == "__init__" or layer not in rank:
            continue
        for mod in _imports(path):
            parts = mod.split(".")
            if len(parts) < 2 or parts[1] not in rank:
                continue
            assert rank[parts[1]] <= rank[layer], f"{rel} imports {mod} (upward)"


def test_no_matplotlib_use_and_no_test_env_vars_in_library():
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        assert "matplotlib.use(" not in text, path
        assert "UTURN_SIM_TEST" not in text, path


def test_sweep_shares_a_scheme_that_ignores_the_varied_parameter(monkeypatch):
    from uturn_sim.sweeps import run as sweep_run

    calls = []
    real = sweep_run.simulate

    def counting(scn, scheme, **kw):
        calls.append((scheme.name, scn.geometry.slots))
        return real(scn, scheme, **kw)

    monkeypatch.setattr(sweep_run, "simulate", counting)
    scn = small_scenario().model_dump(mode="json")
    cells = {}
    for c, k in enumerate((1, 2, 3)):
        d = json_copy(scn)
        d["geometry"]["slots"] = k
        cells[c] = d
    tasks = [(c, r) for r in range(2) for c in cells]
    rows = sweep_run.run_chunk(tasks, cells, ["ordinary", "linked_sanya"], 5, engine="simpy")
    assert sum(1 for s, _ in calls if s == "ordinary") == 2  # once per replication
    assert sum(1 for s, _ in calls if s == "linked_sanya") == 6  # every cell
    frame = __import__("pandas").DataFrame(rows)
    # shared rows equal a fresh run of that cell
    fresh = us.simulate(us.load_scenario(cells[2]), "ordinary", seed=5, replication=1).summary()
    sel = (frame.scheme == "ordinary") & (frame.cell == 2) & (frame.replication == 1)
    got = frame[sel].reset_index(drop=True)
    np.testing.assert_array_equal(got["delay_mean_s"], fresh["delay_mean_s"])  # NaN == NaN


def json_copy(d):
    import json

    return json.loads(json.dumps(d))


def test_readme_tables_are_generated_from_the_declarations():
    from uturn_sim.measures.catalog import measures_markdown
    from uturn_sim.model.result import VEHICLE_COLUMNS

    readme = (PKG.parent / "README.md").read_text()
    assert measures_markdown() in readme
    for name, meaning in VEHICLE_COLUMNS.items():
        assert f"| `{name}` | {meaning} |" in readme
