"""Parameter uncertainty carried into a comparison.

A scenario's ``uncertainty`` section gives the standard error of estimated fields
(``uturn-sim calibrate`` writes it).  With ``compare(..., parameter_uncertainty=True)``
each replication draws every such field once from a normal distribution around its
value (redrawn until the scenario is valid, i.e. truncated to the field's valid range),
from the replication's own ``parameters`` random stream, and runs every scheme of that
replication on the drawn scenario: the paired difference's CI then includes the
parameters' sampling uncertainty as well as the traffic's randomness.
"""

from __future__ import annotations

import numpy as np

from uturn_sim.errors import ScenarioError
from uturn_sim.scenario.loading import update_scenario
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.seeds import replication_seed, spawn_streams

__all__ = ["draw_parameters", "field_value"]

MAX_TRIES = 100


def field_value(scn: Scenario, path: str) -> float:
    """The number at dotted ``path`` of ``scn`` (list items by index)."""
    obj: object = scn
    for key in path.split("."):
        obj = obj[int(key)] if isinstance(obj, list) else getattr(obj, key)
    return float(obj)  # type: ignore[arg-type]


def draw_parameters(scn: Scenario, seed: int, replication: int) -> Scenario:
    """``scn`` with its uncertain fields drawn for replication ``replication``.

    Raises
    ------
    ValueError
        When no valid scenario is drawn in ``MAX_TRIES`` tries (a standard error far
        larger than its field's valid range).
    """
    if not scn.uncertainty:
        return scn
    rng = np.random.default_rng(spawn_streams(replication_seed(seed, replication))["parameters"])
    base = {u.field: field_value(scn, u.field) for u in scn.uncertainty}
    for _ in range(MAX_TRIES):
        changes: dict[str, object] = {}
        for u in scn.uncertainty:
            value = base[u.field] + rng.normal(0.0, u.sd) if u.sd > 0 else base[u.field]
            if isinstance(getattr_path_default(scn, u.field), int):
                value = round(value)
            changes[u.field] = value
        try:
            return update_scenario(scn, _nest_lists(scn, changes))
        except ScenarioError:
            continue
    raise ValueError(
        f"no valid scenario in {MAX_TRIES} draws of {', '.join(base)}: a standard error is "
        "too large for its field's valid range"
    )


def getattr_path_default(scn: Scenario, path: str) -> object:
    """The raw value at dotted ``path`` (to keep integers integers)."""
    obj: object = scn
    for key in path.split("."):
        obj = obj[int(key)] if isinstance(obj, list) else getattr(obj, key)
    return obj


def _nest_lists(scn: Scenario, changes: dict[str, object]) -> dict[str, object]:
    """Turn ``a.b.0`` list-item changes into a whole-list change of ``a.b``."""
    out: dict[str, object] = {}
    lists: dict[str, list] = {}
    for path, value in changes.items():
        head, _, last = path.rpartition(".")
        if last.isdigit():
            if head not in lists:
                lists[head] = list(getattr_path_default(scn, head))  # type: ignore[call-overload]
            lists[head][int(last)] = value
        else:
            out[path] = value
    out.update(lists)
    return out
