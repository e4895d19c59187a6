"""Sweep files: the grid of scenario changes, schemes, replications and seed.

A sweep YAML names a base scenario, the scenario fields to vary (dotted paths,
value lists or inclusive ``{start, stop, step}`` ranges), the schemes, the
replications per cell and the root seed.  Every cell's scenario is built and
validated before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NamedTuple, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from uturn_sim.errors import ScenarioError
from uturn_sim.scenario.loading import (
    default_scenario,
    load_scenario,
    parse_yaml,
    set_path,
    validate_mapping,
)
from uturn_sim.scenario.model import Scenario

__all__ = ["MAX_TASKS", "LoadedSweep", "Range", "SweepSpec", "cell_scenarios", "load_sweep"]

Scalar = float | int | str | bool
MAX_TASKS = 100_000
"""Most cells x replications a sweep may hold unless raised deliberately (``--max-tasks``)."""
MAX_CELLS = MAX_TASKS  # kept for callers of the old name


class Range(BaseModel):
    """Inclusive numeric range ``start, start + step, ... <= stop``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    start: float
    stop: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self, info: ValidationInfo) -> Self:
        cap = _cap(info)
        if self.stop < self.start:
            raise ValueError(f"stop ({self.stop:g}) must be >= start ({self.start:g})")
        if (self.stop - self.start) / self.step >= cap:
            raise ValueError(f"range has more than {cap} values (the task limit)")
        return self

    def values(self) -> list[float]:
        """The values of the range (ints when all are whole numbers)."""
        n = math.floor((self.stop - self.start) / self.step + 1e-9) + 1
        vals = [self.start + i * self.step for i in range(n)]
        return [int(v) if float(v).is_integer() else v for v in vals]


def _registered(name: str) -> str:
    """A registered scheme name (see ``uturn-sim schemes``)."""
    from uturn_sim.model.schemes import scheme_names

    if name not in scheme_names():
        raise ValueError(f"unknown scheme {name!r}; registered: {', '.join(scheme_names())}")
    return name


class SweepSpec(BaseModel):
    """A sweep file: base scenario, parameters to vary, schemes, replications, seed."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)
    base: str = Field(
        "default", description="Scenario path (relative to the sweep file) or 'default'."
    )
    parameters: dict[str, list[Scalar] | Range] = Field(
        min_length=1, description="Dotted scenario field -> list of values or {start, stop, step}."
    )
    schemes: list[Annotated[str, AfterValidator(_registered)]] = Field(
        default=["ordinary", "linked"],
        min_length=1,
        description="Registered scheme names (see `uturn-sim schemes`).",
    )
    replications: int = Field(5, ge=1, le=10_000)
    seed: int = Field(20250901, ge=0)

    @field_validator("schemes")
    @classmethod
    def _distinct_schemes(cls, value: list[str]) -> list[str]:
        """No scheme twice."""
        if len(set(value)) != len(value):
            raise ValueError(f"schemes must be distinct, got {value}")
        return value

    @field_validator("parameters", mode="before")
    @classmethod
    def _ranges(cls, value: Any, info: ValidationInfo) -> Any:
        """Read ``{start, stop, step}`` mappings as ranges, with one clear message each."""
        if not isinstance(value, dict):
            return value
        out = {}
        for name, vals in value.items():
            if isinstance(vals, dict):
                try:
                    vals = Range.model_validate(vals, context=info.context)
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
    def _nonempty(self, info: ValidationInfo) -> Self:
        for name, vals in self.parameters.items():
            if isinstance(vals, list) and not vals:
                raise ValueError(f"parameters.{name} has no values")
        cap = _cap(info)
        n_cells = math.prod(
            (math.floor((v.stop - v.start) / v.step + 1e-9) + 1) if isinstance(v, Range) else len(v)
            for v in self.parameters.values()
        )
        if n_cells * self.replications > cap:
            raise ValueError(
                f"parameters {n_cells} cells x {self.replications} replications = "
                f"{n_cells * self.replications} tasks; at most {cap} (raise it deliberately "
                "with --max-tasks or max_tasks=...)"
            )
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


def _cap(info: ValidationInfo) -> int:
    ctx = info.context if isinstance(info.context, dict) else {}
    return int(ctx.get("max_tasks", MAX_TASKS))


class LoadedSweep(NamedTuple):
    """A validated sweep: the spec, its base scenario and one scenario per cell."""

    spec: SweepSpec
    base: Scenario
    scenarios: list[Scenario]


def load_sweep(
    source: str | Path | Mapping[str, Any], *, max_tasks: int = MAX_TASKS
) -> LoadedSweep:
    """Read and validate a sweep file; return the spec, the base and one scenario per cell.

    Parameters
    ----------
    source
        A sweep YAML path or an already parsed mapping.
    max_tasks
        Most cells x replications accepted; checked before any cell is built.

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
        spec = SweepSpec.model_validate(data, context={"max_tasks": max_tasks})
    except ValidationError as exc:
        from uturn_sim.scenario.loading import _messages

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
    return LoadedSweep(spec, base, cell_scenarios(spec, base))


def cell_scenarios(spec: SweepSpec, base: Scenario) -> list[Scenario]:
    """One validated scenario per cell of ``spec`` applied to ``base``."""
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
