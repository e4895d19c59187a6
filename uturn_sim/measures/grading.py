"""Grading tables: control delay (s/veh) to a level-of-service grade.

The HCM tables live in :mod:`uturn_sim.measures.catalog`; a local standard is read
from a user's CSV (``load_grading``), never invented here.  CSV format, one row per
grade from best to worst::

    grade,max_control_delay_s
    一级,15
    二级,30
    三级,50
    四级,

The last grade's bound is left empty (no upper bound).  Bounds must increase.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uturn_sim.errors import ScenarioError
from uturn_sim.measures.catalog import LOS_SIGNALIZED, LOS_UNSIGNALIZED

__all__ = ["HCM_SIGNALIZED", "HCM_TWO_WAY_STOP", "Grading", "load_grading"]


@dataclass(frozen=True)
class Grading:
    """A grading table: ``grades[i]`` holds control delays up to ``bounds_s[i]`` s/veh.

    ``len(grades) == len(bounds_s) + 1``: the last grade is unbounded.
    """

    name: str
    grades: tuple[str, ...]
    bounds_s: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.grades) != len(self.bounds_s) + 1:
            raise ValueError(
                f"grading {self.name!r}: {len(self.grades)} grades need "
                f"{len(self.grades) - 1} bounds, got {len(self.bounds_s)}"
            )
        if any(b <= a for a, b in itertools.pairwise(self.bounds_s)):
            raise ValueError(f"grading {self.name!r}: bounds must increase, got {self.bounds_s}")

    def grade(self, delay_s: float) -> str:
        """The grade of a control delay, s/veh ('-' for NaN)."""
        if not np.isfinite(delay_s):
            return "-"
        return self.grades[int(np.searchsorted(np.asarray(self.bounds_s), delay_s, side="left"))]

    def limit_s(self, grade: str) -> float:
        """The largest control delay (s/veh) still graded ``grade`` or better.

        Raises
        ------
        ValueError
            For a grade not in the table.
        """
        if grade not in self.grades:
            raise ValueError(f"grade {grade!r} is not in {self.name!r}: {', '.join(self.grades)}")
        i = self.grades.index(grade)
        return float("inf") if i == len(self.bounds_s) else self.bounds_s[i]


HCM_SIGNALIZED = Grading("HCM signalized", tuple("ABCDEF"), LOS_SIGNALIZED)
HCM_TWO_WAY_STOP = Grading("HCM two-way stop", tuple("ABCDEF"), LOS_UNSIGNALIZED)


def load_grading(path: str | Path) -> Grading:
    """Read a grading table from CSV (see the module docstring for the format).

    Raises
    ------
    ScenarioError
        Naming the file, the row and what is wrong.
    """
    import csv

    p = Path(path)
    if not p.is_file():
        raise ScenarioError([f"(file): no grading table at {str(p)!r}"], what="grading table")
    problems: list[str] = []
    grades: list[str] = []
    bounds: list[float] = []
    with p.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"grade", "max_control_delay_s"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise ScenarioError(
                [f"{p}: columns must include grade,max_control_delay_s; got {reader.fieldnames}"],
                what="grading table",
            )
        rows = list(reader)
    for i, row in enumerate(rows, start=2):
        g = (row["grade"] or "").strip()
        b = (row["max_control_delay_s"] or "").strip()
        if not g:
            problems.append(f"{p} line {i}: grade is empty")
        grades.append(g)
        if i == len(rows) + 1:
            if b:
                problems.append(
                    f"{p} line {i}: the last grade's max_control_delay_s must be empty "
                    "(no upper bound)"
                )
            continue
        try:
            v = float(b)
            if not np.isfinite(v) or v <= 0:
                raise ValueError
            bounds.append(v)
        except ValueError:
            problems.append(f"{p} line {i}: max_control_delay_s {b!r} must be a number > 0 s/veh")
    if len(rows) < 2:
        problems.append(f"{p}: a grading table needs at least two grades")
    if not problems and any(b <= a for a, b in itertools.pairwise(bounds)):
        problems.append(f"{p}: max_control_delay_s must increase from row to row, got {bounds}")
    if problems:
        raise ScenarioError(problems, what="grading table")
    return Grading(p.stem, tuple(grades), tuple(bounds))
