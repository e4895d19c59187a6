# ruff: noqa: ANN001  (numba kernels: argument types are inferred from the arrays)
"""Compiled :func:`~uturn_sim.traffic.headways.gate` for batches (numba, imported lazily).

:func:`gate_lanes` runs, lane by lane, exactly the iterations of the NumPy
:func:`~uturn_sim.traffic.headways.gate`: the Lindley closed form
``d_i = i*h + max_{j<=i}(lower_j - j*h)`` over the whole lane, then every departure in
red raised to the next green start and every other lower bound set to its departure,
until none is in red.  Same floating-point operations in the same order, so the
passage times are identical bit for bit (``tests/test_arrivals.py`` and
``tests/test_arrivals_compiled.py`` check it); only work whose result is known is
skipped (see :func:`_gate_one`).  The compiled arrival core
(:mod:`uturn_sim.traffic.kernel`) gates with :func:`_gate_one`; :func:`gate_lanes` serves
the batches it does not cover.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gate_lanes"]


@njit(cache=True)
def _gate_one(lower, starts, ends, h, max_iter, d):  # pragma: no cover - compiled
    """Gate one lane in place into ``d``; the number of finite departures (-1: no convergence).

    Each iteration is NumPy's: departures by the Lindley closed form ``d_i = i*h + m_i``
    (``m_i`` the running maximum of ``lower[j] - j*h``, ``j <= i``), then every departure
    in red raised to the next green start and every other lower bound set to its
    departure; stop when none is in red.  Two shortcuts leave every number as NumPy's:
    a departure's window is found by a pointer moving forward (departures do not
    decrease along the lane) instead of a binary search; and an iteration starts at the
    first bound the previous update changed, carrying ``m`` from before it, since an
    unchanged prefix gives the same departures and verdicts again.  A departure in red
    with no bound changed up to its own would stay in red for good: NumPy would run
    ``max_iter`` iterations and fail, so this fails at once.  (Skipping every unchanged
    stretch, not only the prefix, was tried: the first update moves nearly every bound
    by rounding, and the bookkeeping made it twice as slow.)
    """
    n, nw = len(lower), len(starts)
    mx = np.empty(n)  # m_i
    p, m = 0, -np.inf
    for _ in range(max_iter):
        any_red, changed = False, n
        k = np.searchsorted(starts, d[p - 1], side="right") - 1 if p > 0 else -1
        for i in range(p, n):
            ih = i * h
            v = lower[i] - ih
            if v > m or i == 0:
                m = v
            mx[i] = m
            t = ih + m
            d[i] = t
            if not np.isfinite(t):
                new = t
            else:
                while k + 1 < nw and starts[k + 1] <= t:
                    k += 1
                if k >= 0 and t < ends[k]:
                    new = t
                else:
                    any_red = True
                    new = starts[k + 1] if k + 1 < nw else np.inf
                    if new == lower[i] and changed == n:
                        return -1  # lanes 0..i repeat for good: NumPy hits max_iter
            if changed == n and new != lower[i]:
                changed = i
            lower[i] = new
        if not any_red:
            c = 0
            while c < n and np.isfinite(d[c]):  # an infinite departure makes all later ones
                c += 1
            return c
        p = changed
        m = mx[p - 1] if p > 0 else -np.inf
    return -1


@njit(cache=True)
def _gate_all(times, offsets, starts, ends, h, max_iter, out, counts):  # pragma: no cover
    """Gate lane ``r`` (rows ``offsets[r]:offsets[r+1]``) of ``times`` into ``out``, each."""
    for r in range(len(offsets) - 1):
        a, b = offsets[r], offsets[r + 1]
        counts[r] = _gate_one(times[a:b].copy(), starts, ends, h, max_iter, out[a:b])
        if counts[r] < 0:
            return False
    return True


def gate_lanes(
    lanes: list[np.ndarray],
    starts: np.ndarray,
    ends: np.ndarray,
    headway_s: float,
    max_iter: int = 100_000,
) -> list[np.ndarray]:
    """``[gate(lane, GreenWindows(starts, ends), headway_s) for lane in lanes]``, compiled.

    Raises
    ------
    RuntimeError
        As :func:`~uturn_sim.traffic.headways.gate`, if a lane does not converge.
    """
    offsets = np.zeros(len(lanes) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(x) for x in lanes])
    times = np.concatenate(lanes).astype(np.float64) if lanes else np.empty(0)
    out = np.empty_like(times)
    counts = np.zeros(len(lanes), dtype=np.int64)
    s = np.ascontiguousarray(starts, dtype=np.float64)
    e = np.ascontiguousarray(ends, dtype=np.float64)
    if not _gate_all(times, offsets, s, e, float(headway_s), max_iter, out, counts):
        raise RuntimeError("signal gating did not converge (stream far above its capacity)")
    return [out[a : a + c] for a, c in zip(offsets[:-1], counts, strict=True)]
