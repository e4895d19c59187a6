"""NumPy-vectorized arrival core: headway models, time-varying rates, signal gating.

Pure NumPy: no SimPy, no scenario objects.  Every function takes an explicit
``numpy.random.Generator``; times are float64 seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "RatePlan",
    "arrival_times",
    "cumulative_rate",
    "gate",
    "lindley",
    "planned_times",
    "rate_plan",
    "unit_headways",
]

HEADWAY_MODELS = ("poisson", "shifted_exponential", "cowan_m3")


class Windows(Protocol):
    """Green windows: what :func:`gate` needs (see :class:`uturn_sim.signal.GreenWindows`)."""

    def contains(self, t: np.ndarray) -> np.ndarray: ...

    def next_start(self, t: np.ndarray) -> np.ndarray: ...


def unit_headways(
    rng: np.random.Generator,
    n: int,
    model: str = "poisson",
    min_headway: float = 0.0,
    bunched_share: float = 0.0,
) -> np.ndarray:
    """Draw ``n`` headways of a renewal process with mean 1 (operational time).

    Parameters
    ----------
    rng
        Source of randomness.
    n
        Number of headways.
    model
        ``"poisson"`` (exponential), ``"shifted_exponential"`` (``min_headway``
        plus an exponential) or ``"cowan_m3"`` (a share ``bunched_share`` at
        exactly ``min_headway``, the rest ``min_headway`` plus an exponential).
    min_headway
        Minimum headway as a fraction of the mean headway, in ``[0, 1)``.
    bunched_share
        Cowan M3 share of bunched vehicles, in ``[0, 1)``.
    """
    if model not in HEADWAY_MODELS:
        raise ValueError(f"unknown headway model {model!r}; expected one of {HEADWAY_MODELS}")
    if model == "poisson":
        return rng.standard_exponential(n)
    if not 0 <= min_headway < 1:
        raise ValueError(f"min_headway {min_headway} must be in [0, 1) of the mean headway")
    if model == "shifted_exponential":
        return min_headway + (1.0 - min_headway) * rng.standard_exponential(n)
    if not 0 <= bunched_share < 1:
        raise ValueError(f"bunched_share {bunched_share} must be in [0, 1)")
    free_mean = (1.0 - min_headway) / (1.0 - bunched_share)
    h = rng.standard_exponential(n) * free_mean
    h[rng.random(n) < bunched_share] = 0.0
    return min_headway + h


def cumulative_rate(
    rate_per_s: float,
    horizon_s: float,
    factors: Sequence[float] | None = None,
    interval_s: float = 900.0,
    start_s: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(t, Lambda)`` of the piecewise-linear cumulative rate on ``[0, horizon_s]``.

    The rate is ``rate_per_s * factors[k]`` on ``[start_s + k*interval_s, start_s +
    (k+1)*interval_s)``; before ``start_s`` the first factor holds, after the last
    interval the last factor.
    """
    f = np.asarray([1.0] if factors is None else factors, dtype=float)
    inner = start_s + interval_s * np.arange(1, len(f))
    inner = inner[(inner > 0) & (inner < horizon_s)]
    t = np.concatenate(([0.0], inner, [horizon_s]))
    k = np.clip(np.floor((t[:-1] - start_s) / interval_s).astype(int), 0, len(f) - 1)
    seg_rate = rate_per_s * f[k]
    lam = np.concatenate(([0.0], np.cumsum(seg_rate * np.diff(t))))
    return t, lam


@dataclass(frozen=True)
class RatePlan:
    """What :func:`arrival_times` computes before drawing: fixed by the rate, not the draws.

    Attributes
    ----------
    knots_t, knots_lam : knots of the cumulative rate (s, expected vehicles)
    total : expected vehicles on the horizon
    min_unit : minimum headway in operational time (fraction of the mean headway)
    n : headways drawn per block
    model, bunched_share : the headway model and its Cowan M3 share
    """

    knots_t: np.ndarray
    knots_lam: np.ndarray
    total: float
    min_unit: float
    n: int
    model: str
    bunched_share: float


def rate_plan(
    flow_veh_h: float,
    horizon_s: float,
    *,
    model: str = "poisson",
    min_headway_s: float = 0.0,
    bunched_share: float = 0.0,
    factors: Sequence[float] | None = None,
    interval_s: float = 900.0,
    start_s: float = 0.0,
) -> RatePlan:
    """The draw-independent part of :func:`arrival_times` (same parameters), computed once.

    Raises
    ------
    ValueError
        If ``flow_veh_h`` is negative or not finite.
    """
    if flow_veh_h < 0 or not np.isfinite(flow_veh_h):
        raise ValueError(f"flow_veh_h must be finite and >= 0, got {flow_veh_h}")
    knots_t, knots_lam = cumulative_rate(
        flow_veh_h / 3600.0, horizon_s, factors, interval_s, start_s
    )
    total = float(knots_lam[-1])
    peak = flow_veh_h / 3600.0 * (max(factors) if factors is not None else 1.0)
    n = int(total + 6.0 * np.sqrt(total) + 16)
    return RatePlan(knots_t, knots_lam, total, min_headway_s * peak, n, model, bunched_share)


def planned_times(rng: np.random.Generator, plan: RatePlan) -> np.ndarray:
    """Sorted arrival times (s) of one lane drawn from ``rng`` under ``plan``.

    Equal, draw for draw, to :func:`arrival_times` with the parameters of ``plan``.

    Parameters
    ----------
    rng
        Source of randomness.
    plan
        From :func:`rate_plan`.
    """
    total, n, min_unit = plan.total, plan.n, plan.min_unit
    if total <= 1e-9:  # fewer than 1e-9 expected vehicles: none
        return np.empty(0)
    u = np.cumsum(unit_headways(rng, n, plan.model, min_unit, plan.bunched_share))
    while u[-1] < total:  # rare: extend the sequence
        more = np.cumsum(unit_headways(rng, n, plan.model, min_unit, plan.bunched_share)) + u[-1]
        u = np.concatenate((u, more))
    u = u[: np.searchsorted(u, total)]
    knots_t, knots_lam = plan.knots_t, plan.knots_lam
    if len(knots_t) == 2:  # constant rate: the inverse is a scaling
        u *= knots_t[1] / knots_lam[1]
        return u
    return np.interp(u, knots_lam, knots_t)


def arrival_times(
    rng: np.random.Generator,
    flow_veh_h: float,
    horizon_s: float,
    *,
    model: str = "poisson",
    min_headway_s: float = 0.0,
    bunched_share: float = 0.0,
    factors: Sequence[float] | None = None,
    interval_s: float = 900.0,
    start_s: float = 0.0,
) -> np.ndarray:
    """Sorted arrival times (s) in ``[0, horizon_s)`` of one lane.

    A unit-rate renewal sequence is generated in operational time (expected
    cumulative count) and mapped back through the inverse of the piecewise-linear
    cumulative rate, so time-varying rates are exact for Poisson.  For the shifted
    exponential and Cowan M3 models the minimum headway equals ``min_headway_s`` at
    the peak rate and scales with ``1 / rate`` elsewhere.  Many lanes of one rate:
    :func:`rate_plan` once, then :func:`planned_times` per lane.

    Parameters
    ----------
    rng
        Source of randomness.
    flow_veh_h
        Hourly rate, veh/h.
    horizon_s
        End of the generated period, s.
    model, min_headway_s, bunched_share
        Headway model, its minimum headway (s) and Cowan M3 bunched share.
    factors, interval_s, start_s
        Optional piecewise-constant rate factors, see :func:`cumulative_rate`.
    """
    plan = rate_plan(
        flow_veh_h,
        horizon_s,
        model=model,
        min_headway_s=min_headway_s,
        bunched_share=bunched_share,
        factors=factors,
        interval_s=interval_s,
        start_s=start_s,
    )
    return planned_times(rng, plan)


def lindley(lower: np.ndarray, headway_s: float) -> np.ndarray:
    """FIFO single-server departures ``d_i = max(lower_i, d_{i-1} + h)``, vectorized.

    Closed form ``d_i = i*h + max_{j<=i}(lower_j - j*h)`` (no Python loop).
    """
    ih = np.arange(len(lower)) * headway_s
    return ih + np.maximum.accumulate(lower - ih)


def gate(
    arrivals: np.ndarray, windows: Windows, headway_s: float, max_iter: int = 100_000
) -> np.ndarray:
    """Stop-line passage times of a stream queued at a signal.

    Vehicles pass only inside ``windows`` (a :class:`uturn_sim.signal.GreenWindows`
    -like object with ``contains`` and ``next_start``), FIFO, at least
    ``headway_s`` apart: the standing queue at a red is released at the
    saturation headway from the effective-green start.  Each iteration applies
    the Lindley closed form and raises the lower bound of every departure that
    fell in red to the next green start; it stops when none does.  Vehicles whose
    queue is not cleared before the last window (beyond the generated horizon) are
    left out: they pass after the run.
    """
    lower = np.asarray(arrivals, dtype=float)
    if len(lower) == 0:
        return lower.copy()
    for _ in range(max_iter):
        d = lindley(lower, headway_s)
        red = np.isfinite(d) & ~windows.contains(np.where(np.isfinite(d), d, 0.0))
        if not red.any():
            return d[np.isfinite(d)]
        lower = np.where(red, windows.next_start(d), d)
    raise RuntimeError("signal gating did not converge (stream far above its capacity)")
