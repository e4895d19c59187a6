"""Compiled batch engine: the SimPy model's rules in numba, many replications per call.

It models every scenario the reference model does, the approach's through lanes
included.  Importing this package does not import numba; :mod:`uturn_sim.fast.study`
does.
"""

from __future__ import annotations

__all__ = ["ENGINES", "check_engine", "warmup"]

ENGINES = ("fast", "simpy")


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


def warmup() -> float:
    """Compile every kernel, or load it from numba's on-disk cache; the seconds it took."""
    from uturn_sim.fast.engine import warmup as _warmup

    return _warmup()
