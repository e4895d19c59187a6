# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Time-weighted queue statistics of every summary row in one pass over the events.

:func:`row_queues` gives, for the rows of :data:`~uturn_sim.measures.catalog.ROWS`
(each movement's vehicles and all of them), what
:func:`uturn_sim.measures.summary.time_weighted_stats` gives of
:func:`~uturn_sim.measures.summary.queue_steps` in vehicles and in metres, with the
same bits:

* one walk over the replication's events in stable time order builds every row's
  step function at once, keeping the steps of positive weight (s) in the order
  ``time_weighted_stats`` keeps them, so the means sum the same numbers pairwise;
* the quantile is the level at which the sequential cumulative weight, in the stable
  order of the levels, first reaches ``q - 1e-12`` of the total.  Vehicle counts
  are whole numbers, so the weight of each level is added up per level while
  walking; the cumulative weight per level then decides the level unless a level's
  boundary lies within a rigorous rounding bound of the target, in which case the
  reference computation (a stable sort of the levels) decides;
* the metres take the vehicles' ordering when the metre level is a strictly
  increasing function of the count (one vehicle length in the row: then both stable
  orders coincide); otherwise the reference computation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.fast.sorting import argsort_stable
from uturn_sim.fast.stats import pairwise_sum

__all__ = ["exact_quantile", "row_queues"]

_U = 2.0**-53  # unit roundoff of float64


@njit(cache=True)
def exact_quantile(w, v, m, tot, target):  # pragma: no cover - compiled
    """The level where ``cumsum(w[order]) / tot`` first reaches ``target`` (reference)."""
    order = argsort_stable(v[:m])
    acc = 0.0
    for k in range(m):
        acc += w[order[k]]
        if acc / tot >= target:
            return v[order[k]]
    return v[order[m - 1]]


@njit(cache=True)
def _level_quantile(hist, top, m, tot, target):  # pragma: no cover - compiled
    """The count level of the quantile from per-level weights, or -1 if too close to call.

    ``hist[c]`` is the weight at level ``c`` (0: none) over ``m`` steps.  Each running
    sum (the reference's, sequential in the stable order, and this one, per level)
    is within ``(m + top + 2) u`` of the exact sum relative to the total; a level is
    returned only if the target lies outside both errors at its two boundaries.
    """
    eps = 8.0 * (m + top + 8) * _U
    acc = 0.0
    for c in range(top + 1):
        if hist[c] > 0.0:
            acc += hist[c]
            r = acc / tot
            if r >= target - eps:  # earlier boundaries are below target - eps
                return c if r > target + eps else -1
    return -1


@njit(cache=True)
def _increasing(fmap, hist, top):  # pragma: no cover - compiled
    """True if ``fmap`` strictly increases over the levels present (``hist > 0``)."""
    last = -np.inf
    for c in range(top + 1):
        if hist[c] > 0.0:
            if not fmap[c] > last:
                return False
            last = fmap[c]
    return True


@njit(cache=True)
def _steps(
    g, ne, t0, t1, n, spill_on, limit, spill, W, WN, WM, hist, fmap, levels, vn, vm
):  # pragma: no cover - compiled
    """One row's steps of positive weight from its events ``g[:, :ne]`` in time order.

    ``g`` holds the events' times (s), count changes (+-1) and metre changes (m).
    Fills, per step in the reference's order, ``W`` (weight, s), ``WN`` and ``WM``
    (weight times level, veh s and m s; with ``levels`` also the levels ``vn``,
    ``vm``), and ``hist``/``fmap`` (weight and metre level per count level).  Returns
    the number of steps, the top count level, the top metre level, whether every
    count level is whole (``0..n``), whether the metre level is a function of it, and
    the number of ``spill`` weights (every step's, also empty ones, whose metre level
    is above ``limit``; only if ``spill_on``).
    """
    cur, cnt, lev = -np.inf, 0.0, 0.0
    m = top = nsp = 0
    mtop = -np.inf
    whole = same = True
    exact = n < 9_000_000  # counts (whole, at most n) times 1e9 exact in float64
    e = 0
    if not spill_on:  # steps ending by t0 weigh nothing: only their levels matter
        while e < ne and g[0, e] <= t0:
            cnt += g[1, e]
            lev += g[2, e]
            cur = g[0, e]
            e += 1
    while e <= ne:
        t = g[0, e] if e < ne else np.inf
        if t != cur or e == ne:  # close the step [cur, t): the level before t
            e0 = min(max(cur, t0), t1)
            w = min(max(t, t0), t1) - e0
            lm = 0.0
            if w > 0 or spill_on:
                lm = np.rint(lev * 1e9) / 1e9
                if spill_on and lm > limit + 1e-9:
                    spill[nsp] = w
                    nsp += 1
            if w > 0:
                # a whole count below 2**53 / 1e9 is its own rounding to 1e-9
                ln = cnt if exact else np.rint(cnt * 1e9) / 1e9
                W[m], WN[m], WM[m] = w, w * ln, w * lm
                if levels:
                    vn[m], vm[m] = ln, lm
                m += 1
                mtop = max(mtop, lm)
                c = int(ln) if ln >= 0 and ln <= n else 0
                if c != ln:  # never: counts are whole, 0..n
                    whole = same = False
                elif hist[c] == 0.0:
                    fmap[c] = lm
                elif fmap[c] != lm:
                    same = False
                hist[c] += w
                top = max(top, c)
            elif t >= t1 and not spill_on:  # every later step is empty
                break
            cur = t
        if e < ne:
            cnt += g[1, e]
            lev += g[2, e]
        e += 1
    return m, top, mtop, whole, same, nsp


@njit(cache=True)
def _levels(g, ne, t0, t1, n, m):  # pragma: no cover - compiled
    """A row's ``m`` steps walked again: weights (s) and levels (veh, m)."""
    w, vn, vm = np.empty(m), np.empty(m), np.empty(m)
    _steps(
        g, ne, t0, t1, n, False, 0.0, np.empty(0), w, np.empty(m), np.empty(m),
        np.zeros(n + 1), np.empty(n + 1), True, vn, vm,
    )  # fmt: skip
    return w, vn, vm


@njit(cache=True)
def _exact(g, ne, t0, t1, n, m, tot, target):  # pragma: no cover - compiled
    """The reference quantiles (veh, m) of a row, from its steps' levels."""
    w, vn, vm = _levels(g, ne, t0, t1, n, m)
    return exact_quantile(w, vn, m, tot, target), exact_quantile(w, vm, m, tot, target)


@njit(cache=True)
def row_queues(
    ev, ev_v, ev_s, order, n, row, length, t0, t1, q, spill_row, limit, G, W, WN, WM, HIST,
    FMAP, out,
):  # pragma: no cover - compiled
    """Every row's time-weighted (mean, ``q``-quantile, max) queue, veh and m.

    Parameters
    ----------
    ev, ev_v, ev_s, order
        Events: time (s; arrivals first, departures as ``measures.summary.queue_steps``
        takes them), vehicle and sign (+1 arrival, -1 departure); ``order`` their
        stable time order.
    n, row, length
        Vehicles: number, movement row (0..2) and queue space (m); the last row of
        ``out`` holds every vehicle.
    t0, t1, q
        Measured period (s) and quantile.
    spill_row, limit
        Also returns the share of ``[t0, t1)`` with row ``spill_row``'s queue above
        ``limit`` (m) (``measures.summary._share_above``); NaN if ``spill_row < 0``.
    G, W, WN, WM, HIST, FMAP
        Work buffers: ``(rows, 3, events)`` for the rows' events, ``(rows, events +
        1)`` for the steps, ``(rows, n + 1)`` per count level; ``HIST`` zero, left zero.
    out
        ``(rows, 6)``: mean, quantile and max in vehicles, then in metres.
    """
    rows = out.shape[0]
    last = rows - 1
    ne = order.size
    nev = np.zeros(rows, dtype=np.int64)
    for e in range(ne):  # each row's events, in the stable time order of all
        k = order[e]
        v = ev_v[k]
        r = row[v]
        j = nev[r]
        t, s = ev[k], ev_s[k]
        dm = s * length[v]
        G[r, 0, j], G[r, 1, j], G[r, 2, j] = t, s, dm
        nev[r] = j + 1
        G[last, 0, e], G[last, 1, e], G[last, 2, e] = t, s, dm
    nev[last] = ne
    spill = np.empty(ne + 1)
    share = np.nan
    target = q - 1e-12
    for rr in range(rows):
        w, h = W[rr], HIST[rr]
        m, tp, mtop, whole, same, nsp = _steps(
            G[rr], nev[rr], t0, t1, n, rr == spill_row, limit, spill, w, WN[rr], WM[rr], h,
            FMAP[rr], False, w, w,
        )  # fmt: skip
        if rr == spill_row:
            share = min(1.0, pairwise_sum(spill, 0, nsp) / (t1 - t0))
        o = out[rr]
        tot = pairwise_sum(w, 0, m)
        if not tot > 0:
            o[:] = 0.0
        else:
            o[0] = pairwise_sum(WN[rr], 0, m) / tot
            o[3] = pairwise_sum(WM[rr], 0, m) / tot
            c = _level_quantile(h, tp, m, tot, target) if whole else -1
            by_count = c >= 0 and same and _increasing(FMAP[rr], h, tp)
            if c >= 0:
                o[1] = c
            if by_count:
                o[4] = FMAP[rr, c]
            if c < 0 or not by_count:
                qn, qm = _exact(G[rr], nev[rr], t0, t1, n, m, tot, target)
                o[1] = c if c >= 0 else qn
                o[4] = qm
            o[2] = tp if whole else _levels(G[rr], nev[rr], t0, t1, n, m)[1].max()
            o[5] = mtop
        h[: tp + 1] = 0.0
    return share
