# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""The compiled event loop: SimPy's event order for the processes of one run.

:func:`uturn_sim.model.engine.run_lane` creates its SimPy processes in this order:
the arrivals (of the bay alone, or of the whole approach when ``through_lanes`` > 0),
the stop line, the slot server (slot lane only), then one server per through lane.
Each waits on one event at a time: a timeout or a re-armable wake-up
(:class:`uturn_sim.model.engine.Wake`).  SimPy processes events in ``(time, priority,
id)`` order; the processes start with urgent priority at t = 0 in creation order
(ids ``0 .. n-1``), the end of the run is urgent at ``end_s`` (id ``n``), and
everything after is a normal-priority event taking the next id when scheduled, so
the run stops before any normal event at ``end_s``.  This loop keeps one pending
event per process (:mod:`uturn_sim.fast.events`) and the same id counter, so ties at
equal times resolve as in SimPy.  A timeout of ``t - now`` fires at ``now + (t -
now)``, as SimPy computes it.  A process that ends (the arrivals) takes an id in SimPy
and none here: every later id shifts by one, which changes no order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.fast.approach import (
    FIRST_ALONE,
    N_LOG,
    arrive,
    depart_head,
    merged_arrivals,
    serve_alone_lanes,
    try_enter,
)
from uturn_sim.fast.approach import plan_head as plan_through_head
from uturn_sim.fast.events import (
    AI,
    ARRIVALS,
    EID,
    L_HOW,
    L_PLANNED,
    S_HOW,
    SLOT_SERVER,
    STOP_LINE,
    THROUGH,
    fire,
    on_admit,
    schedule,
)
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
from uturn_sim.fast.rules import LINKED, THROUGH_LANES
from uturn_sim.fast.state import Run

__all__ = ["run_batch", "run_one"]


@njit(cache=True, inline="always")
def _goes_on(s, proc, at, end_s):  # pragma: no cover - compiled
    """True if a timeout of process ``proc`` to ``at`` (s) would be the run's next event.

    It must fall before the end and every other pending event must come later (one at
    the same time has an older id and goes first).  The process then goes on at once
    and this takes the timeout's id (``ps[EID]``): the same events in the same order,
    without a round through the event loop.
    """
    if not at < end_s:
        return False
    for q in range(s.time.size):
        if q != proc and s.active[q] and not s.time[q] > at:
            return False
    s.ps[EID] += 1
    return True


@njit(cache=True, inline="always")
def _arrivals(s, go, now, end_s):  # pragma: no cover - compiled
    """``engine._arrivals`` (the bay alone) or ``engine._approach_arrivals``."""
    whole = s.R[THROUGH_LANES] > 0
    while True:  # ``at`` is the bay's ``t`` for the bay alone
        if go:
            i = s.ps[AI]
            s.ps[AI] += 1
            if whole:
                arrive(s, s.code[i], now)
            else:
                on_admit(s, admit(s, i, now), now)
        if s.ps[AI] >= s.at.size:
            break
        ta = s.at[s.ps[AI]]
        if ta > now:
            at = now + (ta - now)
            if _goes_on(s, ARRIVALS, at, end_s):
                now = at
                go = True
                continue
            schedule(s, ARRIVALS, at, True)
            break
        go = True


@njit(cache=True, inline="always")
def _stop_line(s, go, now, end_s):  # pragma: no cover - compiled
    """``schemes.ordinary.stop_line``: serve the head (left-turners only, slot lane)."""
    linked = s.R[LINKED] != 0.0
    how = s.ps[S_HOW]
    while True:
        if go:
            if linked:
                depart_slot(s, 0, now, how)
            else:
                depart_stop_line(s, now, how)
            if s.R[THROUGH_LANES] > 0:  # LaneState.left: the bay entrance may open
                try_enter(s, now)
            if linked:
                fire(s, SLOT_SERVER, now)
        if s.ls[1] == 0 or (linked and s.vi[UTURN, s.lane[s.ls[0]]] != 0):
            s.waiting[STOP_LINE] = True
            break
        ts, how = plan_head(s, now)
        if np.isinf(ts):
            s.waiting[STOP_LINE] = True
            break
        if ts > now:
            at = now + (ts - now)
            if _goes_on(s, STOP_LINE, at, end_s):
                now = at
                go = True
                continue
            s.ps[S_HOW] = how
            schedule(s, STOP_LINE, at, True)
            break
        go = True


@njit(cache=True, inline="always")
def _slot_server(s, go, now):  # pragma: no cover - compiled
    """``schemes.linked.slot_server``: start the slot U-turns, front-most first."""
    how, k = s.ps[L_HOW], -1
    if go:  # lane.index(planned): left-turners ahead may have gone meanwhile
        for q in range(s.ls[1]):
            if s.lane[s.ls[0] + q] == s.ps[L_PLANNED]:
                k = q
                break
    while True:
        if go:
            depart_slot(s, k, now, how)
            if s.R[THROUGH_LANES] > 0:
                try_enter(s, now)
            fire(s, STOP_LINE, now)
        k = slot_candidate(s)
        if k < 0:
            s.waiting[SLOT_SERVER] = True
            break
        v = s.lane[s.ls[0] + k]
        s.ps[L_PLANNED] = v
        tl, how = plan_uturn(s, v, now, s.lf[LAST_UTURN_START])
        if np.isinf(tl):
            s.waiting[SLOT_SERVER] = True
            break
        if tl > now:
            s.ps[L_HOW] = how
            schedule(s, SLOT_SERVER, now + (tl - now), True)
            break
        go = True


@njit(cache=True, inline="always")
def _through_server(s, proc, go, now, end_s):  # pragma: no cover - compiled
    """``engine._through_server`` of lane ``proc - THROUGH + 1``."""
    k = proc - THROUGH
    while True:
        if go:
            depart_head(s, k, now)
        if s.fn[k] == 0 or s.files[k, s.fh[k]] < 0:
            s.waiting[proc] = True
            break
        tp = plan_through_head(s, k, now)
        if np.isinf(tp):
            s.waiting[proc] = True
            break
        if tp > now:
            at = now + (tp - now)
            if _goes_on(s, proc, at, end_s):
                now = at
                go = True
                continue
            schedule(s, proc, at, True)
            break
        go = True


@njit(cache=True)
def run_one(R, end_s, bay, p, greens, through, records, log):  # pragma: no cover - compiled
    """One run of one scheme; fills ``records`` and ``log`` and returns the log's length.

    ``bay = (t, uturn, heavy, tc)`` (s, bool, bool, s) and ``through = (tt, tlen)`` (s,
    m) are the arrivals, ``p`` the conflicting passages (s), ``greens`` the effective
    greens ``(ug_s, ug_e, lg_s, lg_e, tg_s, tg_e)`` (s), ``end_s`` the horizon (s).
    Records ``(rf, ri, entry, tlane, tdep)``: the bay's (:mod:`uturn_sim.fast.lane`;
    ``entry`` s), the through vehicles' lanes (the drawn ones on entry, the ones used
    on return) and stop-line passages (s).  Lane 1's log: ``log_t[:n], log_s[:n]``.
    """
    t, uturn, heavy, tc = bay
    tt, tlen = through
    lanes = int(R[THROUGH_LANES])
    if lanes > 0:
        at, code = merged_arrivals(t, tt)
    else:  # the bay's arrivals in table order (engine._arrivals)
        at, code = t.copy(), np.empty(0, dtype=np.int64)
    s = Run(R, t, p, greens, at, code, tlen, records, log)
    init_vehicles(s, uturn, heavy, tc)
    linked = R[LINKED] != 0.0
    nproc = THROUGH + s.ai[FIRST_ALONE]  # lanes served alone have no process here
    # the process starts: ids 0 .. started-1 at t = 0 in creation order (urgent in SimPy,
    # i.e. before every normal event at t = 0); id ``started`` is the end of the run
    started = 0
    for q in range(nproc):
        if q != SLOT_SERVER or linked:
            s.active[q] = True
            s.eid[q] = started
            started += 1
    s.ps[EID] = started + 1
    active, time, eid = s.active, s.time, s.eid  # the same arrays, read once
    while True:
        best = nproc  # none
        for q in range(nproc):
            if active[q] and (
                best == nproc
                or time[q] < time[best]
                or (time[q] == time[best] and eid[q] < eid[best])
            ):
                best = q
        if best == nproc or not time[best] < end_s:
            break
        active[best] = False
        go, now = s.timeout[best], time[best]
        if best == ARRIVALS:
            _arrivals(s, go, now, end_s)
        elif best == STOP_LINE:
            _stop_line(s, go, now, end_s)
        elif best == SLOT_SERVER:
            _slot_server(s, go, now)
        else:
            _through_server(s, best, go, now, end_s)
    serve_alone_lanes(s, end_s)
    for q in range(s.ls[1]):  # LaneState.finish(end_s)
        v = s.lane[s.ls[0] + q]
        if s.vf[READY, v] <= end_s:
            end_leg(s, v)
    return s.ai[N_LOG]


@njit(cache=True)
def run_batch(
    R, end_s, bay, voff, p, poff, greens, through, toff, records, log, loff, nlog
):  # pragma: no cover - compiled
    """Run every replication of the batch; records go to ``records`` at its rows.

    As :func:`run_one`, the arrays concatenated over replications: replication ``r``
    has bay vehicles ``voff[r]:voff[r+1]`` (``rf`` and ``ri`` columns), through
    vehicles ``toff[r]:toff[r+1]``, passages ``poff[r]:poff[r+1]`` and lane 1's log in
    ``loff[r]:loff[r+1]``, of which the first ``nlog[r]`` entries are written.
    """
    t, uturn, heavy, tc = bay
    tt, tlen = through
    rf, ri, entry, tlane, tdep = records
    log_t, log_s = log
    for r in range(voff.size - 1):
        a, b = voff[r], voff[r + 1]
        c, d = toff[r], toff[r + 1]
        e, f = loff[r], loff[r + 1]
        nlog[r] = run_one(
            R,
            end_s,
            (t[a:b], uturn[a:b], heavy[a:b], tc[a:b]),
            p[poff[r] : poff[r + 1]],
            greens,
            (tt[c:d], tlen[c:d]),
            (rf[:, a:b], ri[:, a:b], entry[a:b], tlane[c:d], tdep[c:d]),
            (log_t[e:f], log_s[e:f]),
        )
