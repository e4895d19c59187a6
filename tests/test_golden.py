"""Golden files: behaviour pinned byte for byte across refactors.

The files in ``tests/golden`` were written by the code they pin; a change of the
model's rules must regenerate them on purpose (``python tests/test_golden.py``),
never to make a refactor pass.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import uturn_sim as us
from uturn_sim.cli import main

GOLDEN = Path(__file__).with_name("golden")


def _compare_text() -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["compare"]) == 0
    return buf.getvalue()


def _vehicles_csv(scheme: str) -> str:
    return us.simulate(us.default_scenario(), scheme, seed=3).vehicles.to_csv(index=False)


def _sweep_csv(tmp: Path) -> str:
    out = tmp / "sweep.csv"
    us.sweep(GOLDEN / "sweep_small.yaml", backend="serial", out=out)
    return out.read_text()


def test_default_compare_output_is_unchanged():
    assert _compare_text() == (GOLDEN / "compare_default.txt").read_text()


def test_vehicle_records_are_unchanged():
    for scheme in ("ordinary", "linked"):
        want = (GOLDEN / f"vehicles_{scheme}_seed3.csv").read_text()
        assert _vehicles_csv(scheme) == want, scheme


def test_sweep_csv_is_unchanged(tmp_path):
    assert _sweep_csv(tmp_path) == (GOLDEN / "sweep_small.csv").read_text()


if __name__ == "__main__":  # regenerate on purpose after a deliberate rule change
    import tempfile

    (GOLDEN / "compare_default.txt").write_text(_compare_text())
    for s in ("ordinary", "linked"):
        (GOLDEN / f"vehicles_{s}_seed3.csv").write_text(_vehicles_csv(s))
    with tempfile.TemporaryDirectory() as d:
        (GOLDEN / "sweep_small.csv").write_text(_sweep_csv(Path(d)))
    print("golden files rewritten", file=sys.stderr)
