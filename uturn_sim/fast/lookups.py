"""Compiled scalar lookups the kernels decide with: green windows, acceptable gaps, move-up.

Each function mirrors one reference function operation for operation, so the
floating-point results are identical:

* :func:`green_next` — :meth:`uturn_sim.traffic.signal.GreenWindows.next_start_scalar`
* :func:`gap_next_start` — :meth:`uturn_sim.model.gaps.GapFinder.next_start`
* :func:`move_time` — :func:`uturn_sim.model.kinematics.move_time_s`
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["gap_next_start", "green_next", "move_time", "search_left", "search_right"]


@njit(cache=True, inline="always")
def search_left(a: np.ndarray, x: float) -> int:  # pragma: no cover - compiled
    """``np.searchsorted(a, x, side="left")`` for a sorted 1-D array."""
    lo, hi = 0, a.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def search_right(a: np.ndarray, x: float) -> int:  # pragma: no cover - compiled
    """``np.searchsorted(a, x, side="right")`` for a sorted 1-D array."""
    lo, hi = 0, a.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def green_next(starts: np.ndarray, ends: np.ndarray, t: float) -> float:  # pragma: no cover
    """Earliest time >= ``t`` (s) inside a window ``[starts[i], ends[i])``; inf if none."""
    i = search_right(starts, t) - 1
    if i >= 0 and t < ends[i]:
        return t
    return starts[i + 1] if i + 1 < starts.size else np.inf


@njit(cache=True, inline="always")
def gap_next_start(
    p: np.ndarray,
    ready: float,
    tc: float,
    settled: float,
    reaction: float,
    strict: bool,
    lead: float = 0.0,
) -> float:  # pragma: no cover - compiled
    """Earliest start >= ``ready`` (s) clear of the passages ``p`` (s).

    The window ``[s - lead, s - lead + tc)`` (s) must hold no passage.

    See :meth:`uturn_sim.model.gaps.GapFinder.next_start` for the rule (lag usable at
    once if it opened after ``settled``, else ``reaction`` s after it; ``strict``: only
    gaps that open after ``settled``; ``lead > 0``: a safety margin before the start).
    """
    if lead > 0:  # the same search on window starts u = s - lead
        u = _gap_start(p, ready - lead, tc, settled - lead, reaction, strict) + lead
        return u if u > ready else ready
    return _gap_start(p, ready, tc, settled, reaction, strict)


@njit(cache=True, inline="always")
def _gap_start(
    p: np.ndarray, ready: float, tc: float, settled: float, reaction: float, strict: bool
) -> float:  # pragma: no cover - compiled
    n = p.size
    i = search_left(p, ready)
    nxt = p[i] if i < n else np.inf
    if nxt - ready >= tc:
        opened = p[i - 1] if i > 0 else -np.inf
        if settled < opened:
            return ready
        if not strict:
            late = settled + reaction
            t = late if late > ready else ready
            if nxt - t >= tc:
                return t
    j = i
    while j < n:
        gap = p[j + 1] - p[j] if j + 1 < n else np.inf
        if gap >= tc:
            return p[j]
        j += 1
    return np.inf


@njit(cache=True, inline="always")
def move_time(distance_m: float, a: float, b: float, v: float) -> float:  # pragma: no cover
    """Standstill-to-standstill time over ``distance_m`` (m), s.

    Accelerate at ``a``, brake at ``b`` (m/s²), at most ``v`` (m/s).
    """
    if distance_m <= 0.0:
        return 0.0
    ramp = v * v / (2 * a) + v * v / (2 * b)
    if distance_m >= ramp:
        return v / a + v / b + (distance_m - ramp) / v
    peak = math.sqrt(2 * distance_m * a * b / (a + b))
    return peak / a + peak / b
