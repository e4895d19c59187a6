"""Parameter sweeps: grids of scenarios x replications on one machine or a Dask cluster.

Every cell gets the same replication seeds (``SeedSequence(seed, spawn_key=(r,))``)
and both schemes of a replication share one arrival table, so results are common
random numbers across cells and schemes and bit-identical whatever the backend,
worker count or order of completion.  Rows stream to a CSV file as chunks finish;
re-running with the same output resumes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from uturn_sim.errors import ScenarioError
from uturn_sim.model.run import simulate
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.compare import mean_ci
from uturn_sim.sweeps.spec import Scalar, SweepSpec, load_sweep
from uturn_sim.traffic.table import build_arrivals

__all__ = ["SweepSpec", "aggregate", "load_sweep", "run_chunk", "sweep"]

KEY_COLUMNS = ["cell", "scheme", "replication", "movement"]


def run_chunk(
    tasks: list[tuple[int, int]], scenarios: dict[int, dict], schemes: list[str], seed: int
) -> list[dict[str, Any]]:
    """Worker: run (cell, replication) tasks; return flat summary rows (picklable, top level)."""
    slow = float(os.environ.get("UTURN_SIM_TEST_SLOW_CHUNK_S", "0"))  # resume tests only
    if slow:
        import time

        time.sleep(slow)
    rows = []
    for cell, rep in tasks:
        scn = Scenario.model_validate(scenarios[cell])
        table = build_arrivals(scn, seed, rep)
        for scheme in schemes:
            summ = simulate(scn, scheme, arrivals=table).summary()
            for rec in summ.to_dict("records"):
                rec.update(cell=cell, replication=rep)
                rows.append(rec)
    return rows


def _chunks(tasks: list, size: int) -> list[list]:
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def _done_tasks(out: Path, fingerprint: str, per_task: int) -> set[tuple[int, int]]:
    """Finished (cell, replication) tasks in ``out``; trims a torn last line and partial tasks."""
    meta = out.with_suffix(out.suffix + ".sweep.json")
    if not out.exists():
        meta.write_text(json.dumps({"fingerprint": fingerprint}))
        return set()
    if not meta.exists() or json.loads(meta.read_text()).get("fingerprint") != fingerprint:
        raise ScenarioError(
            [f"(output): {out} holds results of another sweep; choose a new --out"], what="sweep"
        )
    text = out.read_text(encoding="utf-8")
    text = text[: text.rfind("\n") + 1]
    if not text.strip():
        out.write_text("")
        return set()
    from io import StringIO

    frame = pd.read_csv(StringIO(text))
    counts = frame.groupby(["cell", "replication"]).size()
    done = {k for k, n in counts.items() if n == per_task}
    keep = frame[[k in done for k in zip(frame["cell"], frame["replication"], strict=True)]]
    tmp = out.with_suffix(out.suffix + ".tmp")
    keep.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return {(int(c), int(r)) for c, r in done}


def _execute(
    backend: str, chunks: list[list], args: tuple, workers: int | None, address: str | None
) -> Iterable[list[dict]]:
    if backend == "serial":
        for chunk in chunks:
            yield run_chunk(chunk, *args)
    elif backend == "processes":
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # the platform's default start method; no global multiprocessing state is touched
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_chunk, chunk, *args) for chunk in chunks]
            for fut in as_completed(futures):
                yield fut.result()
    elif backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError:  # pragma: no cover - depends on the extra
            raise ScenarioError(
                ["backend: dask needs the extra: pip install 'uturn_sim[dask]'"]
            ) from None
        cluster = None
        if address is None:
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            address = cluster.scheduler_address
        with Client(address) as client:
            shared = client.scatter(args[0], broadcast=True)
            futures = [
                client.submit(run_chunk, chunk, shared, *args[1:], pure=False) for chunk in chunks
            ]
            for fut in as_completed(futures):
                yield fut.result()
        if cluster is not None:
            cluster.close()
    else:
        raise ValueError(f"backend must be 'serial', 'processes' or 'dask', got {backend!r}")


def sweep(
    spec: SweepSpec | str | Path | Mapping[str, Any],
    *,
    backend: Literal["processes", "serial", "dask"] = "processes",
    workers: int | None = None,
    address: str | None = None,
    out: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Run a sweep; return tidy rows (cell x scheme x replication x movement).

    Parameters
    ----------
    spec
        A :class:`SweepSpec`, a sweep YAML path, or a mapping.
    backend
        ``"serial"``, ``"processes"`` (local processes, default) or ``"dask"``.
    workers
        Worker processes (default: all cores).
    address
        Dask scheduler address (``tcp://host:port``); without it a LocalCluster is started.
    out
        CSV file the rows stream to; an existing one of the same sweep is resumed.
    progress
        Called as ``progress(tasks_done, tasks_total)``.
    chunk_size
        (cell, replication) tasks per unit of work (default: about 4 chunks per worker).
    """
    if isinstance(spec, SweepSpec):  # its base path is relative to the working directory
        spec = spec.model_dump(mode="json")
    spec, base, scenarios = load_sweep(spec)
    if workers is not None and workers < 1:
        raise ScenarioError([f"workers: must be >= 1, got {workers}"], what="sweep")
    cells = spec.cells()
    tasks = [(c, r) for c in range(len(cells)) for r in range(spec.replications)]
    per_task = len(spec.schemes) * 3  # movements uturn, left, all
    path = Path(out) if out is not None else None
    done: set[tuple[int, int]] = set()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        done = _done_tasks(path, spec.fingerprint(base), per_task)
    todo = [t for t in tasks if t not in done]
    n_workers = workers or os.cpu_count() or 1
    size = chunk_size or max(1, math.ceil(len(todo) / (4 * n_workers))) if todo else 1
    needed = {c for c, _ in todo}
    args = (
        {c: scenarios[c].model_dump(mode="json") for c in needed},
        list(spec.schemes),
        spec.seed,
    )
    frames: list[pd.DataFrame] = []
    finished = len(done)
    if progress:
        progress(finished, len(tasks))
    header = path is not None and (not path.exists() or path.stat().st_size == 0)
    for rows in _execute(backend, _chunks(todo, size), args, workers, address):
        frame = _tidy(pd.DataFrame(rows), cells)
        if path is not None:
            with path.open("a", encoding="utf-8") as fh:
                frame.to_csv(fh, index=False, header=header)
                fh.flush()
            header = False
        else:
            frames.append(frame)
        finished += len({(c, r) for c, r in zip(frame["cell"], frame["replication"], strict=True)})
        if progress:
            progress(finished, len(tasks))
    result = pd.read_csv(path) if path is not None else pd.concat(frames, ignore_index=True)
    result = result.sort_values(KEY_COLUMNS, kind="stable", key=_order_key).reset_index(drop=True)
    if path is not None:  # the finished file is in canonical order, however it was produced
        tmp = path.with_suffix(path.suffix + ".tmp")
        result.to_csv(tmp, index=False)
        os.replace(tmp, path)
    return result


def _order_key(col: pd.Series) -> pd.Series:
    if col.name == "movement":
        return col.map({"uturn": 0, "left": 1, "all": 2})
    if col.name == "scheme":
        return col.map({"ordinary": 0, "linked": 1})
    return col


def _tidy(frame: pd.DataFrame, cells: list[dict[str, Scalar]]) -> pd.DataFrame:
    params = pd.DataFrame([cells[c] for c in frame["cell"]], index=frame.index)
    measures = [c for c in frame.columns if c not in ("cell", "replication", "scheme", "movement")]
    return pd.concat(
        [frame[["cell"]], params, frame[["scheme", "replication", "movement"]], frame[measures]],
        axis=1,
    )


def aggregate(
    rows: pd.DataFrame,
    measures: tuple[str, ...] = (
        "throughput_veh_h",
        "delay_mean_s",
        "delay_p95_s",
        "queue_p95_veh",
        "spillback_share",
        "veh_per_gap",
    ),
) -> pd.DataFrame:
    """Mean and 95% interval over replications per cell x scheme x movement.

    Columns: the cell's parameters, ``scheme``, ``movement``, ``n`` and for each
    measure ``m``: ``m``, ``m_ci_low``, ``m_ci_high``.
    """
    cols = list(rows.columns)
    params = cols[1 : cols.index("scheme")]  # tidy layout: cell, parameters..., scheme, ...
    out = []
    for key, g in rows.groupby(["cell", "scheme", "movement"], sort=False):
        rec = {
            "cell": key[0],
            **g.iloc[0][params].to_dict(),
            "scheme": key[1],
            "movement": key[2],
            "n": len(g),
        }
        for m in measures:
            mean, lo, hi = mean_ci(g[m].to_numpy(dtype=float))
            rec.update({m: mean, f"{m}_ci_low": lo, f"{m}_ci_high": hi})
        out.append(rec)
    return pd.DataFrame(out)
