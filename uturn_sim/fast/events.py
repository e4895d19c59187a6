# ruff: noqa: ANN001, ANN201  (numba kernels: argument types are inferred from the arrays)
"""SimPy's event bookkeeping for the compiled loop: one pending event per process.

Every process of :func:`uturn_sim.model.engine.run_lane` waits on one event at a
time, a timeout or its re-armable wake-up (:class:`uturn_sim.model.engine.Wake`).
The run (:class:`uturn_sim.fast.state.Run`) keeps that event per process slot
(:data:`ARRIVALS`, :data:`STOP_LINE`, :data:`SLOT_SERVER`, then :data:`THROUGH` + k
for the server of through lane k + 1) in ``time``, ``eid``, ``active``, ``timeout``
(a timeout, else a wake-up) and ``waiting`` (its wake-up is armed); ``ps[EID]`` is
SimPy's event-id counter.
"""

from __future__ import annotations

from numba import njit

from uturn_sim.fast.rules import LINKED, SLOTS

__all__ = [
    "AI",
    "ARRIVALS",
    "EID",
    "L_HOW",
    "L_PLANNED",
    "N_PROCESS_SCALARS",
    "SLOT_SERVER",
    "STOP_LINE",
    "S_HOW",
    "THROUGH",
    "fire",
    "on_admit",
    "schedule",
]

ARRIVALS, STOP_LINE, SLOT_SERVER, THROUGH = 0, 1, 2, 3  # process slots
#: process scalars in ``ps``: next event id, next arrival, the stop line's and the slot
#: server's planned service kind, the slot vehicle the slot server waits for
EID, AI, S_HOW, L_HOW, L_PLANNED = 0, 1, 2, 3, 4
N_PROCESS_SCALARS = 5


@njit(cache=True, inline="always")
def schedule(s, q, at, timeout):  # pragma: no cover - compiled
    """Process ``q`` resumes at ``at`` (s): a timeout, or a fired wake-up (next id)."""
    s.time[q] = at
    s.eid[q] = s.ps[EID]
    s.active[q] = True
    s.timeout[q] = timeout
    s.ps[EID] += 1


@njit(cache=True, inline="always")
def fire(s, q, now):  # pragma: no cover - compiled
    """``Wake.fire``: wake process ``q`` if it waits on its wake-up."""
    if s.waiting[q]:
        s.waiting[q] = False
        schedule(s, q, now, False)


@njit(cache=True, inline="always")
def on_admit(s, pos, now):  # pragma: no cover - compiled
    """``Scheme.on_admit``: a vehicle joined the bay at ``pos``; wake its servers."""
    if pos == 0:
        fire(s, STOP_LINE, now)
    if s.R[LINKED] != 0.0 and pos < s.R[SLOTS]:
        fire(s, SLOT_SERVER, now)
