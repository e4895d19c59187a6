"""The notebooks run top to bottom (quick mode)."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("UTURN_SIM_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit without outputs"
    )
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    # every figure is shown: each show(...) call left one PNG in its cell's outputs
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        shown = cell.source.count("show(") - cell.source.count("def show(")
        images = sum("image/png" in o.get("data", {}) for o in cell.outputs)
        assert images == shown, (cell.source, images)
    assert sum("show(" in c.source for c in nb.cells if c.cell_type == "code") >= 2
    assert os.environ["UTURN_SIM_QUICK"] == "1"
