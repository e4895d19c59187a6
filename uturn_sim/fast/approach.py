# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled through lanes and bay entrance, mirroring :mod:`uturn_sim.model.approach`.

The through lanes' state lives in arrays of the run's :class:`~uturn_sim.fast.state.Run`
``s`` (no Python objects per vehicle):

* ``files[k, fh[k] : fh[k] + fn[k]]`` lane k + 1, front first: code ``j >= 0`` is
  through vehicle ``j``, code ``-(i + 1)`` bay vehicle ``i`` (lane 1 only)
* ``tlen[j]`` queue space of through vehicle ``j`` (m); records ``tdep[j]`` (s),
  ``tlane[j]`` (the lane it used) and, per bay vehicle, ``entry[i]`` (s)
* ``last_dep[k]`` last stop-line passage of lane k + 1 (s)
* ``log_t[:n]``, ``log_s[:n]`` lane 1's state as a step function (``n = ai[N_LOG]``)
* ``ai[BAY_IN_ONE]`` bay vehicles standing in lane 1

A lane-1 scan stops at the first bay vehicle or as soon as the queue ahead passes the
opening (lengths are positive, so a longer prefix can only stay past it): the same
answers as the reference's full scan, from the same floating-point sums.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.fast.events import THROUGH, fire, on_admit
from uturn_sim.fast.lane import LENGTH, SPILLED, admit, has_room
from uturn_sim.fast.lookups import green_next
from uturn_sim.fast.rules import AVOID, OPENING, THROUGH_H, THROUGH_LANES
from uturn_sim.model.approach import ENTRANCE_BLOCKED, FREE, SPILLBACK

__all__ = [
    "BAY_IN_ONE",
    "FIRST_ALONE",
    "N_ALONE",
    "N_LOG",
    "arrive",
    "depart_head",
    "merged_arrivals",
    "plan_head",
    "serve_alone_lanes",
    "try_enter",
]

#: counters in ``ai``: lane 1's log length, bay vehicles in lane 1, the first lane
#: (0-based) served alone, the through vehicles that joined such lanes
N_LOG, BAY_IN_ONE, FIRST_ALONE, N_ALONE = 0, 1, 2, 3
_TOL = 1e-9  # m, as the reference's: a queue exactly reaching the opening does not block it


@njit(cache=True)
def _is_sorted(x):  # pragma: no cover - compiled
    for k in range(1, x.size):
        if x[k] < x[k - 1]:
            return False
    return True


@njit(cache=True)
def merged_arrivals(t, tt):  # pragma: no cover - compiled
    """``approach_arrivals``: times (s) and codes of every arrival, stable time order.

    Code ``-(i + 1)`` is bay vehicle ``i`` (times ``t``), ``j >= 0`` through vehicle
    ``j`` (times ``tt``); at equal times bay vehicles come first (a stable sort of the
    bay's times, then the through times).
    """
    n, m = t.size, tt.size
    at = np.empty(n + m)
    code = np.empty(n + m, dtype=np.int64)
    if _is_sorted(t) and _is_sorted(tt):  # a merge is the stable sort of the two
        i = j = 0
        for q in range(n + m):
            if j >= m or (i < n and t[i] <= tt[j]):
                at[q] = t[i]
                code[q] = -(i + 1)
                i += 1
            else:
                at[q] = tt[j]
                code[q] = j
                j += 1
        return at, code
    both = np.concatenate((t, tt))
    order = np.argsort(both, kind="mergesort")
    for q in range(n + m):
        k = order[q]
        at[q] = both[k]
        code[q] = -(k + 1) if k < n else k - n
    return at, code


@njit(cache=True, inline="always")
def _first_bay(s):  # pragma: no cover - compiled
    """Lane 1's first bay vehicle if the through queue ahead is within the opening.

    Returns its file index (-1: none within) and whether the queue ahead of it (or the
    whole lane, without one) reaches past the opening.
    """
    lim = s.R[OPENING] + _TOL
    h = s.fh[0]
    d = 0.0
    k, blocked = -1, False
    for q in range(s.fn[0]):
        c = s.files[0, h + q]
        if c < 0:
            k = q
            break
        d += s.tlen[c]
        if d > lim:
            blocked = True
            break
    return k, blocked


@njit(cache=True, inline="always")
def _queue_m(s, k):  # pragma: no cover - compiled
    """``ThroughLanes._queue_m``: queue space of lane ``k + 1``, m (summed front first)."""
    h = s.fh[k]
    d = 0.0
    for q in range(s.fn[k]):
        c = s.files[k, h + q]
        d += s.tlen[c] if c >= 0 else s.vf[LENGTH, -c - 1]
    return d


@njit(cache=True, inline="always")
def _log(s, now, k, blocked):  # pragma: no cover - compiled
    """``ThroughLanes._log``: lane 1's state after a change at ``now`` (s).

    ``k, blocked`` is :func:`_first_bay` of lane 1 as it stands now.
    """
    state = SPILLBACK if k >= 0 else (ENTRANCE_BLOCKED if blocked else FREE)
    n = s.ai[N_LOG]
    if state != s.log_s[n - 1]:
        if s.log_t[n - 1] == now:  # changed back and forth at one instant
            s.log_s[n - 1] = state
            if n > 1 and s.log_s[n - 2] == state:
                s.ai[N_LOG] = n - 1
        else:
            s.log_t[n] = now
            s.log_s[n] = state
            s.ai[N_LOG] = n + 1


@njit(cache=True, inline="always")
def try_enter(s, now):  # pragma: no cover - compiled
    """``ThroughLanes.try_enter``: lane 1's bay vehicles that can turn in do so at ``now``."""
    while True:
        k, blocked = _first_bay(s)
        if k < 0:
            break
        h = s.fh[0]
        i = -s.files[0, h + k] - 1
        if not has_room(s, i):
            s.ri[SPILLED, i] = 1  # waits at the opening for room: lane 1 is blocked
            break
        for q in range(k, 0, -1):
            s.files[0, h + q] = s.files[0, h + q - 1]
        s.fh[0] += 1
        s.fn[0] -= 1
        s.ai[BAY_IN_ONE] -= 1
        s.entry[i] = now
        on_admit(s, admit(s, i, now), now)
        if k == 0 and s.fn[0] > 0 and s.files[0, s.fh[0]] >= 0:
            fire(s, THROUGH, now)
    _log(s, now, k, blocked)  # the last scan is lane 1 as it stands


@njit(cache=True, inline="always")
def arrive(s, code, now):  # pragma: no cover - compiled
    """``ThroughLanes.arrive``: vehicle ``code`` joins the back of its lane at ``now`` (s).

    A through driver bound for lane 1 takes lane 2 when a bay vehicle stands in lane 1
    and lane 2's queue is shorter (``avoid_blocked_lane``, with two lanes or more).
    """
    k = 0
    if code >= 0:
        k = int(s.tlane[code]) - 1
        if k >= s.ai[FIRST_ALONE]:  # served after the run (serve_alone_lanes)
            s.alone[s.ai[N_ALONE]] = code
            s.alone_t[code] = now
            s.ai[N_ALONE] += 1
            return
        if (
            k == 0
            and s.R[AVOID] != 0.0
            and s.R[THROUGH_LANES] > 1
            and s.ai[BAY_IN_ONE] > 0
            and _queue_m(s, 1) < _queue_m(s, 0)
        ):
            k = 1
            s.tlane[code] = 2
    else:
        s.ai[BAY_IN_ONE] += 1
    s.files[k, s.fh[k] + s.fn[k]] = code
    s.fn[k] += 1
    if s.fn[k] == 1 and code >= 0:
        fire(s, THROUGH + k, now)
    if k == 0:
        try_enter(s, now)


@njit(cache=True, inline="always")
def plan_head(s, k, now):  # pragma: no cover - compiled
    """``ThroughLanes.plan_head``: stop-line passage (s) of lane ``k + 1``'s head."""
    x = s.last_dep[k] + s.R[THROUGH_H]
    return green_next(s.tg_s, s.tg_e, x if x > now else now)


@njit(cache=True, inline="always")
def depart_head(s, k, now):  # pragma: no cover - compiled
    """``ThroughLanes.depart_head``: lane ``k + 1``'s head passes the stop line at ``now``."""
    j = s.files[k, s.fh[k]]
    s.fh[k] += 1
    s.fn[k] -= 1
    s.tdep[j] = now
    s.last_dep[k] = now
    if k == 0:
        try_enter(s, now)


@njit(cache=True)
def serve_alone_lanes(s, end_s):  # pragma: no cover - compiled
    """Stop-line passages (s) of the lanes no bay vehicle or lane change touches.

    Lanes ``ai[FIRST_ALONE] + 1`` and beyond (lane 3 on, and lane 2 without
    ``avoid_blocked_lane``) interact with nothing: their servers' events decide only
    their own passages and, in SimPy's order, change no other process's (removing a
    process's events keeps the order of everyone else's).  Each is the reference's
    ``engine._through_server`` replayed from its vehicles' arrival instants
    (``alone_t``, the arrivals process's event times, in the order it took them):
    the server plans the head at ``now``, the later of its arrival and the previous
    passage, passes at ``now + (tp - now)`` and stops at the first passage not
    before ``end_s`` (s) or the first head with no green left.
    """
    first = s.ai[FIRST_ALONE]
    for k in range(first, int(s.R[THROUGH_LANES])):
        last = -np.inf
        for q in range(s.ai[N_ALONE]):
            j = s.alone[q]
            if int(s.tlane[j]) - 1 != k:
                continue
            now = s.alone_t[j] if s.alone_t[j] > last else last
            x = last + s.R[THROUGH_H]
            tp = green_next(s.tg_s, s.tg_e, x if x > now else now)
            if np.isinf(tp):
                break
            if tp > now:
                tp = now + (tp - now)
                if not tp < end_s:
                    break
            else:
                tp = now
            s.tdep[j] = tp
            last = tp
