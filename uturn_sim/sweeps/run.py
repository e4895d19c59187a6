"""Parameter sweeps: grids of scenarios x replications on one machine or a Dask cluster.

Every cell gets the same replication seeds (``SeedSequence(seed, spawn_key=(r,))``)
and both schemes of a replication share one arrival table, so results are common
random numbers across cells and schemes and bit-identical whatever the backend,
worker count or order of completion.  Rows stream to a CSV file as chunks finish
(see :mod:`uturn_sim.sweeps.store` for what survives a crash); re-running with the
same output resumes, and the finished file is byte-identical however it was made.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from uturn_sim.errors import ScenarioError
from uturn_sim.fast import check_engine
from uturn_sim.measures.catalog import ROWS
from uturn_sim.model.run import simulate
from uturn_sim.model.schemes import Scheme, get_scheme, scheme_names
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.compare import mean_ci
from uturn_sim.sweeps import backends
from uturn_sim.sweeps.spec import MAX_TASKS, LoadedSweep, Scalar, SweepSpec, load_sweep
from uturn_sim.sweeps.store import SweepStore, iter_chunks
from uturn_sim.traffic.table import build_arrivals

__all__ = ["MAX_TASKS", "SweepSpec", "aggregate", "load_sweep", "run_chunk", "sweep"]

KEY_COLUMNS = ["cell", "scheme", "replication", "movement"]


def _shared_key(scheme: Scheme, scenario: dict, rep: int) -> str:
    """What a scheme's run depends on: the scenario without the fields it ignores."""
    return f"{scheme.name}|{rep}|{_kept(scheme, scenario)}"


def _kept(scheme: Scheme, scenario: dict) -> str:
    """The scenario as JSON without the fields ``scheme`` ignores (keys sorted)."""
    kept = json.loads(json.dumps(scenario))
    for path in scheme.ignores:
        *parents, leaf = path.split(".")
        node = kept
        for key in parents:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(leaf, None)
    return json.dumps(kept, sort_keys=True)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")`` (values as Python scalars), built column-wise."""
    cols = list(frame.columns)
    values = [frame[c].to_numpy().tolist() for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def run_chunk(
    tasks: list[tuple[int, int]],
    scenarios: dict[int, dict],
    schemes: list[str],
    seed: int,
    engine: str = "fast",
) -> list[dict[str, Any]]:
    """Worker: run (cell, replication) tasks; return flat summary rows (picklable, top level).

    A scheme that ignores every field the cells differ in (the ordinary lane does not
    read ``geometry.slots``) is simulated once per replication and its summary shared
    across those cells: the rows are identical to re-running it.  ``engine="fast"``
    (default) runs each cell's replications as one compiled batch
    (:mod:`uturn_sim.fast`); ``"simpy"`` runs the reference model: identical rows.
    """
    rows = []
    shared: dict[str, list[dict[str, Any]]] = {}
    objs = [get_scheme(s) for s in schemes]
    kept = {(o.name, c): _kept(o, scenarios[c]) for o in objs for c in {c for c, _ in tasks}}
    if check_engine(engine) == "fast":
        _fill_fast(tasks, scenarios, objs, seed, shared, kept)
    for cell, rep in tasks:
        scn = None
        table = None
        for scheme in objs:
            key = f"{scheme.name}|{rep}|{kept[scheme.name, cell]}"
            if key not in shared:
                if scn is None:
                    scn = Scenario.model_validate(scenarios[cell])
                    table = build_arrivals(scn, seed, rep)
                summ = simulate(scn, scheme, arrivals=table).summary()
                shared[key] = _records(summ)
            for rec in shared[key]:
                rows.append({**rec, "cell": cell, "replication": rep})
    return rows


def _fill_fast(
    tasks: list[tuple[int, int]],
    scenarios: dict[int, dict],
    objs: list[Scheme],
    seed: int,
    shared: dict[str, list[dict[str, Any]]],
    kept: dict[tuple[str, int], str],
) -> None:
    """Summaries of every (scheme, cell, replication) of ``tasks`` not yet in ``shared``.

    The schemes a cell still needs on the same replications run as one batch: they
    share its arrivals (drawn once).  ``kept[(scheme, cell)]`` is :func:`_kept`.
    """
    from uturn_sim.fast.study import summary_records

    by_cell: dict[int, list[int]] = {}
    for cell, rep in tasks:
        by_cell.setdefault(cell, []).append(rep)
    n = len(ROWS)  # summary rows per replication and scheme
    for cell, reps in by_cell.items():
        groups: dict[tuple[int, ...], list[Scheme]] = {}
        for scheme in objs:
            todo = tuple(
                r for r in reps if f"{scheme.name}|{r}|{kept[scheme.name, cell]}" not in shared
            )
            if todo:
                groups.setdefault(todo, []).append(scheme)
        if not groups:
            continue
        scn = Scenario.model_validate(scenarios[cell])
        for todo, group in groups.items():
            recs = summary_records(scn, group, seed, list(todo))
            for rec in recs:
                del rec["replication"]
            # rows by replication, then scheme, then movement
            for k, r in enumerate(todo):
                for g, scheme in enumerate(group):
                    lo = (k * len(group) + g) * n
                    shared[f"{scheme.name}|{r}|{kept[scheme.name, cell]}"] = recs[lo : lo + n]


def sweep(
    spec: SweepSpec | LoadedSweep | str | Path | Mapping[str, Any],
    *,
    backend: Literal["processes", "serial", "dask"] = "processes",
    workers: int | None = None,
    address: str | None = None,
    out: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
    max_tasks: int = MAX_TASKS,
    connect_timeout_s: float = backends.DEFAULT_CONNECT_TIMEOUT_S,
    notify: Callable[[str], None] | None = None,
    engine: str = "fast",
) -> pd.DataFrame:
    """Run a sweep; return tidy rows (cell x scheme x replication x movement).

    Parameters
    ----------
    spec
        A :class:`SweepSpec`, a sweep YAML path, a mapping, or the result of
        :func:`load_sweep` (then it is not validated again).
    backend
        ``"serial"``, ``"processes"`` (local processes, default) or ``"dask"``.
    workers
        Worker processes (default: all cores).
    address
        Dask scheduler address (``tcp://host:port``); without it a LocalCluster is
        started.  Only with ``backend="dask"``.
    out
        CSV file the rows stream to; an existing one of the same sweep is checked,
        repaired if need be, and resumed.  ``<out>.lock`` keeps a second writer out.
    progress
        Called as ``progress(tasks_done, tasks_total)``.
    chunk_size
        (cell, replication) tasks per unit of work (default: about 4 chunks per worker).
    max_tasks
        Most cells x replications accepted (default :data:`MAX_TASKS`); raise it
        deliberately for a bigger sweep.
    connect_timeout_s
        Time allowed to connect to a Dask scheduler, s.
    notify
        Called with one line per repair made to an existing ``out`` on resume.
    engine
        ``"fast"`` (compiled engine, default) or ``"simpy"`` (reference model); the rows
        are identical.

    Raises
    ------
    ScenarioError
        Bad sweep, options, or an ``out`` that cannot be resumed (naming the fix).
    ConnectionError
        The Dask scheduler cannot be reached within ``connect_timeout_s``.
    """
    if engine not in ("fast", "simpy"):
        raise ScenarioError(
            [f"engine: must be one of fast, simpy, got {engine!r}"], what="sweep options"
        )
    if backend not in backends.BACKENDS:
        raise ScenarioError(
            [f"backend: must be one of {', '.join(backends.BACKENDS)}, got {backend!r}"],
            what="sweep options",
        )
    if address is not None and backend != "dask":
        raise ScenarioError(
            [f"scheduler: an address is only used by the dask backend, not {backend!r}"],
            what="sweep options",
        )
    if address is not None:
        address = backends.check_address(address)
    if workers is not None and workers < 1:
        raise ScenarioError([f"workers: must be >= 1, got {workers}"], what="sweep options")
    if not (isinstance(connect_timeout_s, int | float) and 0 < connect_timeout_s <= 3600):
        raise ScenarioError(
            [f"connect_timeout_s: must be > 0 and <= 3600 s, got {connect_timeout_s!r}"],
            what="sweep options",
        )
    if isinstance(spec, SweepSpec):  # its base path is relative to the working directory
        spec = spec.model_dump(mode="json")
    loaded = spec if isinstance(spec, LoadedSweep) else load_sweep(spec, max_tasks=max_tasks)
    spec, base, scenarios = loaded
    cells = spec.cells()
    tasks = [(c, r) for c in range(len(cells)) for r in range(spec.replications)]
    if len(tasks) > max_tasks:  # a LoadedSweep made with a higher cap
        raise ScenarioError([_too_many(len(cells), spec.replications, max_tasks)], what="sweep")
    store = None
    if out is not None:
        store = SweepStore(
            Path(out), spec.fingerprint(base), cells, list(spec.schemes), spec.replications
        )
        store.acquire()
    try:
        return _run(
            spec,
            scenarios,
            cells,
            tasks,
            store,
            backend,
            workers,
            address,
            progress,
            chunk_size,
            connect_timeout_s,
            notify,
            engine,
        )
    finally:
        if store is not None:
            store.release()


def _too_many(cells: int, reps: int, cap: int) -> str:
    return (
        f"parameters: {cells} cells x {reps} replications = {cells * reps} tasks; at most "
        f"{cap} (raise it deliberately with --max-tasks or sweep(max_tasks=...))"
    )


def _run(
    spec: SweepSpec,
    scenarios: list[Scenario],
    cells: list[dict[str, Scalar]],
    tasks: list[tuple[int, int]],
    store: SweepStore | None,
    backend: str,
    workers: int | None,
    address: str | None,
    progress: Callable[[int, int], None] | None,
    chunk_size: int | None,
    connect_timeout_s: float,
    notify: Callable[[str], None] | None,
    engine: str = "fast",
) -> pd.DataFrame:
    done: set[tuple[int, int]] = set()
    if store is not None:
        done = store.open()
        for note in store.notes:
            if notify:
                notify(note)
    todo = [t for t in tasks if t not in done]
    n_workers = workers or os.cpu_count() or 1
    size = chunk_size or max(1, math.ceil(len(todo) / (4 * n_workers))) if todo else 1
    needed = {c for c, _ in todo}
    args = (
        {c: scenarios[c].model_dump(mode="json") for c in needed},
        list(spec.schemes),
        spec.seed,
        engine,
    )
    frames: list[pd.DataFrame] = []
    finished = len(done)
    if progress:
        progress(finished, len(tasks))
    chunks = list(iter_chunks(todo, size))
    if chunks:  # run_chunk looked up here, so a test can wrap it
        for rows in backends.execute(
            backend,
            run_chunk,
            chunks,
            args,
            workers=workers,
            address=address,
            connect_timeout_s=connect_timeout_s,
        ):
            frame = _tidy(pd.DataFrame(rows), cells)
            if store is not None:
                store.append(frame)
            else:
                frames.append(frame)
            finished += len(set(zip(frame["cell"], frame["replication"], strict=True)))
            if progress:
                progress(finished, len(tasks))
    result = store.finish() if store is not None else pd.concat(frames, ignore_index=True)
    result = result.sort_values(KEY_COLUMNS, kind="stable", key=_order_key).reset_index(drop=True)
    if store is not None:  # the finished file is in canonical order, however it was produced
        store.write_final(result)
    return result


def _order_key(col: pd.Series) -> pd.Series:
    if col.name == "movement":
        return col.map({name: k for k, name in enumerate(ROWS)})  # uturn, left, through, all
    if col.name == "scheme":
        order = {name: i for i, name in enumerate(scheme_names())}
        return col.map(lambda name: order.get(name, len(order)))
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
