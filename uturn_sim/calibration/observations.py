"""Observation file formats (CSV) and their validation.

The format of a file is told by the start of its name:

=================  =====================================================================
``gaps*.csv``      gap acceptance: ``driver``, ``offered_s``, ``accepted`` (0/1),
                   optional ``kind`` (``lag``/``gap``); one row per lag or gap offered
``follow_up*.csv`` queued drivers starting in one gap: ``gap``, ``driver``, ``start_s``
``slot_events*``   ``car``, ``platoon``, ``slot``, ``stopped_s``, ``moved_s``, ``cleared_s``,
                   ``turned`` (0/1), optional ``left_conflict_s``
``discharge*.csv`` ``cycle``, ``green_start_s``, ``position``, ``start_s``
``counts*.csv``    ``movement``, ``interval_start_s``, ``interval_s``, ``count``
=================  =====================================================================

Times are in s.  Lines starting with ``#`` and blank lines are ignored.  Every
problem is reported with the file, the row (1 = first data row), its line and
the column, as one :class:`ObservationError`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from uturn_sim.errors import ScenarioError

__all__ = ["FORMATS", "ObservationError", "Observations", "find_files", "read_observations"]

MOVEMENT_NAMES = ("uturn", "left", "opposing_through", "cross_right", "cross_left")
MAX_PROBLEMS = 20


class ObservationError(ScenarioError):
    """An observation file is invalid; ``problems`` name file, row, line and column."""

    def __init__(self, problems: list[str]):
        super().__init__(problems, what="observations")


@dataclass(frozen=True)
class Format:
    """One CSV format: required and optional columns and their kinds."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    times: tuple[str, ...] = ()  # non-negative numbers, s (may be empty if optional)
    integers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # 0 or 1
    texts: tuple[str, ...] = ()


FORMATS: dict[str, Format] = {
    "gaps": Format(
        "gaps",
        ("driver", "offered_s", "accepted"),
        ("kind",),
        times=("offered_s",),
        flags=("accepted",),
        texts=("driver", "kind"),
    ),
    "follow_up": Format(
        "follow_up",
        ("gap", "driver", "start_s"),
        times=("start_s",),
        texts=("gap", "driver"),
    ),
    "slot_events": Format(
        "slot_events",
        ("car", "platoon", "slot", "stopped_s", "moved_s", "cleared_s", "turned"),
        ("left_conflict_s",),
        times=("stopped_s", "moved_s", "cleared_s", "left_conflict_s"),
        integers=("slot",),
        flags=("turned",),
        texts=("car", "platoon"),
    ),
    "discharge": Format(
        "discharge",
        ("cycle", "green_start_s", "position", "start_s"),
        times=("green_start_s", "start_s"),
        integers=("position",),
        texts=("cycle",),
    ),
    "counts": Format(
        "counts",
        ("movement", "interval_start_s", "interval_s", "count"),
        times=("interval_start_s", "interval_s"),
        integers=("count",),
        texts=("movement",),
    ),
}
_OPTIONAL_EMPTY = {"moved_s", "cleared_s", "left_conflict_s"}  # blank: not observed


@dataclass
class Observations:
    """Validated observation tables (pandas DataFrames), None where no file was given."""

    gaps: pd.DataFrame | None = None
    follow_up: pd.DataFrame | None = None
    slot_events: pd.DataFrame | None = None
    discharge: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    files: dict[str, str] | None = None


def find_files(paths: list[str | Path]) -> dict[str, Path]:
    """Map format name -> file for ``paths`` (files, or directories holding ``*.csv``)."""
    found: dict[str, Path] = {}
    problems = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(p.glob("*.csv"))
        elif p.is_file():
            files = [p]
        else:
            problems.append(f"{p}: no such file or directory")
            continue
        for f in files:
            kind = next((k for k in FORMATS if f.name.startswith(k)), None)
            if kind is None:
                problems.append(
                    f"{f}: cannot tell the format from the file name; start it with one of "
                    + ", ".join(FORMATS)
                )
            elif kind in found:
                problems.append(f"{f}: a second {kind} file (first: {found[kind]}); give one")
            else:
                found[kind] = f
    if problems:
        raise ObservationError(problems)
    if not found:
        raise ObservationError([f"{', '.join(map(str, paths))}: no observation CSV files found"])
    return found


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of each data row, skipping comments and blanks."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ObservationError([f"{path}: not UTF-8 text"]) from None
    rows = []
    header: list[str] | None = None
    for lineno, cells in enumerate(csv.reader(text.splitlines()), start=1):
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in cells]
        if header is None:
            header = cells
        else:
            rows.append((lineno, cells))
    if header is None:
        raise ObservationError([f"{path}: empty file; expected a header row"])
    return header, rows


def read_table(path: Path, kind: str) -> pd.DataFrame:
    """Read and check one observation file of format ``kind``.

    Raises
    ------
    ObservationError
        Listing each problem with file, row, line and column.
    """
    fmt = FORMATS[kind]
    header, rows = _rows(path)
    missing = [c for c in fmt.required if c not in header]
    if missing:
        raise ObservationError(
            [
                f"{path}: missing column(s) {', '.join(missing)}; a {kind} file needs "
                + ", ".join(fmt.required)
            ]
        )
    cols = [c for c in (*fmt.required, *fmt.optional) if c in header]
    idx = {c: header.index(c) for c in cols}
    data: dict[str, list] = {c: [] for c in cols}
    problems: list[str] = []
    for r, (lineno, cells) in enumerate(rows, start=1):
        where = f"{path}: row {r} (line {lineno})"
        if len(cells) != len(header):
            problems.append(f"{where}: {len(cells)} cells, the header has {len(header)}")
            continue
        for c in cols:
            cell = cells[idx[c]]
            value, err = _parse(c, cell, fmt)
            if err:
                problems.append(f"{where}, column '{c}': {err} (got {cell!r})")
            data[c].append(value)
    if not rows:
        problems.append(f"{path}: no data rows")
    if problems:
        raise ObservationError(_cap(problems))
    df = pd.DataFrame(data)
    df.attrs["path"], df.attrs["lines"] = str(path), [ln for ln, _ in rows]
    _check_rules(df, kind, path)
    return df


def _parse(col: str, cell: str, fmt: Format) -> tuple[object, str]:
    if col in fmt.texts:
        return cell, "" if cell or col == "kind" else "empty"
    if cell == "" and col in _OPTIONAL_EMPTY:
        return np.nan, ""
    try:
        x = float(cell)
    except ValueError:
        return np.nan, "not a number"
    if not np.isfinite(x):
        return np.nan, "not a finite number"
    if col in fmt.flags and x not in (0.0, 1.0):
        return x, "must be 0 or 1"
    if col in fmt.integers and (x != int(x) or x < 0):
        return x, "must be a non-negative whole number"
    if col in fmt.times and x < 0:
        return x, "negative time; times are s >= 0"
    return (int(x) if col in fmt.integers or col in fmt.flags else x), ""


def _cap(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more"]


def _at(df: pd.DataFrame, i: int) -> str:
    return f"{df.attrs['path']}: row {i + 1} (line {df.attrs['lines'][i]})"


def _check_rules(df: pd.DataFrame, kind: str, path: Path) -> None:
    """Cross-row rules: one accepted gap per driver, accepted longer than rejected, etc."""
    problems: list[str] = []
    if kind == "gaps":
        for drv, g in df.groupby("driver", sort=False):
            acc = g.index[g["accepted"] == 1]
            if len(acc) != 1:
                i = int(g.index[-1])
                problems.append(
                    f"{_at(df, i)}, column 'accepted': driver {drv!r} has {len(acc)} accepted "
                    "gaps; each driver needs exactly one"
                )
                continue
            a = float(g.loc[acc[0], "offered_s"])
            rej = g[(g["accepted"] == 0) & (g["offered_s"] >= a)]
            if len(rej):
                i = int(acc[0])
                problems.append(
                    f"{_at(df, i)}, column 'offered_s': driver {drv!r} accepted {a:g} s but "
                    f"rejected {float(rej['offered_s'].max()):g} s (row {int(rej.index[0]) + 1}); "
                    "a consistent driver accepts no gap shorter than one it rejected"
                )
    elif kind == "slot_events":
        bad = df.index[df["moved_s"] < df["stopped_s"]]
        problems += [f"{_at(df, i)}, column 'moved_s': before stopped_s" for i in bad]
        bad = df.index[df["cleared_s"] < df["moved_s"]]
        problems += [f"{_at(df, i)}, column 'cleared_s': before moved_s" for i in bad]
        bad = df.index[(df["turned"] == 1) & df["moved_s"].isna()]
        problems += [f"{_at(df, i)}, column 'moved_s': a turning car needs it" for i in bad]
    elif kind == "discharge":
        bad = df.index[df["start_s"] < df["green_start_s"]]
        problems += [f"{_at(df, i)}, column 'start_s': before green_start_s" for i in bad]
        dup = df.index[df.duplicated(["cycle", "position"])]
        problems += [f"{_at(df, i)}, column 'position': repeated in its cycle" for i in dup]
    elif kind == "counts":
        bad = df.index[~df["movement"].isin(MOVEMENT_NAMES)]
        problems += [
            f"{_at(df, i)}, column 'movement': unknown movement {df.loc[i, 'movement']!r}; "
            f"allowed: {', '.join(MOVEMENT_NAMES)}"
            for i in bad
        ]
        bad = df.index[df["interval_s"] <= 0]
        problems += [f"{_at(df, i)}, column 'interval_s': must be > 0" for i in bad]
        if df["interval_s"].nunique() > 1:
            problems.append(f"{path}: column 'interval_s': all intervals must have one length")
        for m, g in df.groupby("movement"):
            t = np.sort(g["interval_start_s"].to_numpy())
            step = float(g["interval_s"].iloc[0])
            if not np.allclose(t, step * np.arange(len(t))):
                i = int(g.index[0])
                problems.append(
                    f"{_at(df, i)}, column 'interval_start_s': intervals of {m!r} must be "
                    f"consecutive from 0 s ({step:g} s apart)"
                )
    if problems:
        raise ObservationError(_cap(problems))


def read_observations(paths: list[str | Path]) -> Observations:
    """Read and validate every observation file in ``paths`` (files or directories).

    Raises
    ------
    ObservationError
        Naming file, row, line and column of each problem.
    """
    found = find_files(paths)
    tables = {kind: read_table(path, kind) for kind, path in found.items()}
    return Observations(**tables, files={k: str(v) for k, v in found.items()})
