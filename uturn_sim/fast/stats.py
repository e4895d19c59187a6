# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled statistics that reproduce NumPy's results bit for bit.

* :func:`pairwise_sum` — NumPy's pairwise summation (``np.sum`` / ``np.mean`` of a
  contiguous float64 array: 8 accumulators, blocks of 128, halves above)
* :func:`lane_one_records` — ``measures.summary.lane_one_records``

The queues' statistics are in :mod:`uturn_sim.fast.queues`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["lane_one_records", "pairwise_sum"]

_BLOCK = 128


@njit(cache=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """NumPy's pairwise-sum leaf (``n <= 128``): 8 accumulators, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _split(n: int) -> int:  # pragma: no cover - compiled
    """NumPy's first half of a block above 128: half, rounded down to a multiple of 8."""
    n2 = n // 2
    return n2 - n2 % 8


# NumPy's recursion unrolled by depth without allocating: _pw<k> sums up to _LIMIT[k]
# elements, since halves of n are at most ceil(n / 2) + 7 (limit_k = 2 limit_k-1 - 14)
@njit(cache=True)
def _pw1(a, lo, n):  # pragma: no cover - compiled
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    h = _split(n)
    return _block_sum(a, lo, h) + _block_sum(a, lo + h, n - h)


@njit(cache=True)
def _pw2(a, lo, n):  # pragma: no cover - compiled
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    h = _split(n)
    return _pw1(a, lo, h) + _pw1(a, lo + h, n - h)


@njit(cache=True)
def _pw3(a, lo, n):  # pragma: no cover - compiled
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    h = _split(n)
    return _pw2(a, lo, h) + _pw2(a, lo + h, n - h)


@njit(cache=True)
def _pw4(a, lo, n):  # pragma: no cover - compiled
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    h = _split(n)
    return _pw3(a, lo, h) + _pw3(a, lo + h, n - h)


@njit(cache=True)
def _pw5(a, lo, n):  # pragma: no cover - compiled
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    h = _split(n)
    return _pw4(a, lo, h) + _pw4(a, lo + h, n - h)


@njit(cache=True)
def _pw6(a, lo, n):  # pragma: no cover - compiled
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    h = _split(n)
    return _pw5(a, lo, h) + _pw5(a, lo + h, n - h)


_UNROLLED = 7310  # _pw6's limit: 128 -> 242 -> 470 -> 926 -> 1838 -> 3662 -> 7310


@njit(cache=True)
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:  # pragma: no cover - compiled
    """``np.sum(a[lo:lo + n])`` with NumPy's pairwise summation order.

    NumPy halves blocks above 128 elements (the first half a multiple of 8) and adds
    the halves' sums.  Up to ``_UNROLLED`` elements the halving is unrolled by depth
    (no allocation); above, an explicit stack does the same (numba caches no
    recursion).
    """
    if n <= _UNROLLED:
        return _pw6(a, lo, n)
    s_lo = np.empty(128, dtype=np.int64)
    s_n = np.empty(128, dtype=np.int64)
    s_done = np.zeros(128, dtype=np.bool_)
    vals = np.empty(128)
    top, nv = 0, 0
    s_lo[0], s_n[0], s_done[0] = lo, n, False
    top = 1
    while top:
        top -= 1
        b_lo, b_n, done = s_lo[top], s_n[top], s_done[top]
        if b_n <= _UNROLLED:
            vals[nv] = _pw6(a, b_lo, b_n)
            nv += 1
        elif done:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
        else:
            n2 = _split(b_n)
            s_lo[top], s_n[top], s_done[top] = b_lo, b_n, True
            s_lo[top + 1], s_n[top + 1], s_done[top + 1] = b_lo + n2, b_n - n2, False
            s_lo[top + 2], s_n[top + 2], s_done[top + 2] = b_lo, n2, False
            top += 3
    return vals[0]


@njit(cache=True)
def lane_one_records(t, state, t0, t1, cycle, origin):  # pragma: no cover - compiled
    """``measures.summary.lane_one_records`` of the step function ``(t, state)``.

    Returns ``[entrance share, entrance cycle share, spillback share, spillback cycle
    share]``: shares of ``[t0, t1)`` and of the whole signal cycles in it (cycles
    start at ``origin + k * cycle``, s).  The states' intervals come in time order,
    so the cycles they touch are counted as a union of increasing ranges.
    """
    n = t.size
    k0 = int(np.ceil((t0 - origin) / cycle - 1e-9))
    k1 = int(np.floor((t1 - origin) / cycle + 1e-9))  # cycles k0 .. k1 - 1
    n_cycles = max(k1 - k0, 0)
    out = np.empty(4)
    w = np.empty(n)
    for s in range(2):
        m, count, covered = 0, 0, k0 - 1
        for k in range(n):
            if state[k] != s + 1:
                continue
            a = min(max(t[k], t0), t1)
            b = min(max(t[k + 1] if k + 1 < n else np.inf, t0), t1)
            if not b > a:
                continue
            w[m] = b - a
            m += 1
            lo = max(int(np.floor((a - origin) / cycle)), k0, covered + 1)
            hi = min(int(np.ceil((b - origin) / cycle)) - 1, k1 - 1)
            if hi >= lo:
                count += hi - lo + 1
                covered = hi
        share = pairwise_sum(w, 0, m) / (t1 - t0)
        out[2 * s] = share if share < 1.0 else 1.0
        out[2 * s + 1] = count / n_cycles if n_cycles else np.nan
    return out
