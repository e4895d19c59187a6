# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled lane state and decisions, mirroring :mod:`uturn_sim.model.lane` and the schemes.

The state of one run lives in arrays of its :class:`~uturn_sim.fast.state.Run` ``s``
(no Python objects per vehicle):

* ``vf[k, i]`` floats of vehicle ``i``: ``READY, SETTLE, MOVE_START, X_FROM, LENGTH, TC``
* ``vi[k, i]`` integers: ``POS, MAX_SLOT, UTURN, LEG_OPEN, SEEN``
* ``lane[lh : lh + ln]`` the file, front first (``ls = [lh, ln]``)
* ``lf`` lane floats: ``LANE_M, LAST_HEAD_DEP, LAST_UTURN_START, ROLLS, CUT_DEP, N_DEP``
* records: ``rf[k, i]`` (``DEPARTURE, REACHED``), ``ri[k, i]`` (``SLOT, FIRST_SLOT,
  SERVED_BY, SPILLED``)
* ``R`` the packed :class:`~uturn_sim.model.lane.LaneRules` (see :mod:`uturn_sim.fast.rules`)

Stop-line family: :func:`plan_head`, :func:`depart_stop_line`.  Slot family:
:func:`slot_candidate`, :func:`depart_slot` (removal plus kinematic compaction).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.fast.lookups import gap_next_start, green_next, move_time
from uturn_sim.fast.rules import (
    ACCEL,
    CAR_LEN,
    CLEAR,
    CREEP,
    DECEL,
    ENTRY,
    GAP_H,
    GREEN_H,
    HEAVY_LEN,
    HEAVY_SLOTS,
    HOLD,
    LEFT_H,
    LINKED,
    MIN_PET,
    REACTION,
    SLOT_LEN,
    SLOTS,
    STORAGE,
    STRICT,
    WHEN,
    WHEN_ANY_GAP,
    WHEN_LEFT_GREEN,
)
from uturn_sim.model.schemes.linked import MOVE_UP_LOOKAHEAD

READY, SETTLE, MOVE_START, X_FROM, LENGTH, TC = 0, 1, 2, 3, 4, 5
POS, MAX_SLOT, UTURN, LEG_OPEN, SEEN = 0, 1, 2, 3, 4
LANE_M, LAST_HEAD_DEP, LAST_UTURN_START, ROLLS, CUT_DEP, N_DEP = 0, 1, 2, 3, 4, 5
DEPARTURE, REACHED = 0, 1
SLOT, FIRST_SLOT, SERVED_BY, SPILLED = 0, 1, 2, 3
GREEN, GAP = 1, 2


@njit(cache=True, inline="always")
def green_start(s, t, window, lead):  # pragma: no cover - compiled
    """``LaneState._green_start``: earliest start >= ``t`` (s) in a clear U-turn green.

    The conflict-area window (``window`` s, from ``lead`` s before the start) is clear.
    """
    out = np.inf
    for _ in range(10_000):
        g = green_next(s.ug_s, s.ug_e, t)
        if not np.isfinite(g):
            break
        c = gap_next_start(s.p, g, window, -np.inf, 0.0, False, lead)
        if c == g or (np.isfinite(c) and green_next(s.ug_s, s.ug_e, c) == c):
            out = c
            break
        if not np.isfinite(c):
            break
        t = c
    return out


@njit(cache=True, inline="always")
def plan_uturn(s, v, now, last):  # pragma: no cover - compiled
    """``LaneState.plan_uturn``: (start s, how) of U-turner ``v`` after U-turn ``last``.

    The plan depends only on ``v``, ``now``, ``last`` and ``v``'s ready and settle
    times (the rest is fixed for the run), so the last one is kept in ``s.pc`` and
    returned again for the same five: the slot server plans the U-turner that the
    move-up just planned (``goes_at_lag``) at the same instant.
    """
    c = s.pc
    if (
        c[0] == v
        and c[1] == now
        and c[2] == last
        and c[3] == s.vf[READY, v]
        and c[4] == s.vf[SETTLE, v]
    ):
        return c[5], int(c[6])
    best, how = _plan_uturn(s, v, now, last)
    c[0], c[1], c[2], c[3], c[4] = v, now, last, s.vf[READY, v], s.vf[SETTLE, v]
    c[5], c[6] = best, how
    return best, how


@njit(cache=True, inline="always")
def _plan_uturn(s, v, now, last):  # pragma: no cover - compiled
    ready = s.vf[READY, v]
    start = ready if ready > now else now
    best, how = np.inf, 0
    when = int(s.R[WHEN])
    m = s.R[MIN_PET]
    clear = s.R[CLEAR] + m
    lo = 0.0
    if m > 0:
        x = s.R[ENTRY] - m
        lo = x if x < 0.0 else 0.0
    if when != WHEN_ANY_GAP:
        x = last + s.R[GREEN_H]
        best = green_start(s, x if x > start else start, clear - lo, -lo)
        how = GREEN
    if when != WHEN_LEFT_GREEN:
        hi = s.vf[TC, v]
        if clear > hi:
            hi = clear
        x = last + s.R[GAP_H]
        g = gap_next_start(
            s.p,
            x if x > start else start,
            hi - lo,
            s.vf[SETTLE, v],
            s.R[REACTION],
            s.R[STRICT] != 0.0,
            -lo,
        )
        if g < best:
            best, how = g, GAP
    return best, how


@njit(cache=True, inline="always")
def plan_head(s, now):  # pragma: no cover - compiled
    """``StopLineLane.plan_head``: (start s, how) of the vehicle at the stop line."""
    v = s.lane[s.ls[0]]
    if s.vi[UTURN, v] == 0:
        ready = now
        if s.vf[READY, v] > ready:
            ready = s.vf[READY, v]
        x = s.lf[LAST_HEAD_DEP] + s.R[LEFT_H]
        if x > ready:
            ready = x
        start, how = green_next(s.lg_s, s.lg_e, ready), GREEN
    else:
        start, how = plan_uturn(s, v, now, s.lf[LAST_HEAD_DEP])
    return start, how


@njit(cache=True, inline="always")
def back_place(s):  # pragma: no cover - compiled
    """``back_place``: the place a vehicle joining the back of the file stops at.

    The slot lane: right behind the last car (``SlotLane.place_of``: its place, or its
    file index if it rolled up while far back).
    """
    pos = s.ls[1]
    if s.R[LINKED] != 0.0 and s.ls[1] > 0:
        last = s.lane[s.ls[0] + s.ls[1] - 1]
        if s.vi[SEEN, last] == int(s.lf[ROLLS]):
            pos = s.vi[POS, last] + 1
        else:
            pos = last - int(s.lf[CUT_DEP]) + 1
    return pos


@njit(cache=True, inline="always")
def has_room(s, i):  # pragma: no cover - compiled
    """``has_room``: vehicle ``i`` joining the back stays within ``storage_m``.

    The file's queue space plus its own, and in the slot lane the back place's distance
    plus its own too; an empty lane always takes it.
    """
    room = True
    if s.ls[1] > 0:
        length = s.vf[LENGTH, i]
        limit = s.R[STORAGE] + 1e-9
        room = s.lf[LANE_M] + length <= limit
        if room and s.R[LINKED] != 0.0:
            room = place_x(s, back_place(s)) + length <= limit
    return room


@njit(cache=True, inline="always")
def admit(s, i, now):  # pragma: no cover - compiled
    """``LaneState.admit``: vehicle ``i`` joins the back at ``now`` (s); its position."""
    linked = s.R[LINKED] != 0.0
    length = s.vf[LENGTH, i]
    s.vf[READY, i] = now
    s.vf[SETTLE, i] = now
    s.vf[MOVE_START, i] = -np.inf
    s.vf[X_FROM, i] = 0.0
    s.vi[LEG_OPEN, i] = 0
    pos = back_place(s)
    s.vi[POS, i] = pos
    s.vi[SEEN, i] = int(s.lf[ROLLS])
    if s.lf[LANE_M] + length > s.R[STORAGE] + 1e-9:  # or it waited at the opening
        s.ri[SPILLED, i] = 1
    s.lf[LANE_M] += length
    s.lane[s.ls[0] + s.ls[1]] = i
    s.ls[1] += 1
    uturn = s.vi[UTURN, i] != 0
    if pos == 0 or (linked and uturn and pos < s.R[SLOTS]):
        s.rf[REACHED, i] = now
        if linked and uturn:
            s.ri[FIRST_SLOT, i] = pos + 1
    return pos


@njit(cache=True, inline="always")
def end_leg(s, v):  # pragma: no cover - compiled
    """``LaneState.end_leg``: close ``v``'s move-up (first stop at a service place)."""
    if s.vi[LEG_OPEN, v] != 0:
        s.vi[LEG_OPEN, v] = 0
        linked = s.R[LINKED] != 0.0
        pos = s.vi[POS, v]
        uturn = s.vi[UTURN, v] != 0
        at_service = pos == 0 or (linked and uturn and pos < s.R[SLOTS])
        if at_service and np.isnan(s.rf[REACHED, v]):
            s.rf[REACHED, v] = s.vf[READY, v]
            if linked and uturn:
                s.ri[FIRST_SLOT, v] = pos + 1


@njit(cache=True, inline="always")
def remove(s, k, now, how):  # pragma: no cover - compiled
    """``LaneState.remove``: file index ``k`` starts its turn at ``now`` (s); the vehicle."""
    lh = s.ls[0]
    v = s.lane[lh + k]
    end_leg(s, v)
    for q in range(k, 0, -1):
        s.lane[lh + q] = s.lane[lh + q - 1]
    s.ls[0] += 1
    s.ls[1] -= 1
    s.lf[N_DEP] += 1
    s.lf[LANE_M] -= s.vf[LENGTH, v]
    s.rf[DEPARTURE, v] = now
    s.ri[SERVED_BY, v] = how
    uturn = s.vi[UTURN, v] != 0
    if s.R[LINKED] != 0.0 and uturn and s.vi[POS, v] < s.R[SLOTS]:
        s.ri[SLOT, v] = s.vi[POS, v] + 1
    if k == 0:
        s.lf[LAST_HEAD_DEP] = now
    if uturn:
        s.lf[LAST_UTURN_START] = now
    return v


@njit(cache=True, inline="always")
def depart_stop_line(s, now, how):  # pragma: no cover - compiled
    """``StopLineLane.depart``: the head leaves; the next car reaches the stop line."""
    remove(s, 0, now, how)
    if s.ls[1] > 0:
        head = s.lane[s.ls[0]]
        s.vi[POS, head] = 0
        if np.isnan(s.rf[REACHED, head]):
            s.rf[REACHED, head] = now


@njit(cache=True, inline="always")
def place_x(s, pos):  # pragma: no cover - compiled
    """``SlotLane.place_x``: distance of place ``pos`` from the stop line, m."""
    slots = int(s.R[SLOTS])
    if pos < slots:
        x = pos * s.R[SLOT_LEN]
    else:
        x = slots * s.R[SLOT_LEN] + (pos - slots) * s.R[CAR_LEN]
    return x


@njit(cache=True, inline="always")
def slot_candidate(s):  # pragma: no cover - compiled
    """``SlotLane.slot_candidate``: file index of the front-most usable slot U-turner, or -1."""
    slots = int(s.R[SLOTS])
    lh = s.ls[0]
    found = -1
    for k in range(s.ls[1]):
        v = s.lane[lh + k]
        if s.vi[POS, v] >= slots:
            break
        if s.vi[UTURN, v] != 0:
            if s.vi[POS, v] < s.vi[MAX_SLOT, v]:
                found = k
            break
    return found


@njit(cache=True, inline="always")
def goes_at_lag(s, f, now):  # pragma: no cover - compiled
    """``SlotLane._goes_at_lag``: standing slot U-turner ``f`` starts within the lag."""
    goes = False
    if not (
        s.vf[READY, f] > now or s.vi[POS, f] >= s.R[SLOTS] or s.vi[POS, f] >= s.vi[MAX_SLOT, f]
    ):
        t, how = plan_uturn(s, f, now, s.lf[LAST_UTURN_START])
        goes = how == GAP and t <= now + s.R[GAP_H] + 1e-9
    return goes


@njit(cache=True, inline="always")
def depart_slot(s, k, now, how):  # pragma: no cover - compiled
    """``SlotLane.depart``: file index ``k`` leaves at ``now`` (s); the file compacts."""
    gone = remove(s, k, now, how)
    slots = int(s.R[SLOTS])
    flowing = how == GREEN
    prev = now
    held = s.R[HOLD] if (s.vi[UTURN, gone] != 0 and s.vi[POS, gone] < slots) else 0.0
    free_at = now + held
    uturn_ahead = False
    lh = s.ls[0]
    limit = slots + MOVE_UP_LOOKAHEAD
    rolls = int(s.lf[ROLLS])
    cut = False
    for j in range(k, s.ls[1]):
        if j >= limit:
            cut = True
            break
        f = s.lane[lh + j]
        if s.vi[SEEN, f] != rolls:
            s.vi[POS, f] = f - int(s.lf[CUT_DEP])
            s.vi[SEEN, f] = rolls
        if s.vi[POS, f] == j:
            break
        fu = s.vi[UTURN, f] != 0
        if fu and not uturn_ahead and not flowing and goes_at_lag(s, f, now):
            break
        uturn_ahead = uturn_ahead or fu
        if flowing:
            end_leg(s, f)
            s.vf[MOVE_START, f] = now
            s.vi[POS, f] = j
            if now > s.vf[READY, f]:
                s.vf[READY, f] = now
        else:
            if s.vf[READY, f] > now and s.vi[LEG_OPEN, f] != 0:
                start, x0 = s.vf[MOVE_START, f], s.vf[X_FROM, f]
            else:
                end_leg(s, f)
                x = prev + s.R[REACTION]
                start = x if x > s.vf[READY, f] else s.vf[READY, f]
                x0 = place_x(s, s.vi[POS, f])
                s.vf[MOVE_START, f] = start
                s.vf[X_FROM, f] = x0
            arrive = start + move_time(x0 - place_x(s, j), s.R[ACCEL], s.R[DECEL], s.R[CREEP])
            if j == k and free_at > arrive:
                arrive = free_at
            s.vi[POS, f] = j
            s.vf[READY, f] = arrive
            s.vf[SETTLE, f] = arrive
            prev = start
        s.vi[LEG_OPEN, f] = 1
    if cut:  # the cars behind the look-ahead roll up to their file index
        s.lf[ROLLS] = rolls + 1
        s.lf[CUT_DEP] = s.lf[N_DEP]
        for j in range(limit):
            s.vi[SEEN, s.lane[lh + j]] = rolls + 1


@njit(cache=True, inline="always")
def init_vehicles(s, uturn, heavy, tc):  # pragma: no cover - compiled
    """Fill the fixed per-vehicle values (length, critical gap, movement, slot limit)."""
    for i in range(uturn.size):
        s.vf[LENGTH, i] = s.R[HEAVY_LEN] if heavy[i] else s.R[CAR_LEN]
        s.vf[TC, i] = tc[i]
        s.vi[UTURN, i] = 1 if uturn[i] else 0
        s.vi[MAX_SLOT, i] = int(s.R[HEAVY_SLOTS]) if heavy[i] else int(s.R[SLOTS])
