"""Closed forms to validate the simulation against (see ``docs/validation.md``).

Notation: ``q`` conflicting flow (veh/s), ``tc`` critical gap (s), ``tf``
follow-up headway (s); capacities in veh/s.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "cowan_m3_capacity",
    "harders_capacity",
    "hcm_uniform_delay",
    "linked_capacity",
    "webster_delay",
]


def harders_capacity(q: ArrayLike, tc: float, tf: float) -> np.ndarray:
    """Harders / HCM two-way-stop potential capacity, Poisson conflicting flow, veh/s.

    ``c = q exp(-q tc) / (1 - exp(-q tf))``; a saturated single-file minor stream
    enters a gap ``g`` with ``floor((g - tc)/tf) + 1`` vehicles when ``g >= tc``.
    """
    q = np.asarray(q, dtype=float)
    return q * np.exp(-q * tc) / (1.0 - np.exp(-q * tf))


def cowan_m3_capacity(
    q: ArrayLike, tc: float, tf: float, min_headway: float, bunched_share: float
) -> np.ndarray:
    """Capacity under Cowan M3 (bunched) conflicting flow, veh/s (Troutbeck 1986).

    Gaps exceed ``t >= Δ`` with probability ``α exp(-λ (t - Δ))`` where
    ``α = 1 - bunched_share`` and ``λ = α q / (1 - Δ q)``.  Counting
    ``floor((g - tc)/tf) + 1`` entries per gap and ``q`` gaps per second gives
    ``c = α q exp(-λ (tc - Δ)) / (1 - exp(-λ tf))`` (valid for ``tc >= Δ``).
    With ``Δ = 0, α = 1`` it is Harders.
    """
    q = np.asarray(q, dtype=float)
    alpha = 1.0 - bunched_share
    lam = alpha * q / (1.0 - min_headway * q)
    return alpha * q * np.exp(-lam * (tc - min_headway)) / (1.0 - np.exp(-lam * tf))


def linked_capacity(q: ArrayLike, tc: float, lag: float, k: int) -> np.ndarray:
    """Linked slots, saturated, only the ``k`` slot vehicles present at a gap's start use it.

    ``c_k = q exp(-q tc) (1 - exp(-k q lag)) / (1 - exp(-q lag))``, veh/s; the n-th
    needs ``gap >= tc + (n-1) lag``.  ``k -> inf`` is Harders with ``tf = lag``.
    """
    q = np.asarray(q, dtype=float)
    return q * np.exp(-q * tc) * (1.0 - np.exp(-k * q * lag)) / (1.0 - np.exp(-q * lag))


def webster_delay(q: float, s: float, cycle: float, g: float) -> float:
    """Webster's mean delay for a fixed-time signal with random arrivals, s/veh.

    Parameters: flow ``q`` and saturation flow ``s`` (veh/s), cycle and effective
    green (s).  ``d = C(1-λ)²/(2(1-λx)) + x²/(2q(1-x)) - 0.65 (C/q²)^(1/3) x^(2+5λ)``.
    """
    lam = g / cycle
    x = q / (lam * s)
    return (
        cycle * (1 - lam) ** 2 / (2 * (1 - lam * x))
        + x**2 / (2 * q * (1 - x))
        - 0.65 * (cycle / q**2) ** (1 / 3) * x ** (2 + 5 * lam)
    )


def hcm_uniform_delay(q: float, s: float, cycle: float, g: float) -> float:
    """HCM uniform delay ``d1 = 0.5 C (1-λ)² / (1 - min(1, x) λ)``, s/veh."""
    lam = g / cycle
    x = q / (lam * s)
    return 0.5 * cycle * (1 - lam) ** 2 / (1 - min(1.0, x) * lam)
