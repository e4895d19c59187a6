"""Compiled batch engine: the SimPy model's rules in numba, many replications per call.

Importing this package does not import numba; :mod:`uturn_sim.fast.study` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uturn_sim.scenario.model import Scenario

__all__ = ["ENGINES", "THROUGH_LANES_REFUSAL", "check_engine", "check_scenario", "models", "warmup"]

ENGINES = ("fast", "simpy")

#: why the compiled engine refuses a scenario with through lanes (it models the bay alone)
THROUGH_LANES_REFUSAL = (
    "the fast engine does not model approach.through_lanes > 0 yet; "
    "use engine='simpy' or set approach.through_lanes: 0"
)


def check_engine(engine: str) -> str:
    """``engine`` if it is ``"fast"`` or ``"simpy"``.

    Raises
    ------
    ValueError
        Naming the engines otherwise.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


def models(scenario: Scenario) -> bool:
    """True if the compiled engine models ``scenario`` (no ``approach.through_lanes`` yet)."""
    return scenario.approach.through_lanes == 0


def check_scenario(scenario: Scenario) -> None:
    """Refuse a scenario the compiled engine does not model.

    Raises
    ------
    NotImplementedError
        With :data:`THROUGH_LANES_REFUSAL` when ``approach.through_lanes`` > 0.
    """
    if not models(scenario):
        raise NotImplementedError(THROUGH_LANES_REFUSAL)


def warmup() -> float:
    """Compile every kernel, or load it from numba's on-disk cache; the seconds it took."""
    from uturn_sim.fast.engine import warmup as _warmup

    return _warmup()
