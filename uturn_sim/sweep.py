"""Parameter sweeps: grids of scenarios x replications on one machine or a Dask cluster.

Every cell gets the same replication seeds (``SeedSequence(seed, spawn_key=(r,))``)
and both schemes of a replication share one arrival table, so results are common
random numbers across cells and schemes and bit-identical whatever the backend,
worker count or order of completion.  Rows stream to a CSV file as chunks finish;
re-running with the same output resumes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Self

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .compare import mean_ci
from .errors import ScenarioError
from .loading import default_scenario, load_scenario, parse_yaml, set_path, validate_mapping
from .results import simulate
from .scenario import Scenario
from .traffic import build_arrivals

__all__ = ["SweepSpec", "aggregate", "load_sweep", "sweep"]

Scalar = float | int | str | bool
KEY_COLUMNS = ["cell", "scheme", "replication", "movement"]
MAX_CELLS = 100_000


class Range(BaseModel):
    """Inclusive numeric range ``start, start + step, ... <= stop``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    start: float
    stop: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.stop < self.start:
            raise ValueError(f"stop ({self.stop:g}) must be >= start ({self.start:g})")
        if (self.stop - self.start) / self.step > MAX_CELLS:
            raise ValueError(f"range has more than {MAX_CELLS} values")
        return self

    def values(self) -> list[float]:
        """The values of the range (ints when all are whole numbers)."""
        n = math.floor((self.stop - self.start) / self.step + 1e-9) + 1
        vals = [self.start + i * self.step for i in range(n)]
        return [int(v) if float(v).is_integer() else v for v in vals]


class SweepSpec(BaseModel):
    """A sweep file: base scenario, parameters to vary, schemes, replications, seed."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    base: str = Field(
        "default", description="Scenario path (relative to the sweep file) or 'default'."
    )
    parameters: dict[str, list[Scalar] | Range] = Field(
        min_length=1, description="Dotted scenario field -> list of values or {start, stop, step}."
    )
    schemes: list[Literal["ordinary", "linked"]] = Field(
        default=["ordinary", "linked"], min_length=1
    )
    replications: int = Field(5, ge=1, le=10_000)
    seed: int = Field(20250901, ge=0)

    @field_validator("parameters", mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        """Read ``{start, stop, step}`` mappings as ranges, with one clear message each."""
        if not isinstance(value, dict):
            return value
        out = {}
        for name, vals in value.items():
            if isinstance(vals, dict):
                try:
                    vals = Range.model_validate(vals)
                except ValidationError as exc:
                    why = "; ".join(
                        f"{'.'.join(map(str, e['loc'])) or 'range'}: "
                        f"{e['msg'].removeprefix('Value error, ')}"
                        for e in exc.errors()
                    )
                    raise ValueError(f"{name} {why}") from None
            elif not isinstance(vals, list):
                raise ValueError(f"{name} must be a list of values or {{start, stop, step}}")
            out[name] = vals
        return out

    @model_validator(mode="after")
    def _nonempty(self) -> Self:
        for name, vals in self.parameters.items():
            if isinstance(vals, list) and not vals:
                raise ValueError(f"parameters.{name} has no values")
        if math.prod(len(v) for v in self.grid().values()) > MAX_CELLS:
            raise ValueError(f"the grid has more than {MAX_CELLS} cells")
        return self

    def grid(self) -> dict[str, list[Scalar]]:
        """Parameter name -> list of values."""
        return {
            k: (v.values() if isinstance(v, Range) else list(v)) for k, v in self.parameters.items()
        }

    def cells(self) -> list[dict[str, Scalar]]:
        """Every combination of parameter values, in a fixed order."""
        grid = self.grid()
        return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]

    def fingerprint(self, base: Scenario) -> str:
        """Hash of the spec and the resolved base scenario (guards resume against mix-ups)."""
        blob = json.dumps(
            [self.model_dump(mode="json"), base.model_dump(mode="json")], sort_keys=True
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_sweep(
    source: str | Path | Mapping[str, Any],
) -> tuple[SweepSpec, Scenario, list[Scenario]]:
    """Read and validate a sweep file; return the spec, the base and one scenario per cell.

    Raises
    ------
    ScenarioError
        Naming the field (``parameters.geometry.slot``) or the cell and scenario field.
    """
    where = Path(".")
    if isinstance(source, Mapping):
        data, lines = dict(source), None
    else:
        path = Path(source)
        if not path.is_file():
            raise ScenarioError([f"(file): no sweep file at {str(path)!r}"], what="sweep")
        where = path.parent
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ScenarioError([f"(file): {path} is not UTF-8 text"], what="sweep") from None
        data, lines = parse_yaml(text, what="sweep")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        from .loading import _messages

        raise ScenarioError(_messages(exc, lines, SweepSpec), what="sweep") from None
    if spec.base == "default":
        base = default_scenario()
    else:
        p = Path(spec.base)
        try:
            base = load_scenario(p if p.is_absolute() else where / p)
        except ScenarioError as exc:
            raise ScenarioError(
                [f"base ({spec.base}): {q}" for q in exc.problems], what="sweep"
            ) from None
    return spec, base, _cell_scenarios(spec, base)


def _cell_scenarios(spec: SweepSpec, base: Scenario) -> list[Scenario]:
    base_data = base.model_dump(mode="json")
    out, problems = [], []
    for i, cell in enumerate(spec.cells()):
        data = json.loads(json.dumps(base_data))
        for name, value in cell.items():
            set_path(data, name, value, where="parameters.")
        try:
            out.append(validate_mapping(data))
        except ScenarioError as exc:
            problems += [f"cell {i} {cell}: {p}" for p in exc.problems]
            if len(problems) > 20:
                break
    if problems:
        raise ScenarioError(problems, what="sweep")
    return out


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
    if isinstance(spec, SweepSpec):
        base = default_scenario()
        scenarios = _cell_scenarios(spec, base)
    else:
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
    return result.sort_values(KEY_COLUMNS, kind="stable", key=_order_key).reset_index(drop=True)


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
