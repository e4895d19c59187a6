# ruff: noqa: ANN001  (numba kernels: argument types are inferred from the arrays)
"""Compiled :func:`~uturn_sim.traffic.headways.gate` for batches (numba, imported lazily).

:func:`gate_lanes` runs, lane by lane, exactly the iterations of the NumPy
:func:`~uturn_sim.traffic.headways.gate`: the Lindley closed form
``d_i = i*h + max_{j<=i}(lower_j - j*h)`` over the whole lane, then every departure in
red raised to the next green start and every other lower bound set to its departure,
until none is in red.  Same floating-point operations in the same order, so the
passage times are identical bit for bit (``tests/test_arrivals.py`` checks it); only
the per-call NumPy overhead, which dominates on a default replication's short lanes,
is gone.  Only :func:`uturn_sim.traffic.batch.build_arrivals_batch` uses it; single
tables keep the NumPy code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gate_lanes"]


@njit(cache=True)
def _gate_one(lower, starts, ends, h, max_iter, d):  # pragma: no cover - compiled
    """Gate one lane in place into ``d``; the number of finite departures (-1: no convergence)."""
    n = len(lower)
    nw = len(starts)
    for _ in range(max_iter):
        m = -np.inf
        for i in range(n):
            ih = i * h
            v = lower[i] - ih
            if v > m or i == 0:
                m = v
            d[i] = ih + m
        any_red = False
        for i in range(n):
            t = d[i]
            if not np.isfinite(t):
                lower[i] = t
                continue
            k = np.searchsorted(starts, t, side="right") - 1
            if k >= 0 and t < ends[k]:
                lower[i] = t
            else:
                any_red = True
                lower[i] = starts[k + 1] if k + 1 < nw else np.inf
        if not any_red:
            c = 0
            for i in range(n):
                if np.isfinite(d[i]):
                    c += 1
            return c
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
