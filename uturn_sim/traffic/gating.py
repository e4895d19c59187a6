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
def padded_windows(starts, ends):  # pragma: no cover - compiled
    """``(-inf, *starts, inf)`` and ``(-inf, *ends)``, as :func:`_gate_padded` reads them."""
    nw = len(starts)
    sp, ep = np.empty(nw + 2), np.empty(nw + 1)
    sp[0], sp[nw + 1], ep[0] = -np.inf, np.inf, -np.inf
    sp[1 : nw + 1] = starts
    ep[1:] = ends
    return sp, ep


@njit(cache=True)
def _gate_one(lower, starts, ends, h, max_iter, d):  # pragma: no cover - compiled
    """Gate one lane in place into ``d``; the number of finite departures (-1: no convergence).

    :func:`_gate_padded` on the windows ``starts, ends``.
    """
    sp, ep = padded_windows(starts, ends)
    return _gate_padded(lower, sp, ep, h, max_iter, d)


@njit(cache=True)
def _gate_padded(lower, sp, ep, h, max_iter, d):  # pragma: no cover - compiled
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
    stretch, not only the prefix, was tried twice: the first updates move nearly every
    bound by rounding, and the bookkeeping made it slower.)

    The windows come padded (:func:`padded_windows`): window ``k`` (1-based) is
    ``[sp[k], ep[k])``, ``sp[0] = ep[0] = -inf`` stands for "before the first window"
    and ``sp[-1] = inf`` for "no next window", so the loop tests no bounds.
    """
    n, last = len(lower), len(sp) - 2
    if n == 0:
        return 0
    mx = np.empty(n)  # m_i
    p, m = 0, -np.inf
    for _ in range(max_iter):
        any_red, changed = False, n
        kk = 0
        if p > 0:
            kk = min(np.searchsorted(sp, d[p - 1], side="right") - 1, last)
        for i in range(p, n):
            ih = i * h
            li = lower[i]
            v = li - ih
            if v > m or i == 0:
                m = v
            mx[i] = m
            t = ih + m
            d[i] = t
            new = t
            green = True
            if np.isfinite(t):
                while sp[kk + 1] <= t:
                    kk += 1
                green = t < ep[kk]
                if not green:
                    new = sp[kk + 1]
                    any_red = True
            if changed == n:
                if new != li:
                    changed = i
                elif not green:
                    return -1  # lanes 0..i repeat for good: NumPy hits max_iter
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
