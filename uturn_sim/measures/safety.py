"""Safety surrogates of the U-turns: post-encroachment time (PET) at the conflict area.

Pure NumPy/pandas, computed from the records of a run (no SimPy).

Conflict area
    The model has **one conflict point for every conflicting stream**: each
    conflicting vehicle is a point in time, its passage at the conflict area
    (``ArrivalTable.conflict_t``, stream in ``conflict_stream``).  A U-turner
    occupies the area from ``conflict_enter_s`` (start + ``conflict_entry_s``) to
    ``conflict_clear_s`` (start + ``turn_clear_s``), whatever slot it starts from.
    The per-conflict frame keeps the stream of each conflicting vehicle so a later
    per-stream conflict point can be added without changing its layout.

PET
    ``pet_before_s`` = ``conflict_enter_s`` - the last passage at or before it: how
    long the area had been free when the U-turner entered.  ``pet_after_s`` = the
    first passage after ``conflict_enter_s`` - ``conflict_clear_s``: how long after
    the U-turner left the next conflicting vehicle arrived.  A passage *inside*
    ``(conflict_enter_s, conflict_clear_s)`` is an overlap (both in the area at
    once); it makes ``pet_after_s`` negative.  ``pet_s`` = min of the two.

Braking
    With the conflicting vehicle at a constant approach speed, its least time to
    collision with the occupied conflict point is ``pet_after_s`` (reached when the
    U-turner leaves); ``must_brake`` flags ``pet_after_s < brake_ttc_s`` (SSAM's
    TTC filter, 1.5 s) and ``distance_after_m`` is its distance from the point then.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from uturn_sim.model.result import Result

#: times closer than this are one instant (float rounding of the event clock), s
_EPS_S = 1e-9

__all__ = [
    "BRAKE_TTC_S",
    "CONFLICT_COLUMNS",
    "CONFLICT_PET_S",
    "PET_THRESHOLDS_S",
    "TRAJECTORY_COLUMNS",
    "conflicts",
    "pet_by_slot",
    "pet_times",
    "trajectories",
]

#: PET thresholds whose shares are reported, s: serious (Peesapati et al., TRB 13-0839),
#: critical (SSAM's 1.5 s TTC filter), SUMO SSM's 2 s, SSAM's 5 s PET filter
PET_THRESHOLDS_S: tuple[float, ...] = (1.0, 1.5, 2.0, 5.0)
#: a U-turn with PET below this counts as a conflict (conflicts per hour), s
CONFLICT_PET_S = 1.5
#: the later conflicting vehicle must brake if its least TTC is below this, s (SSAM)
BRAKE_TTC_S = 1.5

CONFLICT_COLUMNS = {
    "scheme": "scheme name",
    "uturn_id": "the U-turner's vehicle id (Result.vehicles 'id')",
    "start_s": "start of its U-turn, s from the run start",
    "conflict_enter_s": "enters the conflict area (start + conflict_entry_s), s",
    "conflict_clear_s": "leaves the conflict area (start + turn_clear_s), s",
    "served_by": "'gap' (accepted gap or lag) or 'green' (protected phase)",
    "slot": "linked: the slot it started from (0: stop line / none)",
    "platoon": "U-turns in gaps: its platoon number (-1: none)",
    "platoon_place": "place in its platoon, 1 = first (0: none)",
    "critical_gap_s": "the driver's critical gap, s",
    "gap_s": "the conflicting gap its start lies in (next - previous passage), s (inf: open)",
    "lag_s": "time from its start to the next conflicting passage, s",
    "before_index": "index into Result.arrivals.conflict_t of the conflicting vehicle "
    "before it (-1: none)",
    "before_stream": "stream of that vehicle (opposing_through, cross_right, cross_left)",
    "before_t_s": "its passage time at the conflict area, s",
    "after_index": "index of the conflicting vehicle after it (-1: none)",
    "after_stream": "stream of that vehicle",
    "after_t_s": "its passage time at the conflict area, s",
    "pet_before_s": "conflict_enter_s - before_t_s, s",
    "pet_after_s": "after_t_s - conflict_clear_s, s (< 0: it passed while the U-turner was "
    "in the area)",
    "pet_s": "min(pet_before_s, pet_after_s), s",
    "distance_after_m": "the later vehicle's distance from the conflict point when the "
    "U-turner leaves, at the approach speed, m",
    "must_brake": "pet_after_s < 1.5 s: the later vehicle's least TTC is below SSAM's filter",
}

TRAJECTORY_COLUMNS = {
    "t_s": "time, s from the run start (a multiple of dt_s)",
    "vehicle": "'u<id>' for a studied U-turner (Result.vehicles id), 'c<index>' for a "
    "conflicting vehicle (index into Result.arrivals.conflict_t)",
    "role": "'uturn' or 'conflicting'",
    "stream": "'uturn' or the conflicting stream",
    "station_m": "distance along the vehicle's own path from the conflict point, m "
    "(negative: before it)",
    "speed_m_s": "speed along the path, m/s",
    "in_conflict_area": "True while it occupies the conflict area (a conflicting vehicle "
    "only at its passage instant, never on the grid)",
}


def _streams() -> tuple[str, ...]:
    from uturn_sim.scenario.model import CONFLICTING

    return CONFLICTING


def pet_times(
    enter_s: np.ndarray, clear_s: np.ndarray, passages_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PET before and after each U-turn against sorted conflicting passages.

    Parameters
    ----------
    enter_s, clear_s
        Per U-turn, when it enters and leaves the conflict area, s (NaN: no turn).
    passages_s
        Sorted passage times of the conflicting vehicles at the conflict area, s.

    Passages within 1 ns of ``enter_s`` count as before it (clock rounding).

    Returns
    -------
    tuple of numpy.ndarray
        ``pet_before_s``, ``pet_after_s`` (s; NaN where there is no such vehicle or
        no turn), and the indices into ``passages_s`` of the vehicle before and
        after (-1: none).
    """
    e = np.asarray(enter_s, dtype=float)
    c = np.asarray(clear_s, dtype=float)
    p = np.asarray(passages_s, dtype=float)
    ok = ~np.isnan(e)
    after = np.full(len(e), -1, dtype=np.int64)
    after[ok] = np.searchsorted(p, e[ok] + _EPS_S, side="right")  # first passage > enter
    before = np.where(ok, after - 1, -1)
    after = np.where(ok & (after < len(p)), after, -1)
    pad = np.append(p, np.nan)  # index -1 reads NaN
    pet_before = np.where(before >= 0, e - pad[before], np.nan)
    pet_after = np.where(after >= 0, pad[after] - c, np.nan)
    return pet_before, pet_after, before, after


def conflicts(res: Result, brake_ttc_s: float = BRAKE_TTC_S) -> pd.DataFrame:
    """One row per U-turn that started: its conflicting vehicles and PETs.

    Parameters
    ----------
    res
        A result of :func:`uturn_sim.simulate`.
    brake_ttc_s
        ``must_brake`` threshold on the later vehicle's least TTC (= ``pet_after_s``), s.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONFLICT_COLUMNS`, sorted by start time.
    """
    v = res.vehicles
    u = v[(v["movement"] == "uturn") & v["departure_s"].notna()].sort_values(
        "departure_s", kind="stable"
    )
    p = res.arrivals.conflict_t
    names = np.array([*_streams(), ""], dtype=object)
    stream = np.append(res.arrivals.conflict_stream.astype(np.int64), -1)  # -1 reads ""
    e = u["conflict_enter_s"].to_numpy(float)
    c = u["conflict_clear_s"].to_numpy(float)
    start = u["departure_s"].to_numpy(float)
    pb, pa, ib, ia = pet_times(e, c, p)
    nxt = np.searchsorted(p, start + _EPS_S, side="right")  # first passage after the start
    pad = np.concatenate(([-np.inf], p, [np.inf]))
    prev_t, next_t = pad[nxt], pad[nxt + 1]
    speed = res.scenario.behaviour.approach_speed_m_s
    return pd.DataFrame(
        {
            "scheme": res.scheme,
            "uturn_id": u["id"].to_numpy(),
            "start_s": start,
            "conflict_enter_s": e,
            "conflict_clear_s": c,
            "served_by": u["served_by"].to_numpy(),
            "slot": u["slot"].to_numpy(),
            "platoon": u["platoon"].to_numpy(),
            "platoon_place": u["platoon_place"].to_numpy(),
            "critical_gap_s": u["critical_gap_s"].to_numpy(),
            "gap_s": next_t - prev_t,
            "lag_s": next_t - start,
            "before_index": ib,
            "before_stream": names[stream[ib]],
            "before_t_s": np.where(ib >= 0, e - pb, np.nan),
            "after_index": ia,
            "after_stream": names[stream[ia]],
            "after_t_s": np.where(ia >= 0, c + pa, np.nan),
            "pet_before_s": pb,
            "pet_after_s": pa,
            "pet_s": np.fmin(pb, pa),
            "distance_after_m": pa * speed,
            "must_brake": np.nan_to_num(pa, nan=np.inf) < brake_ttc_s,
        },
        columns=list(CONFLICT_COLUMNS),
    )


def pet_by_slot(results: Iterable[Result], t0: float | None = None) -> pd.DataFrame:
    """Minimum and 5th-percentile PET by scheme and slot position, pooled over results.

    Parameters
    ----------
    results
        Results (any schemes, any replications); each U-turn counts once.
    t0
        Count only U-turns starting at or after ``t0`` s and before the end of the
        measured period; default: each result's measured period.

    Returns
    -------
    pandas.DataFrame
        Columns ``scheme``, ``slot`` (0: the stop line of a lane without slots),
        ``uturns``, ``pet_min_s``, ``pet_p5_s`` (s) and ``share_below_1_5_s``.
    """
    frames = []
    for res in results:
        f = conflicts(res)
        lo, hi = res.window
        lo = lo if t0 is None else t0
        frames.append(f[(f["start_s"] >= lo) & (f["start_s"] < hi)])
    if not frames:
        return pd.DataFrame(
            columns=["scheme", "slot", "uturns", "pet_min_s", "pet_p5_s", "share_below_1_5_s"]
        )
    allf = pd.concat(frames, ignore_index=True).dropna(subset=["pet_s"])
    g = allf.groupby(["scheme", "slot"], sort=False)["pet_s"]
    out = g.agg(
        uturns="size",
        pet_min_s="min",
        pet_p5_s=lambda x: float(np.percentile(x, 5)),
        share_below_1_5_s=lambda x: float(np.mean(x < CONFLICT_PET_S)),
    ).reset_index()
    return out.sort_values(["scheme", "slot"], kind="stable").reset_index(drop=True)


def _uturn_station(t: np.ndarray, accel: float, vmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) and speed (m/s) ``t`` s after a standing start: accelerate to ``vmax``."""
    t = np.maximum(t, 0.0)
    t_ramp = vmax / accel
    x = np.where(t <= t_ramp, accel * t * t / 2, vmax * vmax / (2 * accel) + vmax * (t - t_ramp))
    return x, np.minimum(accel * t, vmax)


def trajectories(res: Result, dt_s: float = 0.5, around_s: float = 3.0) -> pd.DataFrame:
    """Positions of the U-turners and conflicting vehicles on a common time grid.

    Layout: :data:`TRAJECTORY_COLUMNS`, one row per vehicle and grid time, each
    vehicle on its own path with the conflict point at station 0 (for surrogate
    tools that take per-step positions; join vehicles on ``t_s``).

    Assumptions (the model's own, nothing more):

    * A U-turner starts from standstill at ``departure_s`` and accelerates at
      ``behaviour.accel_m_s2`` to ``behaviour.uturn_speed_m_s``; its station 0 is
      where it is ``conflict_entry_s`` after the start and it leaves the area where it
      is ``turn_clear_s`` after the start.  Every slot gets the same turn times (as
      the model does).  Rows run from the start to ``around_s`` after it clears.
    * A conflicting vehicle runs at the constant ``behaviour.approach_speed_m_s``
      through the conflict point at its passage time (no braking is modelled); rows
      run ``around_s`` before to ``around_s`` after that passage.

    Parameters
    ----------
    res
        A result of :func:`uturn_sim.simulate`.
    dt_s
        Grid step, s.
    around_s
        Time kept before and after the conflict area, s.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``t_s`` then ``vehicle``.
    """
    b = res.scenario.behaviour
    v = res.vehicles
    u = v[(v["movement"] == "uturn") & v["departure_s"].notna()]
    x_enter, _ = _uturn_station(np.array([b.conflict_entry_s]), b.accel_m_s2, b.uturn_speed_m_s)
    parts = []
    for vid, s0 in zip(u["id"].to_numpy(), u["departure_s"].to_numpy(float), strict=True):
        t = np.arange(np.ceil(s0 / dt_s), np.floor((s0 + b.turn_clear_s + around_s) / dt_s) + 1)
        t = t * dt_s
        x, sp = _uturn_station(t - s0, b.accel_m_s2, b.uturn_speed_m_s)
        inside = (t >= s0 + b.conflict_entry_s) & (t < s0 + b.turn_clear_s)
        parts.append(
            pd.DataFrame(
                {
                    "t_s": t,
                    "vehicle": f"u{vid}",
                    "role": "uturn",
                    "stream": "uturn",
                    "station_m": x - x_enter[0],
                    "speed_m_s": sp,
                    "in_conflict_area": inside,
                }
            )
        )
    p = res.arrivals.conflict_t
    names = np.array(_streams(), dtype=object)
    steps = np.arange(-np.floor(around_s / dt_s) - 1, np.floor(around_s / dt_s) + 2)
    k = np.repeat(np.arange(len(p)), len(steps))
    t = (np.floor(p[k] / dt_s) + np.tile(steps, len(p))) * dt_s
    keep = np.abs(t - p[k]) <= around_s
    k, t = k[keep], t[keep]
    speed = b.approach_speed_m_s
    parts.append(
        pd.DataFrame(
            {
                "t_s": t,
                "vehicle": np.char.add("c", k.astype(str)),
                "role": "conflicting",
                "stream": names[res.arrivals.conflict_stream[k].astype(np.int64)],
                "station_m": (t - p[k]) * speed,
                "speed_m_s": speed,
                "in_conflict_area": False,
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)[list(TRAJECTORY_COLUMNS)]
    return out.sort_values(["t_s", "vehicle"], kind="stable").reset_index(drop=True)
