"""How an output was made: version, command, seed, replications, engine, resolved scenario.

Every table the CLI writes gets a sidecar ``<name>.provenance.json`` next to it (the
table itself stays a plain CSV/Parquet/JSON file that pandas reads unchanged), and every
output directory a ``provenance.json`` and the ``scenario.yaml`` actually run: with
``--seed`` and ``--replications`` applied, every default filled in.  The scenario's
SHA-256 is taken over that YAML text, so two runs of the same resolved scenario carry
the same hash.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import shlex
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from uturn_sim.scenario.loading import scenario_to_yaml, update_scenario
from uturn_sim.scenario.model import Scenario

__all__ = [
    "DEFAULT_ENGINE",
    "package_version",
    "provenance",
    "resolve_run",
    "scenario_hash",
    "sidecar_path",
    "write_provenance",
]

DEFAULT_ENGINE = "simpy"


def package_version() -> str:
    """The installed version of ``uturn_sim`` (``"unknown"`` when not installed)."""
    try:
        return metadata.version("uturn_sim")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def resolve_run(
    scenario: Scenario, *, seed: int | None = None, replications: int | None = None
) -> Scenario:
    """The scenario actually run: ``seed`` and ``replications`` written into ``simulation``.

    Parameters
    ----------
    scenario
        The scenario as loaded.
    seed
        Root seed given on the command line (``None``: keep the scenario's).
    replications
        Replications given on the command line (``None``: keep the scenario's).
    """
    changes: dict[str, Any] = {}
    if seed is not None and seed != scenario.simulation.seed:
        changes["simulation.seed"] = int(seed)
    if replications is not None and replications != scenario.simulation.replications:
        changes["simulation.replications"] = int(replications)
    return update_scenario(scenario, changes) if changes else scenario


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the fully resolved scenario's YAML text."""
    return hashlib.sha256(scenario_to_yaml(scenario).encode("utf-8")).hexdigest()


def provenance(
    scenario: Scenario,
    *,
    replications: int | None = None,
    engine: str = DEFAULT_ENGINE,
    command: Sequence[str] | str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance record of one output.

    Parameters
    ----------
    scenario
        The resolved scenario actually run (see :func:`resolve_run`); its
        ``simulation.seed`` is the root seed.
    replications
        Replications run (default ``scenario.simulation.replications``).
    engine
        The simulation engine's name.
    command
        The command line (default: ``sys.argv`` of this process).
    extra
        Further keys (e.g. the study's own settings), added as they are.

    Returns
    -------
    dict
        ``package, version, command, root_seed, replications, engine, scenario_sha256,
        scenario`` (the resolved scenario as a mapping), ``python, platform, created_utc``
        and the ``extra`` keys.
    """
    argv = sys.argv if command is None else command
    cmd = argv if isinstance(argv, str) else shlex.join(str(a) for a in argv)
    rec: dict[str, Any] = {
        "package": "uturn_sim",
        "version": package_version(),
        "command": cmd,
        "root_seed": scenario.simulation.seed,
        "replications": (
            scenario.simulation.replications if replications is None else int(replications)
        ),
        "engine": engine,
        "scenario_sha256": scenario_hash(scenario),
        "scenario_name": scenario.name,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if extra:
        rec.update(extra)
    rec["scenario"] = scenario.model_dump(mode="json")
    return rec


def sidecar_path(table: str | Path) -> Path:
    """``dir/name.csv`` -> ``dir/name.provenance.json`` (the table's provenance file)."""
    p = Path(table)
    return p.with_name(p.name.split(".")[0] + ".provenance.json")


def write_provenance(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Write ``record`` as indented JSON to ``path`` and return it."""
    p = Path(path)
    p.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return p
