"""The sweep output as a small durable store: a CSV of rows, a manifest and a lock.

Guarantees (see the README's sweeps section):

- one writer: ``<out>.lock`` is held with ``flock`` while a sweep writes; a second
  sweep on the same ``--out`` stops at once with a message naming the lock;
- rows are appended a whole chunk at a time and ``fsync``-ed; a failed write (disk
  full) is cut back to the last whole chunk before the error is raised;
- the manifest ``<out>.sweep.json`` (the sweep's fingerprint and the CSV header) is
  written to a temporary file, ``fsync``-ed and renamed over the old one;
- on resume the CSV is checked line by line against the manifest and the sweep:
  every complete, valid (cell, replication) task is kept and the rest (a torn last
  line, a task cut short, garbage or duplicated lines) is dropped and run again; a
  file that cannot belong to this sweep (no or another manifest, foreign columns) is
  refused with a message naming the problem and the fix.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd

from uturn_sim.errors import ScenarioError
from uturn_sim.measures.catalog import ROWS

__all__ = ["MOVEMENTS", "SweepStore", "atomic_write_text"]

MOVEMENTS = ROWS  # rows per (task, scheme), in the order run_chunk gives
MANIFEST_FORMAT = 1
_TEXT_MEASURE = re.compile(r"^([A-F-]|True|False)$")


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path``'s directory durable (no-op where unsupported)."""
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: temporary file, fsync, rename, fsync dir.

    Parameters
    ----------
    path
        Destination file.
    text
        UTF-8 text to write.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path)


def _error(problem: str) -> ScenarioError:
    return ScenarioError([f"(output): {problem}"], what="sweep output")


@dataclass
class SweepStore:
    """Rows of one sweep in ``path`` with its manifest and lock.

    Parameters
    ----------
    path
        The CSV file.
    fingerprint
        The sweep's fingerprint (:meth:`SweepSpec.fingerprint`).
    cells
        Parameter values per cell (the grid), in cell order.
    schemes
        Scheme names of the sweep.
    replications
        Replications per cell.
    """

    path: Path
    fingerprint: str
    cells: Sequence[dict[str, Any]]
    schemes: Sequence[str]
    replications: int
    notes: list[str] = field(default_factory=list)
    _lock_fd: int | None = None
    _columns: list[str] | None = None

    @property
    def manifest(self) -> Path:
        """The manifest file, ``<out>.sweep.json``."""
        return self.path.with_name(self.path.name + ".sweep.json")

    @property
    def lock(self) -> Path:
        """The lock file, ``<out>.lock`` (present while a sweep writes)."""
        return self.path.with_name(self.path.name + ".lock")

    # -- lock ---------------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the writer lock; refuse clearly if another sweep holds it."""
        if self.path.is_dir():
            raise _error(f"{self.path} is a directory; --out takes a CSV file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: exclusive create instead
            fcntl = None
        while True:
            if fcntl is None:  # pragma: no cover
                try:
                    fd = os.open(self.lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    raise self._busy() from None
                break
            fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._busy() from None
            try:  # the file we locked must still be the one at that path
                same = os.stat(self.lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _busy(self) -> ScenarioError:
        try:
            pid = self.lock.read_text().strip() or "?"
        except OSError:
            pid = "?"
        return _error(
            f"another sweep (process {pid}) is writing {self.path} (lock {self.lock}); "
            "wait for it to finish, or choose another --out"
        )

    def release(self) -> None:
        """Drop the writer lock (the lock file is removed while still held)."""
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            self.lock.unlink()
        os.close(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> SweepStore:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- manifest -----------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest.exists():
            return None
        fix = f"delete {self.path} and {self.manifest} to start again, or choose another --out"
        try:
            data = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _error(f"manifest {self.manifest} is unreadable ({exc}); {fix}") from None
        ok = (
            isinstance(data, dict)
            and isinstance(data.get("fingerprint"), str)
            and (data.get("columns") is None or _str_list(data["columns"]))
        )
        if not ok:
            raise _error(f"manifest {self.manifest} is not a sweep manifest; {fix}")
        return data

    def _write_manifest(self) -> None:
        data = {
            "format": MANIFEST_FORMAT,
            "fingerprint": self.fingerprint,
            "columns": self._columns,
        }
        atomic_write_text(self.manifest, json.dumps(data, indent=1) + "\n")

    # -- resume -------------------------------------------------------------------------
    def open(self) -> set[tuple[int, int]]:
        """Check (and repair) the existing output; return its complete tasks.

        Raises
        ------
        ScenarioError
            If the file holds another sweep's rows, foreign columns, or is not a
            sweep file at all (naming the problem and the fix).
        """
        meta = self._read_manifest()
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists:
            self._columns = None
            self._write_manifest()
            atomic_write_text(self.path, "")
            return set()
        if meta is None or meta["fingerprint"] != self.fingerprint:
            why = "has no manifest" if meta is None else "has another sweep's manifest"
            raise _error(
                f"{self.path} holds results of another sweep or another program ({why} "
                f"{self.manifest.name}); choose a new --out, or delete the file to start again"
            )
        self._columns = meta.get("columns")
        raw = self.path.read_bytes()
        keep, header, dropped = self._valid_lines(raw)
        if header is None:  # nothing usable, not even the header: start the file again
            self._columns = None
            self._write_manifest()
            atomic_write_text(self.path, "")
            if dropped:
                self.notes.append(f"{self.path}: {dropped} unusable line(s) dropped")
            return set()
        if self._columns is None:
            self._columns = header
            self._write_manifest()
        text = "".join([_line(header), *(line for lines in keep.values() for line in lines)])
        if text.encode("utf-8") != raw:
            atomic_write_text(self.path, text)
            self.notes.append(
                f"{self.path}: kept {len(keep)} complete task(s), dropped {dropped} line(s) "
                "of incomplete or damaged tasks; they run again"
            )
        return set(keep)

    def _valid_lines(self, raw: bytes) -> tuple[dict[tuple[int, int], list[str]], Any, int]:
        """Complete, valid tasks' lines by task, the header and the number of lines dropped."""
        lines = raw.split(b"\n")
        torn = lines.pop()  # text after the last newline: a torn line (or b"")
        dropped = int(bool(torn))
        if not lines:
            return {}, None, dropped
        header = self._header(lines[0])
        if header is None:
            return {}, None, dropped + len(lines)
        index = {name: i for i, name in enumerate(header)}
        prefix = len(self.cells[0]) + 4 if self.cells else 4
        measures = range(prefix, len(header))
        tasks: dict[tuple[int, int], list[tuple[tuple[str, str], str]]] = {}
        bad: set[tuple[int, int]] = set()
        for raw_line in lines[1:]:
            row = _parse(raw_line, len(header))
            key = None if row is None else self._task_of(row, index)
            if key is None or not all(_measure_ok(row[i]) for i in measures):
                dropped += 1
                continue
            tasks.setdefault(key, []).append(
                ((row[index["scheme"]], row[index["movement"]]), raw_line.decode("utf-8") + "\n")
            )
        want = {(s, m) for s in self.schemes for m in MOVEMENTS}
        keep = {}
        for key, rows in tasks.items():
            kinds = [k for k, _ in rows]
            if key not in bad and len(kinds) == len(want) and set(kinds) == want:
                keep[key] = [line for _, line in rows]
            else:
                dropped += len(rows)
        return keep, header, dropped

    def _header(self, first: bytes) -> list[str] | None:
        row = _parse(first, None)
        if row is None:
            return None
        params = list(self.cells[0]) if self.cells else []
        expect = ["cell", *params, "scheme", "replication", "movement"]
        if self._columns is not None:
            ok = row == self._columns
        else:
            ok = row[: len(expect)] == expect and len(set(row)) == len(row)
        if not ok:
            raise _error(
                f"{self.path} has columns {', '.join(row[:12])}{'...' if len(row) > 12 else ''}, "
                f"not those of this sweep ({', '.join(self._columns or expect)}); choose a "
                "new --out, or delete the file to start again"
            )
        return row

    def _task_of(self, row: list[str], index: dict[str, int]) -> tuple[int, int] | None:
        try:
            cell, rep = int(row[index["cell"]]), int(row[index["replication"]])
        except ValueError:
            return None
        if not (0 <= cell < len(self.cells) and 0 <= rep < self.replications):
            return None
        if row[index["scheme"]] not in self.schemes or row[index["movement"]] not in MOVEMENTS:
            return None
        for name, value in self.cells[cell].items():
            if not _same_value(row[index[name]], value):
                return None
        return cell, rep

    # -- writing ------------------------------------------------------------------------
    def append(self, frame: pd.DataFrame) -> None:
        """Append one chunk's rows and fsync; on a failed write cut back to the chunk start.

        Raises
        ------
        OSError
            If the write fails (e.g. ``ENOSPC``); the file then ends at the last whole
            chunk, and re-running the same sweep resumes from it.
        """
        columns = [str(c) for c in frame.columns]
        if self._columns is not None and columns != self._columns:  # pragma: no cover
            raise RuntimeError(f"chunk columns {columns} differ from the file's {self._columns}")
        size = self.path.stat().st_size if self.path.exists() else 0
        text = frame.to_csv(index=False, header=size == 0, lineterminator="\n")
        with open(self.path, "a", encoding="utf-8", newline="") as fh:
            try:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:
                with contextlib.suppress(OSError):
                    fh.truncate(size)
                hint = (
                    "free some space and re-run the same command to resume"
                    if exc.errno == errno.ENOSPC
                    else "re-run the same command to resume"
                )
                raise OSError(
                    exc.errno,
                    f"{exc.strerror}; rows of finished chunks are kept, {hint}",
                    str(self.path),
                ) from None
        if self._columns is None:
            self._columns = columns
            self._write_manifest()

    def finish(self) -> pd.DataFrame:
        """Read every row back (for the canonical rewrite by the caller)."""
        return pd.read_csv(self.path)

    def write_final(self, frame: pd.DataFrame) -> None:
        """Replace the CSV atomically with ``frame`` (the canonical, sorted rows)."""
        atomic_write_text(self.path, frame.to_csv(index=False, lineterminator="\n"))


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _line(fields: list[str]) -> str:
    buf = StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def _parse(raw: bytes, n: int | None) -> list[str] | None:
    """One CSV line as fields; None if not UTF-8, binary, or not ``n`` fields."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or any(ord(c) < 32 and c != "\t" for c in text):
        return None
    try:
        rows = list(csv.reader([text]))
    except csv.Error:
        return None
    if len(rows) != 1 or (n is not None and len(rows[0]) != n):
        return None
    return rows[0]


def _measure_ok(value: str) -> bool:
    if value == "" or _TEXT_MEASURE.match(value):
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _same_value(text: str, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text == str(value)
    try:
        return float(text) == float(value)
    except ValueError:
        return False


def iter_chunks(tasks: list[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    """``tasks`` in consecutive chunks of ``size``."""
    for i in range(0, len(tasks), size):
        yield tasks[i : i + size]
