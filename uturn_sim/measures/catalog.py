"""Every measure declared once: name, unit, label, how it is computed, how it aggregates.

The summary (:func:`uturn_sim.measures.summary.summarize`), the comparison table, the
CLI, the sweeps and the plots read this catalogue instead of keeping lists of their
own.  A measure is computed per movement from a :class:`MovementRecords` (the
records of one movement in the measured period, with their queue statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from uturn_sim.measures.safety import CONFLICT_PET_S, PET_THRESHOLDS_S

__all__ = [
    "APPROACH_ONLY",
    "APPROACH_WIDE",
    "COMPARED",
    "LOS_SIGNALIZED",
    "LOS_UNSIGNALIZED",
    "MEASURES",
    "ROWS",
    "RUN_TABLE",
    "UTURN_ONLY",
    "LaneOneRecords",
    "Measure",
    "MovementRecords",
    "level_of_service",
    "measure",
    "measures_markdown",
]

# HCM control-delay thresholds, s/veh: upper bound of A, B, C, D, E (F above)
LOS_SIGNALIZED = (10.0, 20.0, 35.0, 55.0, 80.0)
LOS_UNSIGNALIZED = (10.0, 15.0, 25.0, 35.0, 50.0)


def level_of_service(delay_s: float, thresholds: tuple[float, ...] = LOS_SIGNALIZED) -> str:
    """HCM level of service letter for a mean control delay (s/veh); '-' for NaN."""
    if not np.isfinite(delay_s):
        return "-"
    return "ABCDEF"[int(np.searchsorted(np.asarray(thresholds), delay_s, side="left"))]


#: the summary's rows: the bay's movements, the approach's through movement, everything
ROWS: tuple[str, ...] = ("uturn", "left", "through", "all")


@dataclass(frozen=True)
class LaneOneRecords:
    """Through lane 1 next to the bay over the measured period (NaN: bay alone).

    Attributes
    ----------
    entrance_share : share of the period the through queue stood past the bay opening
    entrance_cycles : share of the period's signal cycles in which it did, for some time
    spillback_share : share of the period a bay vehicle waited in lane 1 for room in
        the bay (lane 1 blocked by the bay's queue)
    spillback_cycles : share of the period's signal cycles in which that happened
    """

    entrance_share: float
    entrance_cycles: float
    spillback_share: float
    spillback_cycles: float


_NO_LANE_ONE = LaneOneRecords(np.nan, np.nan, np.nan, np.nan)


@dataclass(frozen=True)
class MovementRecords:
    """What the measures of one movement are computed from (measured period ``[t0, t1)``).

    Attributes
    ----------
    hours : length of the measured period, h
    arrived : vehicles arriving in the period
    departed : of those, vehicles that started their turn by the end of the run
    served_in_period : vehicles (any arrival time) starting their turn in the period
    delay_s : control delay of each departed vehicle, s
    queue_delay_s : queue delay (start of turn - arrival) of each departed vehicle, s
    queue_veh, queue_m : time-weighted (mean, 95th percentile, max) of the queue, veh / m
    spillback_share : share of the period the lane's queue exceeds storage
    spilled : vehicles of the period that arrived to a full lane
    veh_per_gap : U-turners per accepted conflicting gap outside the protected green
    veh_per_platoon : U-turners per platoon (starts within lag + tolerance)
    in_system_end : vehicles still in the lane at the end of the run
    pet_s : U-turn row only: post-encroachment time (min of before/after) of each
        U-turn starting in the period, s (:mod:`uturn_sim.measures.safety`); ``None``
        for the other rows
    persons : occupancy of each departed vehicle, persons
    waiting_delay_s : vehicles of the period still waiting at the run's end: their delay
        up to it, s (``None``: not charged)
    waiting_persons : their occupancy, persons
    entry_wait_s : bay vehicles among the departed: time from arrival to turning into
        the bay, s (0 for the bay alone; empty for the through row)
    lane_one : the approach's through lane 1 (:class:`LaneOneRecords`)
    """

    hours: float
    arrived: int
    departed: int
    served_in_period: int
    delay_s: np.ndarray
    queue_delay_s: np.ndarray
    queue_veh: tuple[float, float, float]
    queue_m: tuple[float, float, float]
    spillback_share: float
    spilled: int
    veh_per_gap: float
    veh_per_platoon: float
    in_system_end: int
    pet_s: np.ndarray | None = None
    persons: np.ndarray | None = None
    waiting_delay_s: np.ndarray | None = None
    waiting_persons: np.ndarray | None = None
    entry_wait_s: np.ndarray | None = None
    lane_one: LaneOneRecords = _NO_LANE_ONE

    @property
    def total_delay_h(self) -> float:
        """Control delay of the period's vehicles per hour of it, veh·h/h.

        Departed vehicles count their control delay; vehicles still waiting at the
        run's end count their delay up to it (a lower bound of theirs).
        """
        total = float(self.delay_s.sum())
        if self.waiting_delay_s is not None:
            total += float(self.waiting_delay_s.sum())
        return total / 3600.0 / self.hours

    @property
    def person_delay_h(self) -> float:
        """Person delay per hour of the period, person·h/h (NaN without occupancies)."""
        if self.persons is None:
            return np.nan
        total = float(np.sum(self.delay_s * self.persons))
        if self.waiting_delay_s is not None and self.waiting_persons is not None:
            total += float(np.sum(self.waiting_delay_s * self.waiting_persons))
        return total / 3600.0 / self.hours

    @property
    def mean_entry_wait_s(self) -> float:
        """Mean wait to turn into the bay, s/veh (NaN: no bay vehicle)."""
        w = self.entry_wait_s
        return float(w.mean()) if w is not None and w.size else np.nan

    def pet_share_below(self, limit_s: float) -> float:
        """Share of U-turns with PET below ``limit_s`` s (NaN: not the U-turn row, or none)."""
        if self.pet_s is None or not self.pet_s.size:
            return np.nan
        return float(np.mean(self.pet_s < limit_s))

    def pet_quantile(self, q: float) -> float:
        """PET quantile ``q`` (0..1) over the U-turns, s (NaN: not the U-turn row, or none)."""
        if self.pet_s is None or not self.pet_s.size:
            return np.nan
        return float(np.percentile(self.pet_s, 100 * q))

    @property
    def mean_delay_s(self) -> float:
        """Mean control delay, s/veh (NaN if nobody departed)."""
        return float(self.delay_s.mean()) if self.delay_s.size else np.nan

    @property
    def mean_queue_delay_s(self) -> float:
        """Mean queue delay, s/veh (NaN if nobody departed)."""
        return float(self.queue_delay_s.mean()) if self.queue_delay_s.size else np.nan

    def delay_quantile(self, q: float) -> float:
        """Control-delay quantile ``q`` (0..1), s/veh."""
        return float(np.percentile(self.delay_s, 100 * q)) if self.delay_s.size else np.nan


Aggregate = Literal["mean", "share", "max", "min", "sum", "letter", "flag"]


@dataclass(frozen=True)
class Measure:
    """One reported measure.

    Attributes
    ----------
    name : column name in summaries, comparisons and sweep rows
    unit : unit (``veh/h``, ``s/veh``, ``veh``, ``m``, ``share``, ``-``)
    label : label for tables and axes, with its unit
    short : column header of the one-run table
    aggregate : how replications combine (``mean`` of values, ``share`` of time,
        ``max``, ``min``, ``sum`` of counts; ``letter`` and ``flag`` are derived, not averaged)
    compute : the value from a :class:`MovementRecords`
    """

    name: str
    unit: str
    label: str
    compute: Callable[[MovementRecords], float | int | str | bool]
    short: str = ""
    aggregate: Aggregate = "mean"

    @property
    def numeric(self) -> bool:
        """True if replications can be averaged and differenced."""
        return self.aggregate not in ("letter", "flag")


def _m(*args: object, **kw: object) -> Measure:
    return Measure(*args, **kw)  # type: ignore[arg-type]


MEASURES: tuple[Measure, ...] = (
    _m(
        "demand_veh_h",
        "veh/h",
        "demand, veh/h",
        lambda r: r.arrived / r.hours,
        short="demand veh/h",
    ),
    _m("arrived", "veh", "arrived, veh", lambda r: r.arrived, aggregate="sum"),
    _m("departed", "veh", "departed, veh", lambda r: r.departed, aggregate="sum"),
    _m(
        "throughput_veh_h",
        "veh/h",
        "throughput, veh/h",
        lambda r: r.served_in_period / r.hours,
        short="served veh/h",
    ),
    _m(
        "unserved",
        "veh",
        "unserved at end, veh",
        lambda r: r.arrived - r.departed,
        short="unserved",
        aggregate="sum",
    ),
    _m(
        "delay_mean_s",
        "s/veh",
        "mean control delay, s/veh",
        lambda r: r.mean_delay_s,
        short="delay s",
    ),
    _m("delay_median_s", "s/veh", "median control delay, s/veh", lambda r: r.delay_quantile(0.5)),
    _m(
        "delay_p95_s",
        "s/veh",
        "95th pct control delay, s/veh",
        lambda r: r.delay_quantile(0.95),
        short="p95 delay s",
    ),
    _m(
        "queue_delay_mean_s",
        "s/veh",
        "mean queue delay, s/veh",
        lambda r: r.mean_queue_delay_s,
        short="queue delay s",
    ),
    _m(
        "queue_delay_p95_s",
        "s/veh",
        "95th pct queue delay, s/veh",
        lambda r: float(np.percentile(r.queue_delay_s, 95)) if r.queue_delay_s.size else np.nan,
    ),
    _m(
        "los",
        "-",
        "level of service (HCM signalized, control delay)",
        lambda r: level_of_service(r.mean_delay_s),
        short="LOS",
        aggregate="letter",
    ),
    _m(
        "los_unsignalized",
        "-",
        "level of service (HCM two-way stop, control delay)",
        lambda r: level_of_service(r.mean_delay_s, LOS_UNSIGNALIZED),
        aggregate="letter",
    ),
    _m(
        "queue_mean_veh",
        "veh",
        "mean queue, veh",
        lambda r: r.queue_veh[0],
        short="queue veh",
    ),
    _m(
        "queue_p95_veh",
        "veh",
        "95th pct queue, veh",
        lambda r: r.queue_veh[1],
        short="p95 queue veh",
    ),
    _m(
        "queue_max_veh",
        "veh",
        "max queue, veh",
        lambda r: r.queue_veh[2],
        aggregate="max",
    ),
    _m("queue_mean_m", "m", "mean queue, m", lambda r: r.queue_m[0]),
    _m("queue_p95_m", "m", "95th pct queue, m", lambda r: r.queue_m[1]),
    _m(
        "queue_max_m",
        "m",
        "max queue, m",
        lambda r: r.queue_m[2],
        short="max queue m",
        aggregate="max",
    ),
    _m(
        "spillback_share",
        "share",
        "time spilled back, share",
        lambda r: r.spillback_share,
        short="spillback",
        aggregate="share",
    ),
    _m(
        "spilled_vehicles",
        "veh",
        "vehicles arriving to a full lane, veh",
        lambda r: r.spilled,
        aggregate="sum",
    ),
    _m(
        "veh_per_gap",
        "veh",
        "U-turns per gap (outside green)",
        lambda r: r.veh_per_gap,
        short="veh/gap",
    ),
    _m(
        "veh_per_platoon",
        "veh",
        "U-turns per platoon",
        lambda r: r.veh_per_platoon,
        short="veh/platoon",
    ),
    *(
        _m(
            f"pet_below_{str(x).replace('.', '_')}_s",
            "share",
            f"U-turns with PET < {x:g} s, share",
            lambda r, x=x: r.pet_share_below(x),
        )
        for x in PET_THRESHOLDS_S
    ),
    _m(
        "conflicts_per_h",
        "1/h",
        f"conflicts (PET < {CONFLICT_PET_S:g} s) per hour",
        lambda r: np.nan if r.pet_s is None else np.sum(r.pet_s < CONFLICT_PET_S) / r.hours,
        short="conflicts/h",
    ),
    _m(
        "pet_min_s",
        "s",
        "minimum PET, s",
        lambda r: r.pet_quantile(0.0),
        aggregate="min",
    ),
    _m("pet_p5_s", "s", "5th pct PET, s", lambda r: r.pet_quantile(0.05)),
    _m(
        "total_delay_veh_h_per_h",
        "veh·h/h",
        "total delay, veh·h per hour",
        lambda r: r.total_delay_h,
        short="delay veh·h/h",
    ),
    _m(
        "person_delay_h_per_h",
        "person·h/h",
        "total person delay, person·h per hour",
        lambda r: r.person_delay_h,
    ),
    _m(
        "bay_entry_wait_s",
        "s/veh",
        "wait in through lane 1 to enter the bay, s/veh",
        lambda r: r.mean_entry_wait_s,
    ),
    _m(
        "entrance_blocked_share",
        "share",
        "time the through queue blocks the bay entrance, share",
        lambda r: r.lane_one.entrance_share,
        aggregate="share",
    ),
    _m(
        "entrance_blocked_cycle_share",
        "share",
        "cycles with the bay entrance blocked, share",
        lambda r: r.lane_one.entrance_cycles,
    ),
    _m(
        "lane_blocked_share",
        "share",
        "time bay spillback blocks through lane 1, share",
        lambda r: r.lane_one.spillback_share,
        aggregate="share",
    ),
    _m(
        "lane_blocked_cycle_share",
        "share",
        "cycles with through lane 1 blocked by spillback, share",
        lambda r: r.lane_one.spillback_cycles,
    ),
    _m(
        "in_system_end",
        "veh",
        "in the lane at the end, veh",
        lambda r: r.in_system_end,
        aggregate="sum",
    ),
    _m(
        "oversaturated",
        "-",
        "vehicles of the period still waiting at the end",
        lambda r: r.arrived - r.departed > 0,
        aggregate="flag",
    ),
)

_BY_NAME = {m.name: m for m in MEASURES}
#: the paired comparison table's measures, in its row order
COMPARED: tuple[str, ...] = (
    "throughput_veh_h",
    "queue_delay_mean_s",
    "delay_mean_s",
    "delay_p95_s",
    "queue_mean_veh",
    "queue_p95_veh",
    "queue_max_veh",
    "queue_p95_m",
    "spillback_share",
    "unserved",
    "veh_per_gap",
    "veh_per_platoon",
    *(f"pet_below_{str(x).replace('.', '_')}_s" for x in PET_THRESHOLDS_S),
    "conflicts_per_h",
    "total_delay_veh_h_per_h",
    "person_delay_h_per_h",
    "bay_entry_wait_s",
    "entrance_blocked_share",
    "entrance_blocked_cycle_share",
    "lane_blocked_share",
    "lane_blocked_cycle_share",
)
#: measures of lane 1's state: the same in every row (tables show them once, in ``all``)
APPROACH_WIDE: tuple[str, ...] = (
    "entrance_blocked_share",
    "entrance_blocked_cycle_share",
    "lane_blocked_share",
    "lane_blocked_cycle_share",
)
#: measures that mean something only when the approach's through lanes are modelled
APPROACH_ONLY: tuple[str, ...] = (
    "total_delay_veh_h_per_h",
    "person_delay_h_per_h",
    "bay_entry_wait_s",
    *APPROACH_WIDE,
)
#: measures defined for the U-turn row only (NaN elsewhere; tables may leave them out)
UTURN_ONLY: tuple[str, ...] = (
    *(f"pet_below_{str(x).replace('.', '_')}_s" for x in PET_THRESHOLDS_S),
    "conflicts_per_h",
    "pet_min_s",
    "pet_p5_s",
)
#: the one-run table's measures, in its column order (headers: ``Measure.short``)
RUN_TABLE: tuple[str, ...] = (
    "demand_veh_h",
    "throughput_veh_h",
    "queue_delay_mean_s",
    "delay_mean_s",
    "delay_p95_s",
    "los",
    "queue_mean_veh",
    "queue_p95_veh",
    "queue_max_m",
    "spillback_share",
    "veh_per_gap",
    "veh_per_platoon",
    "unserved",
    "total_delay_veh_h_per_h",
)


def measure(name: str) -> Measure:
    """The declared :class:`Measure` called ``name``.

    Raises
    ------
    KeyError
        Naming the declared measures.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown measure {name!r}; declared: {', '.join(_BY_NAME)}") from None


def measures_markdown() -> str:
    """The README's table of summary measures, generated from :data:`MEASURES`."""
    lines = ["| column | unit | meaning | aggregated over replications |", "|---|---|---|---|"]
    lines += [f"| `{m.name}` | {m.unit} | {m.label} | {m.aggregate} |" for m in MEASURES]
    return "\n".join(lines) + "\n"
