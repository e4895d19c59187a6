# ruff: noqa: ANN001  (numba jitclass: argument types come from the spec)
"""The whole state of one compiled run in one object: what every kernel helper takes.

A :class:`Run` holds every array of one run of one scheme on one replication: the
inputs, the bay's lane (:mod:`uturn_sim.fast.lane`), the through lanes
(:mod:`uturn_sim.fast.approach`), the pending event of each process
(:mod:`uturn_sim.fast.events`) and the record arrays the run writes.  Helpers take
the one object rather than its arrays: numba counts a reference for every array
argument of a call, and with some forty arrays per call that counting took two
thirds of the engine's time; one object costs one count.

Fields (times s, lengths m):

* inputs: ``R`` (packed :class:`~uturn_sim.model.lane.LaneRules`), ``t`` (bay
  arrivals), ``p`` (conflicting passages), green windows ``ug_s/ug_e`` (U-turn),
  ``lg_s/lg_e`` (left turn), ``tg_s/tg_e`` (through), ``at``/``code`` (every
  arrival of the approach in SimPy's order, see ``approach.merged_arrivals``)
* bay: ``vf``, ``vi``, ``lane``, ``ls``, ``lf`` and the records ``rf``, ``ri``
  (layout in :mod:`uturn_sim.fast.lane`), ``entry`` (turned into the bay)
* through lanes: ``files``, ``fh``, ``fn``, ``tlen``, ``last_dep``, records ``tdep``,
  ``tlane``, lane 1's log ``log_t``, ``log_s``, counters ``ai``, and the vehicles of
  the lanes served after the run ``alone`` with their arrival instants ``alone_t``
  (layout in :mod:`uturn_sim.fast.approach`)
* events: per process ``time``, ``eid``, ``active``, ``timeout``, ``waiting`` and the
  process scalars ``ps`` (layout in :mod:`uturn_sim.fast.events`)
* ``pc``: the last U-turn plan and what it was made from (:func:`~uturn_sim.fast.lane.plan_uturn`)
"""

from __future__ import annotations

import numpy as np
from numba import boolean, float64, int8, int64
from numba.experimental import jitclass

from uturn_sim.fast.events import L_PLANNED, N_PROCESS_SCALARS, THROUGH
from uturn_sim.fast.rules import AVOID, THROUGH_LANES
from uturn_sim.model.approach import FREE

__all__ = ["Run"]

_F1, _F2, _I1, _I2 = float64[::1], float64[:, ::1], int64[::1], int64[:, ::1]
_SPEC = [
    ("R", _F1),
    ("t", _F1),
    ("p", _F1),
    ("ug_s", _F1),
    ("ug_e", _F1),
    ("lg_s", _F1),
    ("lg_e", _F1),
    ("tg_s", _F1),
    ("tg_e", _F1),
    ("at", _F1),
    ("code", _I1),
    ("vf", _F2),
    ("vi", _I2),
    ("lane", _I1),
    ("ls", _I1),
    ("lf", _F1),
    ("rf", float64[:, :]),
    ("ri", int64[:, :]),
    ("entry", _F1),
    ("files", _I2),
    ("fh", _I1),
    ("fn", _I1),
    ("tlen", _F1),
    ("last_dep", _F1),
    ("tdep", _F1),
    ("tlane", int8[::1]),
    ("log_t", _F1),
    ("log_s", int8[::1]),
    ("ai", _I1),
    ("alone", _I1),
    ("alone_t", _F1),
    ("time", _F1),
    ("eid", _I1),
    ("active", boolean[::1]),
    ("timeout", boolean[::1]),
    ("waiting", boolean[::1]),
    ("ps", _I1),
    ("pc", _F1),
]


@jitclass(_SPEC)
class Run:
    """One run's arrays; the inputs and record arrays given, the working state new.

    Parameters are the fields of the same names (module docstring), grouped:
    ``greens = (ug_s, ug_e, lg_s, lg_e, tg_s, tg_e)``, ``records = (rf, ri, entry,
    tlane, tdep)``, ``log = (log_t, log_s)``; the bay's per-vehicle state is sized by
    ``t``, the through lanes by ``R`` and ``tlen``.
    """

    def __init__(self, R, t, p, greens, at, code, tlen, records, log):
        n, lanes = t.size, int(R[THROUGH_LANES])
        self.R, self.t, self.p = R, t, p
        self.ug_s, self.ug_e, self.lg_s, self.lg_e, self.tg_s, self.tg_e = greens
        self.at, self.code = at, code
        self.vf = np.empty((6, n))
        self.vi = np.zeros((5, n), dtype=np.int64)
        self.lane = np.empty(max(n, 1), dtype=np.int64)
        self.ls = np.zeros(2, dtype=np.int64)
        self.lf = np.array([0.0, -np.inf, -np.inf, 0.0, 0.0, 0.0])
        self.rf, self.ri, self.entry, self.tlane, self.tdep = records
        self.files = np.empty((lanes, n + tlen.size + 1), dtype=np.int64)
        self.fh = np.zeros(lanes, dtype=np.int64)
        self.fn = np.zeros(lanes, dtype=np.int64)
        self.tlen = tlen
        self.last_dep = np.full(lanes, -np.inf)
        self.log_t, self.log_s = log
        if lanes > 0:
            self.log_t[0] = -np.inf
            self.log_s[0] = FREE
        # lanes from ``first`` on are served after the run (approach.serve_alone_lanes)
        first = min(lanes, 1 if R[AVOID] == 0.0 else 2)
        # lane 1's log holds its first entry (-inf, FREE) only with through lanes
        self.ai = np.array([1 if lanes > 0 else 0, 0, first, 0], dtype=np.int64)
        self.alone = np.empty(tlen.size, dtype=np.int64)
        self.alone_t = np.empty(tlen.size)
        nproc = THROUGH + first
        self.time = np.zeros(nproc)
        self.eid = np.zeros(nproc, dtype=np.int64)
        self.active = np.zeros(nproc, dtype=np.bool_)
        self.timeout = np.zeros(nproc, dtype=np.bool_)
        self.waiting = np.zeros(nproc, dtype=np.bool_)
        self.ps = np.zeros(N_PROCESS_SCALARS, dtype=np.int64)
        self.ps[L_PLANNED] = -1
        # the last U-turn plan: vehicle, now, last start, ready, settle -> start, how
        self.pc = np.array([-1.0, np.nan, np.nan, np.nan, np.nan, np.nan, 0.0])
