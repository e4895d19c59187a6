# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""Compiled lane state and decisions, mirroring :mod:`uturn_sim.model.lane` and the schemes.

The state of one run lives in a few arrays (no Python objects per vehicle):

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
def green_start(ug_s, ug_e, p, t, window, lead):  # pragma: no cover
    """``LaneState._green_start``: earliest start >= ``t`` (s) in a clear U-turn green.

    The conflict-area window (``window`` s, from ``lead`` s before the start) is clear.
    """
    for _ in range(10_000):
        g = green_next(ug_s, ug_e, t)
        if not np.isfinite(g):
            return np.inf
        s = gap_next_start(p, g, window, -np.inf, 0.0, False, lead)
        if s == g or (np.isfinite(s) and green_next(ug_s, ug_e, s) == s):
            return s
        if not np.isfinite(s):
            return np.inf
        t = s
    return np.inf


@njit(cache=True, inline="always")
def plan_uturn(R, vf, v, now, last, p, ug_s, ug_e):  # pragma: no cover - compiled
    """``LaneState.plan_uturn``: (start s, how) of U-turner ``v`` after U-turn ``last``."""
    ready = vf[READY, v]
    start = ready if ready > now else now
    best, how = np.inf, 0
    when = int(R[WHEN])
    m = R[MIN_PET]
    clear = R[CLEAR] + m
    lo = 0.0
    if m > 0:
        x = R[ENTRY] - m
        lo = x if x < 0.0 else 0.0
    if when != WHEN_ANY_GAP:
        x = last + R[GREEN_H]
        best = green_start(ug_s, ug_e, p, x if x > start else start, clear - lo, -lo)
        how = GREEN
    if when != WHEN_LEFT_GREEN:
        hi = vf[TC, v]
        if clear > hi:
            hi = clear
        x = last + R[GAP_H]
        s = gap_next_start(
            p,
            x if x > start else start,
            hi - lo,
            vf[SETTLE, v],
            R[REACTION],
            R[STRICT] != 0.0,
            -lo,
        )
        if s < best:
            best, how = s, GAP
    return best, how


@njit(cache=True, inline="always")
def plan_head(R, vf, vi, lane, ls, lf, now, p, ug_s, ug_e, lg_s, lg_e):  # pragma: no cover
    """``StopLineLane.plan_head``: (start s, how) of the vehicle at the stop line."""
    v = lane[ls[0]]
    if vi[UTURN, v] == 0:
        ready = now
        if vf[READY, v] > ready:
            ready = vf[READY, v]
        x = lf[LAST_HEAD_DEP] + R[LEFT_H]
        if x > ready:
            ready = x
        return green_next(lg_s, lg_e, ready), GREEN
    return plan_uturn(R, vf, v, now, lf[LAST_HEAD_DEP], p, ug_s, ug_e)


@njit(cache=True, inline="always")
def admit(R, vf, vi, lane, ls, lf, rf, ri, i, now):  # pragma: no cover - compiled
    """``LaneState.admit``: vehicle ``i`` joins the back at ``now`` (s); its position."""
    linked = R[LINKED] != 0.0
    length = vf[LENGTH, i]
    vf[READY, i] = now
    vf[SETTLE, i] = now
    vf[MOVE_START, i] = -np.inf
    vf[X_FROM, i] = 0.0
    vi[LEG_OPEN, i] = 0
    pos = ls[1]
    if linked and ls[1] > 0:  # SlotLane.back_place: right behind the last car
        last = lane[ls[0] + ls[1] - 1]
        if vi[SEEN, last] == int(lf[ROLLS]):
            pos = vi[POS, last] + 1
        else:
            pos = last - int(lf[CUT_DEP]) + 1
    vi[POS, i] = pos
    vi[SEEN, i] = int(lf[ROLLS])
    ri[SPILLED, i] = 1 if lf[LANE_M] + length > R[STORAGE] + 1e-9 else 0
    lf[LANE_M] += length
    lane[ls[0] + ls[1]] = i
    ls[1] += 1
    uturn = vi[UTURN, i] != 0
    if pos == 0 or (linked and uturn and pos < R[SLOTS]):
        rf[REACHED, i] = now
        if linked and uturn:
            ri[FIRST_SLOT, i] = pos + 1
    return pos


@njit(cache=True, inline="always")
def end_leg(R, vf, vi, rf, ri, v):  # pragma: no cover - compiled
    """``LaneState.end_leg``: close ``v``'s move-up (first stop at a service place)."""
    if vi[LEG_OPEN, v] == 0:
        return
    vi[LEG_OPEN, v] = 0
    linked = R[LINKED] != 0.0
    pos = vi[POS, v]
    uturn = vi[UTURN, v] != 0
    at_service = pos == 0 or (linked and uturn and pos < R[SLOTS])
    if at_service and np.isnan(rf[REACHED, v]):
        rf[REACHED, v] = vf[READY, v]
        if linked and uturn:
            ri[FIRST_SLOT, v] = pos + 1


@njit(cache=True, inline="always")
def remove(R, vf, vi, lane, ls, lf, rf, ri, k, now, how):  # pragma: no cover - compiled
    """``LaneState.remove``: file index ``k`` starts its turn at ``now`` (s); the vehicle."""
    lh = ls[0]
    v = lane[lh + k]
    end_leg(R, vf, vi, rf, ri, v)
    for q in range(k, 0, -1):
        lane[lh + q] = lane[lh + q - 1]
    ls[0] += 1
    ls[1] -= 1
    lf[N_DEP] += 1
    lf[LANE_M] -= vf[LENGTH, v]
    rf[DEPARTURE, v] = now
    ri[SERVED_BY, v] = how
    uturn = vi[UTURN, v] != 0
    if R[LINKED] != 0.0 and uturn and vi[POS, v] < R[SLOTS]:
        ri[SLOT, v] = vi[POS, v] + 1
    if k == 0:
        lf[LAST_HEAD_DEP] = now
    if uturn:
        lf[LAST_UTURN_START] = now
    return v


@njit(cache=True, inline="always")
def depart_stop_line(R, vf, vi, lane, ls, lf, rf, ri, now, how):  # pragma: no cover
    """``StopLineLane.depart``: the head leaves; the next car reaches the stop line."""
    remove(R, vf, vi, lane, ls, lf, rf, ri, 0, now, how)
    if ls[1] > 0:
        head = lane[ls[0]]
        vi[POS, head] = 0
        if np.isnan(rf[REACHED, head]):
            rf[REACHED, head] = now


@njit(cache=True, inline="always")
def place_x(R, pos):  # pragma: no cover - compiled
    """``SlotLane.place_x``: distance of place ``pos`` from the stop line, m."""
    slots = int(R[SLOTS])
    if pos < slots:
        return pos * R[SLOT_LEN]
    return slots * R[SLOT_LEN] + (pos - slots) * R[CAR_LEN]


@njit(cache=True, inline="always")
def slot_candidate(R, vi, lane, ls):  # pragma: no cover - compiled
    """``SlotLane.slot_candidate``: file index of the front-most usable slot U-turner, or -1."""
    slots = int(R[SLOTS])
    lh = ls[0]
    for k in range(ls[1]):
        v = lane[lh + k]
        if vi[POS, v] >= slots:
            return -1
        if vi[UTURN, v] != 0:
            return k if vi[POS, v] < vi[MAX_SLOT, v] else -1
    return -1


@njit(cache=True, inline="always")
def goes_at_lag(R, vf, vi, lf, f, now, p, ug_s, ug_e):  # pragma: no cover - compiled
    """``SlotLane._goes_at_lag``: standing slot U-turner ``f`` starts within the lag."""
    if vf[READY, f] > now or vi[POS, f] >= R[SLOTS] or vi[POS, f] >= vi[MAX_SLOT, f]:
        return False
    t, how = plan_uturn(R, vf, f, now, lf[LAST_UTURN_START], p, ug_s, ug_e)
    return how == GAP and t <= now + R[GAP_H] + 1e-9


@njit(cache=True, inline="always")
def depart_slot(R, vf, vi, lane, ls, lf, rf, ri, k, now, how, p, ug_s, ug_e):  # pragma: no cover
    """``SlotLane.depart``: file index ``k`` leaves at ``now`` (s); the file compacts."""
    gone = remove(R, vf, vi, lane, ls, lf, rf, ri, k, now, how)
    slots = int(R[SLOTS])
    flowing = how == GREEN
    prev = now
    hold = R[HOLD] if (vi[UTURN, gone] != 0 and vi[POS, gone] < slots) else 0.0
    free_at = now + hold
    uturn_ahead = False
    lh = ls[0]
    limit = slots + MOVE_UP_LOOKAHEAD
    rolls = int(lf[ROLLS])
    cut = False
    for j in range(k, ls[1]):
        if j >= limit:
            cut = True
            break
        f = lane[lh + j]
        if vi[SEEN, f] != rolls:
            vi[POS, f] = f - int(lf[CUT_DEP])
            vi[SEEN, f] = rolls
        if vi[POS, f] == j:
            break
        fu = vi[UTURN, f] != 0
        if (
            fu
            and not uturn_ahead
            and not flowing
            and goes_at_lag(R, vf, vi, lf, f, now, p, ug_s, ug_e)
        ):
            break
        uturn_ahead = uturn_ahead or fu
        if flowing:
            end_leg(R, vf, vi, rf, ri, f)
            vf[MOVE_START, f] = now
            vi[POS, f] = j
            if now > vf[READY, f]:
                vf[READY, f] = now
        else:
            if vf[READY, f] > now and vi[LEG_OPEN, f] != 0:
                start, x0 = vf[MOVE_START, f], vf[X_FROM, f]
            else:
                end_leg(R, vf, vi, rf, ri, f)
                x = prev + R[REACTION]
                start = x if x > vf[READY, f] else vf[READY, f]
                x0 = place_x(R, vi[POS, f])
                vf[MOVE_START, f] = start
                vf[X_FROM, f] = x0
            arrive = start + move_time(x0 - place_x(R, j), R[ACCEL], R[DECEL], R[CREEP])
            if j == k and free_at > arrive:
                arrive = free_at
            vi[POS, f] = j
            vf[READY, f] = arrive
            vf[SETTLE, f] = arrive
            prev = start
        vi[LEG_OPEN, f] = 1
    if cut:  # the cars behind the look-ahead roll up to their file index
        lf[ROLLS] = rolls + 1
        lf[CUT_DEP] = lf[N_DEP]
        for j in range(limit):
            vi[SEEN, lane[lh + j]] = rolls + 1


@njit(cache=True, inline="always")
def init_vehicles(R, uturn, heavy, tc, vf, vi):  # pragma: no cover - compiled
    """Fill the fixed per-vehicle values (length, critical gap, movement, slot limit)."""
    for i in range(uturn.size):
        vf[LENGTH, i] = R[HEAVY_LEN] if heavy[i] else R[CAR_LEN]
        vf[TC, i] = tc[i]
        vi[UTURN, i] = 1 if uturn[i] else 0
        vi[MAX_SLOT, i] = int(R[HEAVY_SLOTS]) if heavy[i] else int(R[SLOTS])
