# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled orderings with NumPy's exact answers, cheaper on a replication's data.

* :func:`argsort_stable` — ``np.argsort(x, kind="stable")``: a stable order is unique
  whatever the algorithm, so arrays of few distinct values (queue levels) take a
  counting sort by rank, spread values (event times) a bucket sort, others a merge of
  their ascending runs
* :func:`percentile` — ``np.percentile(x, 100 * q)`` (method ``linear``): it reads
  two order statistics, found by selection instead of a full sort

Both take float arrays without NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["argsort_stable", "percentile"]

_FEW = 128  # distinct values up to which argsort_stable counts instead of merging
_SLOTS = 512  # hash slots for them (a power of two, a quarter full at most)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing of the value's bits
_MINRUN = 16  # _merge_runs: shorter ascending runs are extended by insertion
_BUCKET = 32  # _bucket_order gives up on a bucket fuller than this (clustered values)


@njit(cache=True)
def _rank_order(x):  # pragma: no cover - compiled
    """Stable order of ``x`` by counting, or an empty array if it has many values."""
    n = x.size
    keys = np.zeros(_SLOTS)
    used = np.zeros(_SLOTS, dtype=np.bool_)
    slot = np.empty(n, dtype=np.int64)
    bits = (x + 0.0).view(np.uint64)  # -0.0 + 0.0 is 0.0: equal values, equal bits
    k = 0
    for i in range(n):
        h = np.int64((bits[i] * _MIX) >> np.uint64(55))
        while used[h] and keys[h] != x[i]:
            h = (h + 1) & (_SLOTS - 1)
        if not used[h]:
            if k == _FEW:
                return np.empty(0, dtype=np.int64)
            used[h] = True
            keys[h] = x[i]
            k += 1
        slot[i] = h
    distinct = keys[used]
    order = np.argsort(distinct, kind="mergesort")
    rank = np.empty(_SLOTS, dtype=np.int64)
    rank[np.flatnonzero(used)[order]] = np.arange(k)
    start = np.zeros(k + 1, dtype=np.int64)
    for i in range(n):
        start[rank[slot[i]] + 1] += 1
    for r in range(k):
        start[r + 1] += start[r]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):  # in index order within each value: stable
        r = rank[slot[i]]
        out[start[r]] = i
        start[r] += 1
    return out


@njit(cache=True)
def _merge_runs(x):  # pragma: no cover - compiled
    """Stable order of ``x`` by merging its ascending runs (made at least _MINRUN long).

    Queue events come as a few sorted runs (arrivals) and nearly sorted ones
    (departures), which this merges in a few passes.
    """
    n = x.size
    src = np.arange(n)
    starts = np.empty(n + 1, dtype=np.int64)
    runs, i = 0, 0
    while i < n:
        j = i + 1
        while j < n and x[j - 1] <= x[j]:
            j += 1
        if j - i < _MINRUN:  # extend by insertion, moving only past greater values
            j = min(i + _MINRUN, n)
            for k in range(i + 1, j):
                v, xv, q = src[k], x[src[k]], k - 1
                while q >= i and x[src[q]] > xv:
                    src[q + 1] = src[q]
                    q -= 1
                src[q + 1] = v
        starts[runs] = i
        runs += 1
        i = j
    starts[runs] = n
    dst = np.empty(n, dtype=np.int64)
    while runs > 1:
        for r in range(0, runs, 2):
            lo, mid = starts[r], starts[r + 1]
            hi = starts[r + 2] if r + 2 <= runs else mid
            if mid >= hi or x[src[mid - 1]] <= x[src[mid]]:
                dst[lo:hi] = src[lo:hi]
            else:
                a, b = lo, mid
                for k in range(lo, hi):  # the left one first on ties
                    if b >= hi or (a < mid and not x[src[b]] < x[src[a]]):
                        dst[k] = src[a]
                        a += 1
                    else:
                        dst[k] = src[b]
                        b += 1
            starts[r // 2] = lo
        runs = (runs + 1) // 2
        starts[runs] = n
        src, dst = dst, src
    return src


@njit(cache=True)
def _bucket_order(x):  # pragma: no cover - compiled
    """Stable order of ``x`` by buckets of equal width, or an empty array.

    A value's bucket ``int((x - min) * scale)`` never decreases as the value grows, so
    a stable counting sort by bucket leaves values out of order only inside buckets,
    and one stable insertion pass gives the stable order.  Gives up (empty) on
    infinite values or a crowded bucket.
    """
    n = x.size
    out = np.empty(0, dtype=np.int64)
    if n == 0:
        return out
    lo, hi = x.min(), x.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return out
    if hi == lo:
        return np.arange(n)
    scale = n / (hi - lo)
    if not np.isfinite(scale):
        return out
    bucket = np.empty(n, dtype=np.int64)
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        k = int((x[i] - lo) * scale)
        k = k if k < n else n - 1
        bucket[i] = k
        start[k + 1] += 1
    for k in range(n):
        if start[k + 1] > _BUCKET:
            return out
        start[k + 1] += start[k]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[start[bucket[i]]] = i
        start[bucket[i]] += 1
    # in bucket order, values are out of order only inside a bucket: one insertion
    # pass (passing greater values only: stable) finishes with few, predictable moves
    key = np.empty(n)
    for j in range(n):
        key[j] = x[order[j]]
    for j in range(1, n):
        xv = key[j]
        if key[j - 1] > xv:
            v = order[j]
            q = j - 1
            while q >= 0 and key[q] > xv:
                key[q + 1] = key[q]
                order[q + 1] = order[q]
                q -= 1
            key[q + 1] = xv
            order[q + 1] = v
    return order


@njit(cache=True)
def argsort_stable(x):  # pragma: no cover - compiled
    """``np.argsort(x, kind="stable")`` of a float array without NaN."""
    order = _rank_order(x)
    if order.size == x.size:
        return order
    order = _bucket_order(x)
    if order.size == x.size:
        return order
    return _merge_runs(x)


@njit(cache=True)
def percentile(x, q):  # pragma: no cover - compiled
    """``np.percentile(x, 100 * q)`` (linear interpolation); NaN if ``x`` is empty."""
    n = x.size
    if n == 0:
        return np.nan
    virtual = (n - 1) * ((100.0 * q) / 100.0)
    prev = np.floor(virtual)
    gamma = virtual - prev
    i = min(max(int(prev), 0), n - 1)
    part = np.partition(x, i)
    a = part[i]
    b = a if i + 1 > n - 1 else part[i + 1 :].min()  # the next order statistic
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma
