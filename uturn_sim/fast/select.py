# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled percentiles by in-place selection, equal to ``np.percentile``.

``np.percentile(x, 100 * q)`` (method ``linear``) reads two order statistics of ``x``:
the ``i``-th and the next.  :func:`percentiles` finds them by selection in the
caller's work buffer (reordered, never copied) and, for two quantiles ``q1 <= q2`` of
one sample (median and 95th percentile), selects the lower one inside the part left
below the upper one.  The interpolation is NumPy's, operation for operation.

The buffers hold floats without NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["percentiles", "select"]

_SMALL = 16  # ranges up to this length are finished by insertion


@njit(cache=True)
def _insertion(x, lo, hi):  # pragma: no cover - compiled
    for k in range(lo + 1, hi):
        v = x[k]
        j = k - 1
        while j >= lo and x[j] > v:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = v


@njit(cache=True)
def select(x, lo, hi, k):  # pragma: no cover - compiled
    """Reorder ``x[lo:hi]`` so that ``x[k]`` holds its value of rank ``k - lo``.

    Afterwards ``x[lo:k] <= x[k] <= x[k + 1:hi]``.  Quickselect around a median of
    three with a branch-free partition (values below the pivot, then the rest); a
    range that fails to shrink in ``2 log2(n) + 8`` rounds (many equal values) is
    sorted instead.
    """
    budget = 8
    m = hi - lo
    while m > 1:
        budget += 2
        m >>= 1
    while hi - lo > _SMALL:
        budget -= 1
        if budget < 0:
            x[lo:hi] = np.sort(x[lo:hi])
            return
        mid = (lo + hi - 1) >> 1
        a, b, c = x[lo], x[mid], x[hi - 1]
        # the median of three to x[lo]
        if (a <= b) == (b <= c):
            x[lo], x[mid] = b, a
        elif (b <= a) == (a <= c):
            pass
        else:
            x[lo], x[hi - 1] = c, a
        pivot = x[lo]
        j = lo + 1  # x[lo + 1:j] < pivot <= x[j:i]
        for i in range(lo + 1, hi):
            v = x[i]
            x[i] = x[j]
            x[j] = v
            j += v < pivot
        p = j - 1
        x[lo], x[p] = x[p], pivot
        if k == p:
            return
        if k < p:
            hi = p
        else:
            lo = p + 1
    _insertion(x, lo, hi)


@njit(cache=True)
def _rank(n, q):  # pragma: no cover - compiled
    """NumPy's ``linear`` method: the lower order statistic's index and the weight."""
    virtual = (n - 1) * ((100.0 * q) / 100.0)
    prev = np.floor(virtual)
    gamma = virtual - prev
    return min(max(int(prev), 0), n - 1), gamma


@njit(cache=True)
def _lerp(a, b, gamma):  # pragma: no cover - compiled
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


@njit(cache=True)
def _min(x, lo, hi):  # pragma: no cover - compiled
    v = x[lo]
    for k in range(lo + 1, hi):
        if x[k] < v:
            v = x[k]
    return v


@njit(cache=True)
def percentiles(x, n, q1, q2):  # pragma: no cover - compiled
    """``np.percentile(x[:n], 100 * q1)`` and ``... q2`` (``q1 <= q2``); NaN if ``n == 0``.

    Reorders ``x[:n]`` in place.
    """
    if n == 0:
        return np.nan, np.nan
    i2, g2 = _rank(n, q2)
    i1, g1 = _rank(n, q1)
    select(x, 0, n, i2)
    a2 = x[i2]
    b2 = a2 if i2 + 1 > n - 1 else _min(x, i2 + 1, n)
    if i1 == i2:
        a1, b1 = a2, b2
    else:  # i1 < i2: its order statistics lie in x[:i2], the next may be x[i2]
        select(x, 0, i2, i1)
        a1 = x[i1]
        b1 = x[i2] if i1 + 1 == i2 else _min(x, i1 + 1, i2)
    return _lerp(a1, b1, g1), _lerp(a2, b2, g2)
