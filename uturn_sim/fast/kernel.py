# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""The compiled event loop: SimPy's event order for the lane's three processes.

:func:`uturn_sim.model.engine.run_lane` runs three SimPy processes: arrivals, the
stop line and (slot lane only) the slot server.  Each waits on one event at a time:
a timeout or a re-armable wake-up (:class:`uturn_sim.model.engine.Wake`).  SimPy
processes events in ``(time, priority, id)`` order; the three processes start with
urgent priority at t = 0 in that order, everything after is a normal-priority event
taking the next id when scheduled, and the run stops before any normal event at
``end_s``.  This loop keeps the same three pending slots and the same id counter,
so ties at equal times resolve as in SimPy.  A timeout of ``t - now`` fires at
``now + (t - now)``, as SimPy computes it.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from uturn_sim.fast.lane import (
    LAST_UTURN_START,
    READY,
    UTURN,
    admit,
    depart_slot,
    depart_stop_line,
    end_leg,
    init_vehicles,
    plan_head,
    plan_uturn,
    slot_candidate,
)
from uturn_sim.fast.rules import LINKED, SLOTS

__all__ = ["run_batch", "run_one"]

#: pending event of each process: time (s), id, scheduled, a timeout (else a wake-up);
#: ``waiting``: armed wake-up (stop line: head, slot server: slots)
_Events = namedtuple("_Events", "time eid active timeout waiting")

_A, _S, _L = 0, 1, 2  # arrivals, stop line, slot server
_EID, _AI, _S_HOW, _L_HOW, _L_PLANNED = 0, 1, 2, 3, 4  # process scalars in ``ps``


@njit(cache=True, inline="always")
def _schedule(ev, q, at, timeout, ps):  # pragma: no cover - compiled
    """Process ``q`` resumes at ``at`` (s): a timeout, or a fired wake-up (next id)."""
    ev.time[q] = at
    ev.eid[q] = ps[_EID]
    ev.active[q] = True
    ev.timeout[q] = timeout
    ps[_EID] += 1


@njit(cache=True, inline="always")
def _fire(ev, q, now, ps):  # pragma: no cover - compiled
    """``Wake.fire``: wake process ``q`` if it waits on its wake-up."""
    if ev.waiting[q]:
        ev.waiting[q] = False
        _schedule(ev, q, now, False, ps)


@njit(cache=True, inline="always")
def _admit_next(R, vf, vi, lane, ls, lf, rf, ri, ev, ps, now, linked):  # pragma: no cover
    """Admit the next vehicle at ``now`` (s) and ``on_admit``: wake the servers."""
    pos = admit(R, vf, vi, lane, ls, lf, rf, ri, ps[_AI], now)
    ps[_AI] += 1
    if pos == 0:
        _fire(ev, _S, now, ps)
    if linked and pos < R[SLOTS]:
        _fire(ev, _L, now, ps)


@njit(cache=True, inline="always")
def _resume(
    proc, from_timeout, now, R, t, p, ug_s, ug_e, lg_s, lg_e, vf, vi, lane, ls, lf, rf, ri, ev, ps
):  # pragma: no cover - compiled
    """Run process ``proc`` from its current wait until its next wait."""
    linked = R[LINKED] != 0.0
    if proc == _A:  # engine._arrivals
        if from_timeout:
            _admit_next(R, vf, vi, lane, ls, lf, rf, ri, ev, ps, now, linked)
        while ps[_AI] < t.size:
            ta = t[ps[_AI]]
            if ta > now:
                _schedule(ev, _A, now + (ta - now), True, ps)
                return
            _admit_next(R, vf, vi, lane, ls, lf, rf, ri, ev, ps, now, linked)
        return
    if proc == _S:  # schemes.ordinary.stop_line
        go, how = from_timeout, ps[_S_HOW]
        while True:
            if go:
                if linked:
                    depart_slot(R, vf, vi, lane, ls, lf, rf, ri, 0, now, how, p, ug_s, ug_e)
                    _fire(ev, _L, now, ps)
                else:
                    depart_stop_line(R, vf, vi, lane, ls, lf, rf, ri, now, how)
            if ls[1] == 0 or (linked and vi[UTURN, lane[ls[0]]] != 0):
                ev.waiting[_S] = True
                return
            ts, how = plan_head(R, vf, vi, lane, ls, lf, now, p, ug_s, ug_e, lg_s, lg_e)
            if np.isinf(ts):
                ev.waiting[_S] = True
                return
            if ts > now:
                ps[_S_HOW] = how
                _schedule(ev, _S, now + (ts - now), True, ps)
                return
            go = True
    # schemes.linked.slot_server
    go, how, k = from_timeout, ps[_L_HOW], -1
    if go:  # lane.index(planned): left-turners ahead may have gone meanwhile
        for q in range(ls[1]):
            if lane[ls[0] + q] == ps[_L_PLANNED]:
                k = q
                break
    while True:
        if go:
            depart_slot(R, vf, vi, lane, ls, lf, rf, ri, k, now, how, p, ug_s, ug_e)
            _fire(ev, _S, now, ps)
        k = slot_candidate(R, vi, lane, ls)
        if k < 0:
            ev.waiting[_L] = True
            return
        v = lane[ls[0] + k]
        ps[_L_PLANNED] = v
        tl, how = plan_uturn(R, vf, v, now, lf[LAST_UTURN_START], p, ug_s, ug_e)
        if np.isinf(tl):
            ev.waiting[_L] = True
            return
        if tl > now:
            ps[_L_HOW] = how
            _schedule(ev, _L, now + (tl - now), True, ps)
            return
        go = True


@njit(cache=True)
def run_one(
    R, t, uturn, heavy, tc, p, ug_s, ug_e, lg_s, lg_e, end_s, rf, ri
):  # pragma: no cover - compiled
    """One run of one scheme; fills the records ``rf`` (float) and ``ri`` (int) in place."""
    n = t.size
    linked = R[LINKED] != 0.0
    vf = np.empty((6, n))
    vi = np.zeros((5, n), dtype=np.int64)
    init_vehicles(R, uturn, heavy, tc, vf, vi)
    lane = np.empty(max(n, 1), dtype=np.int64)
    ls = np.zeros(2, dtype=np.int64)
    lf = np.array([0.0, -np.inf, -np.inf, 0.0, 0.0, 0.0])
    ev = _Events(
        np.zeros(3),
        np.zeros(3, np.int64),
        np.zeros(3, np.bool_),
        np.zeros(3, np.bool_),
        np.zeros(3, np.bool_),
    )
    ps = np.array([4, 0, 0, 0, -1], dtype=np.int64)
    # the process starts: ids 0..2 at t = 0 (urgent in SimPy, i.e. before every normal
    # event at t = 0, all of which have ids >= 4); id 3 is the end of the run
    for q in range(3 if linked else 2):
        ev.active[q] = True
        ev.eid[q] = q
    while True:
        best = -1
        for q in range(3):
            if ev.active[q] and (
                best < 0
                or ev.time[q] < ev.time[best]
                or (ev.time[q] == ev.time[best] and ev.eid[q] < ev.eid[best])
            ):
                best = q
        if best < 0 or not ev.time[best] < end_s:
            break
        ev.active[best] = False
        _resume(
            best,
            ev.timeout[best],
            ev.time[best],
            R,
            t,
            p,
            ug_s,
            ug_e,
            lg_s,
            lg_e,
            vf,
            vi,
            lane,
            ls,
            lf,
            rf,
            ri,
            ev,
            ps,
        )
    for q in range(ls[1]):  # LaneState.finish(end_s)
        v = lane[ls[0] + q]
        if vf[READY, v] <= end_s:
            end_leg(R, vf, vi, rf, ri, v)


@njit(cache=True)
def run_batch(
    R, t, uturn, heavy, tc, voff, p, poff, ug_s, ug_e, lg_s, lg_e, end_s, rf, ri
):  # pragma: no cover - compiled
    """Run every replication of the batch; records go to ``rf``/``ri`` at its rows.

    Replication ``r``: vehicles ``voff[r]:voff[r+1]``, passages ``poff[r]:poff[r+1]``.
    """
    for r in range(voff.size - 1):
        a, b = voff[r], voff[r + 1]
        run_one(
            R,
            t[a:b],
            uturn[a:b],
            heavy[a:b],
            tc[a:b],
            p[poff[r] : poff[r + 1]],
            ug_s,
            ug_e,
            lg_s,
            lg_e,
            end_s,
            rf[:, a:b],
            ri[:, a:b],
        )
