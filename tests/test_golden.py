"""Golden files: behaviour pinned byte for byte across refactors.

The files in ``tests/golden`` were written by the code they pin; a change of the
model's rules must regenerate them on purpose (``python tests/test_golden.py``),
never to make a refactor pass.

``tests/golden/bay_only`` holds the files the bay-alone model wrote before the
approach's through lanes existed (commit e228249); they are never regenerated:
``approach.through_lanes: 0`` must reproduce them exactly, which is what keeps the
switch honest.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import yaml

import uturn_sim as us
from uturn_sim.cli import main
from uturn_sim.scenario.loading import scenario_to_yaml, update_scenario

GOLDEN = Path(__file__).with_name("golden")
BAY_ONLY = GOLDEN / "bay_only"


def _compare_text(*argv: str) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["compare", *argv]) == 0
    return buf.getvalue()


def _vehicles_csv(scheme: str, scenario: us.Scenario | None = None) -> str:
    scn = scenario or us.default_scenario()
    return us.simulate(scn, scheme, seed=3).vehicles.to_csv(index=False)


def _sweep_csv(tmp: Path, spec: Path = GOLDEN / "sweep_small.yaml") -> str:
    out = tmp / "sweep.csv"
    us.sweep(spec, backend="serial", out=out)
    return out.read_text()


def _bay_only() -> us.Scenario:
    return update_scenario(us.default_scenario(), {"approach.through_lanes": 0})


def test_default_compare_output_is_unchanged():
    assert _compare_text() == (GOLDEN / "compare_default.txt").read_text()


def test_vehicle_records_are_unchanged():
    for scheme in ("ordinary", "linked"):
        want = (GOLDEN / f"vehicles_{scheme}_seed3.csv").read_text()
        assert _vehicles_csv(scheme) == want, scheme


def test_sweep_csv_is_unchanged(tmp_path):
    assert _sweep_csv(tmp_path) == (GOLDEN / "sweep_small.csv").read_text()


def test_through_lanes_off_reproduces_the_bay_model_exactly(tmp_path):
    """``approach.through_lanes: 0`` gives the bay-alone model's outputs, to the byte."""
    path = tmp_path / "bay_only.yaml"
    path.write_text(scenario_to_yaml(_bay_only()))
    assert _compare_text(str(path)) == (BAY_ONLY / "compare_default.txt").read_text()
    for scheme in ("ordinary", "linked"):
        want = (BAY_ONLY / f"vehicles_{scheme}_seed3.csv").read_text()
        cols = list(pd.read_csv(io.StringIO(want)).columns)  # the columns it had then
        got = us.simulate(_bay_only(), scheme, seed=3).vehicles
        assert got[cols].to_csv(index=False) == want, scheme
        assert (got["lane"] == 0).all() and got["bay_entry_s"].equals(got["arrival_s"])
    spec = yaml.safe_load((GOLDEN / "sweep_small.yaml").read_text())
    spec["parameters"]["approach.through_lanes"] = [0]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    got = pd.read_csv(io.StringIO(_sweep_csv(tmp_path, tmp_path / "spec.yaml")))
    want = pd.read_csv(BAY_ONLY / "sweep_small.csv")
    got = got[got["movement"] != "through"]
    keys = ["geometry.slots", "demand.uturn.flow_veh_h", "scheme", "replication", "movement"]
    cols = [c for c in want.columns if c != "cell"]  # the extra parameter renumbers cells
    got = got[cols].sort_values(keys, kind="stable").reset_index(drop=True)
    want = want[cols].sort_values(keys, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


if __name__ == "__main__":  # regenerate on purpose after a deliberate rule change
    import tempfile

    (GOLDEN / "compare_default.txt").write_text(_compare_text())
    for s in ("ordinary", "linked"):
        (GOLDEN / f"vehicles_{s}_seed3.csv").write_text(_vehicles_csv(s))
    with tempfile.TemporaryDirectory() as d:
        (GOLDEN / "sweep_small.csv").write_text(_sweep_csv(Path(d)))
    print("golden files rewritten", file=sys.stderr)
