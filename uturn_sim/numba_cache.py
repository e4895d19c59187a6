"""Keeping numba's on-disk cache of the compiled kernels true to the sources.

numba decides whether a cached kernel is still valid from the kernel's own source
file only.  The kernels inline helpers of other modules (the lane, the through lanes,
the random generators) and freeze module constants from others (the approach's states,
the PET thresholds), so an edit there — or a package upgrade that leaves old cache files
behind — would silently run the old code.  :func:`ensure_fresh` hashes every source the
kernels are compiled from and, the first time a process is about to run a kernel,
deletes the cache files compiled from other sources; numba then compiles anew (about
2.5 minutes) and the new files carry the new stamp.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections.abc import Iterable
from pathlib import Path

__all__ = ["COMPILED_MODULES", "ensure_fresh", "purge_stale", "sources_digest"]

_ROOT = Path(__file__).resolve().parent
#: the modules that define cached kernels (``njit(cache=True)``)
COMPILED_MODULES = (
    "uturn_sim.fast.approach",
    "uturn_sim.fast.events",
    "uturn_sim.fast.kernel",
    "uturn_sim.fast.lane",
    "uturn_sim.fast.lookups",
    "uturn_sim.fast.queues",
    "uturn_sim.fast.rowstats",
    "uturn_sim.fast.samples",
    "uturn_sim.fast.select",
    "uturn_sim.fast.sorting",
    "uturn_sim.fast.stats",
    "uturn_sim.traffic.gating",
    "uturn_sim.traffic.kernel",
    "uturn_sim.traffic.pcg",
)
#: every source whose code or constants end up in a compiled kernel
_SOURCES = (
    "fast/*.py",
    "traffic/*.py",
    "model/approach.py",
    "model/lane.py",
    "model/schemes/linked.py",
    "measures/safety.py",
)
STAMP = "uturn_sim_sources.sha256"  # written next to the cache files it vouches for
_lock = threading.Lock()
_checked = False


def sources_digest(root: Path = _ROOT) -> str:
    """SHA-256 of the kernels' sources (:data:`_SOURCES` under ``root``), in path order."""
    h = hashlib.sha256()
    for path in sorted({p for pattern in _SOURCES for p in root.glob(pattern)}):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def purge_stale(dirs: dict[str, set[str]], digest: str) -> list[Path]:
    """Delete the cache files of ``dirs`` not stamped with ``digest``; the files deleted.

    ``dirs`` maps a cache directory to the stems of the source files whose kernels
    cache there (numba names a file ``<stem>.<function>-<line>.<python>.nbi`` or
    ``.nbc``); other files in it are left alone.  Each directory is stamped with
    ``digest`` afterwards.  A directory that cannot be written is skipped: numba then
    cannot cache there either.
    """
    gone: list[Path] = []
    for where, stems in dirs.items():
        d = Path(where)
        stamp = d / STAMP
        try:
            if stamp.is_file() and stamp.read_text() == digest:
                continue
            for f in _cache_files(d):
                if f.name.split(".", 1)[0] in stems:
                    f.unlink(missing_ok=True)
                    gone.append(f)
            d.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest)
        except OSError:
            continue
    return gone


def _cache_files(d: Path) -> Iterable[Path]:
    if not d.is_dir():
        return ()
    return [*d.glob("*.nbi"), *d.glob("*.nbc")]


def _cache_dirs() -> dict[str, set[str]]:
    """Each cached kernel's cache directory and the source stems caching there."""
    dirs: dict[str, set[str]] = {}
    for name in COMPILED_MODULES:
        mod = importlib.import_module(name)
        stem = Path(mod.__file__).stem
        for obj in vars(mod).values():
            path = getattr(getattr(obj, "_cache", None), "_cache_path", None)
            if isinstance(path, str):
                dirs.setdefault(path, set()).add(stem)
    return dirs


def ensure_fresh() -> None:
    """Delete cached kernels compiled from other sources; once per process, before any runs.

    Called by the compiled paths' entry points (the engine, the measures, the arrival
    core) before their first kernel call.
    """
    global _checked
    if _checked:
        return
    with _lock:
        if not _checked:
            purge_stale(_cache_dirs(), sources_digest())
            _checked = True
