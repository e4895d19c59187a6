# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled per-vehicle samples of a replication's summary rows, and the kernels' ``P``.

:func:`samples` walks a replication's vehicles once, in the vehicle frame's order,
and gathers each row's samples (delays, s; persons) and counts as
:func:`uturn_sim.measures.summary.summarize` selects them; :func:`platoons` and
:func:`pet` give the per-vehicle ``platoon`` and PET (s) it needs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.fast.lookups import search_right
from uturn_sim.fast.sorting import argsort_stable
from uturn_sim.measures.safety import _EPS_S as PET_EPS_S  # passages within it: before

__all__ = ["pet", "platoons", "samples"]

#: the parameters ``P`` of the kernels: period (s), storage (m), the geometric delay of a
#: stop per movement (s), platoon spacing, conflict entry, turn clear, conflict PET and
#: stop threshold (s), the run's end, the cycle and its origin (s), then PET thresholds
T0, T1, STORAGE, GEO_U, GEO_L, GEO_T, PLATOON, ENTER, CLEAR, CONFLICT, STOPPED = range(11)
END, CYCLE, ORIGIN, PET0 = 11, 12, 13, 14
_UTURN, _THROUGH = 0, 2  # movement codes = ROWS indices (left 1; the last row is all)


@njit(cache=True)
def platoons(mv, dep, served, n, P, plat):  # pragma: no cover - compiled
    """``Result.vehicles``' ``platoon`` into ``plat[:n]`` (measures.platoons, -1: none)."""
    plat[:n] = -1
    gi = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if mv[i] == _UTURN and served[i] == 2 and not np.isnan(dep[i]):
            gi[m] = i
            m += 1
    if m:
        order = gi[:m][argsort_stable(dep[gi[:m]])]
        pid = 0
        plat[order[0]] = 0
        for k in range(1, m):
            if dep[order[k]] - dep[order[k - 1]] > P[PLATOON] + 1e-9:
                pid += 1
            plat[order[k]] = pid


@njit(cache=True)
def pet(d, p, P):  # pragma: no cover - compiled
    """``measures.safety.pet_times`` of a U-turn starting at ``d``: min PET before/after, s."""
    e = d + P[ENTER]
    lo = search_right(p, e + PET_EPS_S)
    before = e - p[lo - 1] if lo >= 1 else np.nan
    after = p[lo] - (d + P[CLEAR]) if lo < p.size else np.nan
    return np.fmin(before, after)


@njit(cache=True)
def samples(
    n, nb, mv, t, dep, served, spilled, wait, persons, p, lg_s, lg_e, P, F, plat, gmark,
    pmark, stamp, pv,
):  # pragma: no cover - compiled
    """Every row's samples and counts from one walk over the vehicles, in their order.

    Vehicles ``0..nb-1`` are the bay's, the rest through vehicles (movement
    :data:`_THROUGH`, served 1 or 0, never spilled): their samples are gathered once
    and appended to the last row's (every vehicle, in order).

    Fills ``F[row]`` (control delay, queue delay, person delay, bay entry wait of the
    vehicles of the period that left; delay charged to and persons of those still
    waiting at the end) and ``pv`` (PET of the period's U-turns).  Returns the counts
    ``c[row]``: 0 arrived, 1 left in the period, 2 spilled, 3 in system at the end,
    4 departures (samples in ``F[row, :3]``), 5 gap, 6 used gaps, 7 distinct gaps,
    8 distinct platoons, 9 waiting (``F[row, 4:]``), 10 entry waits (``F[row, 3]``);
    and the number of PETs.  Distinct gaps and platoons are marked with ``stamp``.
    """
    rows = F.shape[0]
    last = rows - 1
    t0, t1 = P[T0], P[T1]
    geo = np.array([P[GEO_U], P[GEO_L], P[GEO_T]])
    c = np.zeros((rows, 11), dtype=np.int64)
    npet = 0
    for i in range(nb):
        r = mv[i]
        d, ti = dep[i], t[i]
        win = ti >= t0 and ti < t1
        gone = not np.isnan(d)
        inper = d >= t0 and d < t1
        gap = inper and served[i] == 2
        used = -1
        if gap:  # protected: inside a left-turn green; else the passage interval used
            j = search_right(lg_s, d) - 1
            if not (j >= 0 and d < lg_e[j]):
                used = search_right(p, d)
        qd = d - ti
        control = np.nan
        if gone and win:
            stopped = qd > P[STOPPED] or served[i] == 2
            control = qd + (geo[r] if stopped else 0.0)
        for h in range(2):
            rr = r if h == 0 else last
            cr = c[rr]
            if not gone:
                cr[3] += 1
                if win:  # still waiting at the run's end: charged its delay up to it
                    F[rr, 4, cr[9]] = P[END] - ti
                    F[rr, 5, cr[9]] = persons[i]
                    cr[9] += 1
            if win:
                cr[0] += 1
                if spilled[i]:
                    cr[2] += 1
                if gone:
                    F[rr, 0, cr[4]] = control
                    F[rr, 1, cr[4]] = qd
                    F[rr, 2, cr[4]] = control * persons[i]
                    cr[4] += 1
                    if r != _THROUGH and not np.isnan(wait[i]):
                        F[rr, 3, cr[10]] = wait[i]
                        cr[10] += 1
            if inper:
                cr[1] += 1
            if gap:
                cr[5] += 1
                if pmark[rr, plat[i] + 1] != stamp:
                    pmark[rr, plat[i] + 1] = stamp
                    cr[8] += 1
                if used >= 0:
                    cr[6] += 1
                    if gmark[rr, used] != stamp:
                        gmark[rr, used] = stamp
                        cr[7] += 1
        if r == _UTURN and inper:
            x = pet(d, p, P)
            if not np.isnan(x):
                pv[npet] = x
                npet += 1
    nd = nc = arrived = inper = inend = 0
    for i in range(nb, n):  # through vehicles: the through row, then appended to all
        d, ti = dep[i], t[i]
        win = ti >= t0 and ti < t1
        if np.isnan(d):
            inend += 1
            if win:
                F[_THROUGH, 4, nc] = P[END] - ti
                F[_THROUGH, 5, nc] = persons[i]
                nc += 1
        elif win:
            qd = d - ti
            control = qd + (geo[_THROUGH] if qd > P[STOPPED] or served[i] == 2 else 0.0)
            F[_THROUGH, 0, nd] = control
            F[_THROUGH, 1, nd] = qd
            F[_THROUGH, 2, nd] = control * persons[i]
            nd += 1
        arrived += win
        inper += d >= t0 and d < t1
        c[_THROUGH, 2] += spilled[i] and win
    ct = c[_THROUGH]
    ct[0], ct[1], ct[3], ct[4], ct[9] = arrived, inper, inend, nd, nc
    for k in range(11):
        c[last, k] += ct[k]
    a, b = c[last, 4] - nd, c[last, 9] - nc
    for k in range(3):
        F[last, k, a : a + nd] = F[_THROUGH, k, :nd]
    for k in range(4, 6):
        F[last, k, b : b + nc] = F[_THROUGH, k, :nc]
    return c, npet
