"""Regenerate the README's quoted outputs from the current code (real runs).

Run from the repository root: ``python docs/regenerate_readme.py``.  Each block between
``<!-- NAME:begin ... -->`` and ``<!-- NAME:end -->`` is replaced by the output of its
command; ``tests/test_docs.py`` checks the compare block against a fresh run.
"""

from __future__ import annotations

import io
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from uturn_sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = {
    "compare-output": ["compare"],
    "ladder-output": ["compare", "--ladder"],
    "sensitivity-output": ["sensitivity", "--plots", str(ROOT / "docs" / "figures")],
}


def run(argv: list[str]) -> str:
    """The standard output of ``uturn-sim ARGV``."""
    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(io.StringIO()):
        assert main(argv) == 0, argv
    return "\n".join(ln for ln in buf.getvalue().splitlines() if not ln.startswith("wrote "))


def splice(text: str, name: str, body: str) -> str:
    """``text`` with block ``name`` replaced by ``body`` in a text fence."""
    pat = re.compile(rf"(<!-- {name}:begin[^>]*-->\n).*?(<!-- {name}:end -->)", re.S)
    cmd = "uturn-sim " + " ".join(a for a in BLOCKS[name] if not a.startswith(str(ROOT)))
    cmd = cmd.replace(" --plots", " --plots docs/figures")
    return pat.sub(lambda m: f"{m[1]}```text\n$ {cmd}\n{body.rstrip()}\n```\n{m[2]}", text)


def _vehicle_columns() -> str:
    from uturn_sim.model.result import VEHICLE_COLUMNS

    rows = [f"| `{k}` | {v} |" for k, v in VEHICLE_COLUMNS.items()]
    return "\n".join(["| column | meaning |", "|---|---|", *rows]) + "\n"


def _measures() -> str:
    from uturn_sim.measures.catalog import measures_markdown

    return measures_markdown()


def splice_reference(text: str) -> str:
    """``text`` with the generated tables: scenario reference, vehicle columns, measures."""
    from uturn_sim.scenario.reference import scenario_reference

    pat = re.compile(r"<!-- scenario-reference:begin.*?<!-- scenario-reference:end -->\n", re.S)
    text = pat.sub(lambda m: scenario_reference(), text)
    for name, body in (("vehicle-columns", _vehicle_columns), ("measures", _measures)):
        pat = re.compile(rf"(<!-- {name}:begin[^>]*-->\n).*?(<!-- {name}:end -->)", re.S)
        text = pat.sub(lambda m, body=body: f"{m[1]}{body()}{m[2]}", text)
    return text


if __name__ == "__main__":
    readme = ROOT / "README.md"
    text = splice_reference(readme.read_text(encoding="utf-8"))
    for name in sys.argv[1:] or BLOCKS:
        text = splice(text, name, run(BLOCKS[name]))
    readme.write_text(text, encoding="utf-8")
