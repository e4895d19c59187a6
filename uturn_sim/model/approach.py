"""The studied approach beyond the bay: its through lanes and the bay's entrance (no SimPy).

Lane 1 is the through lane next to the left-turn bay; every bay vehicle (U-turn or
left turn) arrives in it and turns into the bay at the bay's opening, ``storage_m +
taper_m`` upstream of the stop line.  Lane 1 is one single file of through and bay
vehicles in order of arrival (vertical queue: a vehicle's place is the queue space,
m, of the vehicles ahead of it that have not left the lane):

* a bay vehicle turns into the bay once the vehicles ahead of it in lane 1 take no
  more than the opening's distance (the through queue does not stand past the
  opening), it is the first bay vehicle of lane 1, and the bay has room for it
  (:meth:`~uturn_sim.model.lane.LaneState.has_room`: its queue space plus the
  bay's, and in the linked bay the place it would stop at, within ``storage_m``;
  an empty bay always takes it).  Until then it waits in lane 1 and blocks every vehicle behind it;
* a through vehicle at the head of lane 1 passes the stop line in the through
  effective green, a saturation headway after the previous one; one behind a
  waiting bay vehicle cannot pass it (no lane changes in a queue: assumption).

Every through lane is a signalized FIFO queue discharging at the saturation headway
in the through effective green.  A through driver bound for lane 1 who arrives while
a bay vehicle stands in lane 1 takes lane 2 instead if its queue is shorter
(``approach.avoid_blocked_lane``; off by default: drivers keep the lane they drew).
The state of lane 1
after every change is logged as ``FREE``, ``ENTRANCE_BLOCKED`` (the through queue
stands past the opening: a bay vehicle arriving now could not reach the bay) or
``SPILLBACK`` (a bay vehicle at the opening waits for room in the bay: lane 1 is
blocked by the bay's queue).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from uturn_sim.traffic.table import ArrivalTable

if TYPE_CHECKING:  # pragma: no cover
    from uturn_sim.model.lane import LaneState

__all__ = [
    "ENTRANCE_BLOCKED",
    "FREE",
    "SPILLBACK",
    "ThroughLanes",
    "approach_arrivals",
]

FREE, ENTRANCE_BLOCKED, SPILLBACK = 0, 1, 2
_TOL = 1e-9  # m: a queue exactly reaching the opening does not block it


def approach_arrivals(table: ArrivalTable) -> tuple[np.ndarray, np.ndarray]:
    """Every arrival of the approach: times (s) and codes, in time order (bay vehicles first).

    Code ``-(i + 1)`` is bay vehicle ``i``; code ``j >= 0`` is through vehicle ``j``.
    """
    t = np.concatenate((table.t, table.through_t))
    code = np.concatenate(
        (-(np.arange(len(table.t), dtype=np.int64) + 1), np.arange(len(table.through_t)))
    )
    order = np.argsort(t, kind="stable")
    return t[order], code[order]


class ThroughLanes:
    """The through lanes' files, the bay entrance and the through records of one run.

    Parameters
    ----------
    table
        The replication's arrivals.
    bay
        The bay's lane state (its scheme's :class:`~uturn_sim.model.lane.LaneState`).
    on_admit
        The scheme's ``on_admit(bay, position)`` (wakes the bay's servers).
    """

    def __init__(
        self,
        table: ArrivalTable,
        bay: LaneState,
        on_admit: Callable[[LaneState, int], None],
    ):
        r = bay.rules
        self.table = table
        self.bay = bay
        self.on_admit = on_admit
        self.lanes = r.through_lanes
        self.avoid = r.avoid_blocked_lane and self.lanes > 1
        self.opening_m = r.bay_opening_m
        self.headway_s = r.through_headway_s
        self.green = table.through_green
        self.arrival_t, self.arrival_code = approach_arrivals(table)
        self.length_m = np.where(table.through_heavy, r.heavy_length_m, r.car_length_m)
        self._length = self.length_m.tolist()  # per-vehicle lookups without NumPy scalars
        n = len(table.through_t)
        self.departure = np.full(n, np.nan)  # through vehicles: pass the stop line, s
        self.lane = table.through_lane.astype(np.int8)  # the lane it used (1 = next to the bay)
        self.entry = np.full(len(table), np.nan)  # bay vehicles: turned into the bay, s
        self.files: list[list[int]] = [[] for _ in range(self.lanes)]  # front first
        self.last_dep = [-np.inf] * self.lanes
        self.wakes: list[Any] = [None] * self.lanes  # each lane's server wake-up (engine)
        self.log_t: list[float] = [-np.inf]
        self.log_state: list[int] = [FREE]
        # lanes from this one (0-based) on touch nothing else: served after the run
        self.first_alone = min(self.lanes, 2 if self.avoid else 1)
        self.alone: list[tuple[int, float]] = []  # (vehicle, arrival instant, s), in order

    # -- lanes ---------------------------------------------------------------------------
    def _first_bay(self) -> tuple[int, float]:
        """File index of lane 1's first bay vehicle (-1: none) and the queue ahead of it, m."""
        d = 0.0
        length = self._length
        for k, code in enumerate(self.files[0]):
            if code < 0:
                return k, d
            d += length[code]
        return -1, d

    def _queue_m(self, k: int) -> float:
        """Queue space of the vehicles in lane ``k + 1``, m."""
        bay_len = self.bay.length_m
        return float(
            sum(self.length_m[c] if c >= 0 else bay_len[-c - 1] for c in self.files[k])
        )

    def arrive(self, code: int, now: float) -> None:
        """Vehicle ``code`` joins the back of its lane at ``now`` (s).

        A through driver bound for lane 1 takes lane 2 instead when a bay vehicle
        stands in lane 1 and lane 2's queue is shorter (m) than lane 1's
        (``avoid_blocked_lane``).
        """
        k = 0
        if code >= 0:
            k = int(self.lane[code]) - 1
            if k >= self.first_alone:
                self.alone.append((code, now))
                return
            if k == 0 and self.avoid and self._first_bay()[0] >= 0:
                if self._queue_m(1) < self._queue_m(0):
                    k = 1
                    self.lane[code] = 2
        file = self.files[k]
        file.append(code)
        if len(file) == 1 and code >= 0:
            self.wakes[k].fire()
        if k == 0:
            self.try_enter(now)

    def plan_head(self, k: int, now: float) -> float:
        """Stop-line passage (s) of the through vehicle at the head of lane ``k + 1``."""
        return self.green.next_start_scalar(max(now, self.last_dep[k] + self.headway_s))

    def depart_head(self, k: int, now: float) -> None:
        """The through vehicle at the head of lane ``k + 1`` passes the stop line at ``now``."""
        j = self.files[k].pop(0)
        self.departure[j] = now
        self.last_dep[k] = now
        if k == 0:
            self.try_enter(now)

    def serve_alone(self, end_s: float) -> None:
        """Stop-line passages (s) of the lanes nothing else touches, after the run.

        Lane 2 without ``avoid_blocked_lane`` and every lane from 3 on hold no bay
        vehicle and take no lane change: each is a plain signalized FIFO queue whose
        server (``engine._through_server``) decides only its own vehicles' passages.
        They are replayed here from the arrival instants the arrivals process gave
        them, exactly as that server would: it plans its head at ``now``, the later of
        the head's arrival and the previous passage, passes at ``now + (t - now)``
        and has ended at the first passage not before ``end_s`` or the first head
        with no green left.  The result is the same, to the bit, as running those
        servers in SimPy; it saves about a third of a default run's events.
        """
        for k in range(self.first_alone, self.lanes):
            last = -np.inf
            for code, arrived in self.alone:
                if self.lane[code] != k + 1:
                    continue
                now = arrived if arrived > last else last
                t = self.green.next_start_scalar(max(now, last + self.headway_s))
                if math.isinf(t):
                    break
                if t > now:
                    t = now + (t - now)  # the server's timeout, as SimPy adds it
                    if not t < end_s:
                        break
                else:
                    t = now
                self.departure[code] = t
                last = t
            self.last_dep[k] = last

    def try_enter(self, now: float) -> None:
        """Let the bay vehicles of lane 1 that can turn into the bay do so at ``now`` (s)."""
        bay, file = self.bay, self.files[0]
        while True:
            k, ahead = self._first_bay()
            if k < 0 or ahead > self.opening_m + _TOL:
                break
            i = -file[k] - 1
            if not bay.has_room(float(bay.length_m[i])):
                bay.spilled[i] = True  # waits at the opening for room: lane 1 is blocked
                break
            del file[k]
            self.entry[i] = now
            self.on_admit(bay, bay.admit(i, now))
            if k == 0 and file and file[0] >= 0:
                self.wakes[0].fire()
        self._log(now, k, ahead)

    def state(self) -> int:
        """Lane 1 now: ``FREE``, ``ENTRANCE_BLOCKED`` or ``SPILLBACK``."""
        return self._state(*self._first_bay())

    def _state(self, k: int, ahead: float) -> int:
        if k >= 0 and ahead <= self.opening_m + _TOL:
            return SPILLBACK
        return ENTRANCE_BLOCKED if ahead > self.opening_m + _TOL else FREE

    def _log(self, now: float, k: int, ahead: float) -> None:
        s = self._state(k, ahead)
        if s == self.log_state[-1]:
            return
        if self.log_t[-1] == now:  # changed back and forth at one instant
            self.log_state[-1] = s
            if len(self.log_state) > 1 and self.log_state[-2] == s:
                self.log_t.pop()
                self.log_state.pop()
            return
        self.log_t.append(now)
        self.log_state.append(s)

    def states(self) -> tuple[np.ndarray, np.ndarray]:
        """Lane 1's state as a step function: times (s, the first -inf) and states."""
        return np.asarray(self.log_t, dtype=float), np.asarray(self.log_state, dtype=np.int8)
