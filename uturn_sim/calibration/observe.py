"""What a camera would record: observation tables from simulated records, or synthesized.

* :func:`observe_gaps` and :func:`observe_follow_up` read the ordinary lane's
  per-vehicle records of :func:`uturn_sim.simulate` (with U-turns in any safe
  gap) and the conflicting passages of its arrival table.
* :func:`observe_counts` counts arrivals and conflicting passages per interval.
* :func:`synthetic_slot_events` and :func:`synthetic_discharge` *synthesize*
  tables from a stated kinematic model, because the simulation does not record
  slot events (stopped in slot n, started to move, cleared the slot) or
  stop-line discharge per cycle yet.

Every table has the columns of :mod:`uturn_sim.calibration.observations`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CLEAN_AFTER_S",
    "observe_counts",
    "observe_follow_up",
    "observe_gaps",
    "synthetic_discharge",
    "synthetic_slot_events",
    "travel_time_s",
]

CLEAN_AFTER_S = 10.0
"""A U-turner is observed only if the vehicle ahead started at least this long (s)
before it reached the stop line: then nothing but the conflicting stream holds it
back (the follow-up headway, at most 10 s in a scenario, is over)."""


def _measured(res: Any) -> tuple[float, float]:
    sim = res.scenario.simulation
    return sim.warmup_s, sim.warmup_s + sim.duration_s


def observe_gaps(res: Any, clean_after_s: float = CLEAN_AFTER_S) -> pd.DataFrame:
    """Gap acceptance table of the U-turners a camera could use, from one simulated run.

    For a U-turner that reached the stop line at ``r`` (s) and started its turn at
    ``s``: it can act a reaction time ``rt`` after it stops, so the offered lag is
    (first conflicting passage after ``r``) - (``r + rt``) (not offered if that
    passage comes during the reaction), then each gap between successive passages up
    to the one it started in; the accepted one is the lag if ``s == r + rt``, else
    the gap opened at ``s``.  Only
    drivers offered gaps cleanly are kept: served in a gap, reached the stop line
    in the measured period, and the previous vehicle started at least
    ``clean_after_s`` before ``r`` (so no follow-up headway delayed its readiness).

    Parameters
    ----------
    res
        A :class:`uturn_sim.Result` of the ordinary scheme with
        ``ordinary.uturn_when: any_safe_gap``.
    clean_after_s
        Rule above, s.

    Returns
    -------
    pandas.DataFrame
        Columns ``driver``, ``offered_s``, ``kind`` (``lag``/``gap``), ``accepted`` (0/1).
    """
    v = res.vehicles
    p = np.asarray(res.arrivals.conflict_t, dtype=float)
    dep_all = np.sort(v["departure_s"].dropna().to_numpy())
    t0, t1 = _measured(res)
    u = v[(v["movement"] == "uturn") & (v["served_by"] == "gap")]
    r = u["reached_s"].to_numpy(dtype=float)
    s = u["departure_s"].to_numpy(dtype=float)
    # the vehicle ahead leaves at (or before) r; with no reaction time a driver accepting
    # the lag leaves at r itself and must not count as its own predecessor
    k = np.searchsorted(dep_all, r, side="right") - (s <= r)
    prev = np.where(k > 0, dep_all[np.maximum(k - 1, 0)], -np.inf)
    keep = (r - prev >= clean_after_s) & (r >= t0) & (r < t1)
    rt = res.scenario.behaviour.reaction_time_s
    rows: list[tuple[int, float, str, int]] = []
    for drv, ri, si in zip(u["id"].to_numpy()[keep], r[keep], s[keep], strict=True):
        i = int(np.searchsorted(p, ri, side="left"))
        lag = p[i] - (ri + rt)
        if abs(si - (ri + rt)) < 1e-9:
            rows.append((int(drv), float(lag), "lag", 1))
            continue
        j = int(np.searchsorted(p, si, side="right")) - 1  # accepted gap opens at p[j] == si
        if lag > 0:
            rows.append((int(drv), float(lag), "lag", 0))
        gaps = np.diff(p[i : j + 2])
        rows.extend(
            (int(drv), float(g), "gap", int(q == len(gaps) - 1)) for q, g in enumerate(gaps)
        )
    return pd.DataFrame(rows, columns=["driver", "offered_s", "kind", "accepted"])


def observe_follow_up(res: Any) -> pd.DataFrame:
    """Starts of queued U-turners entering one gap, from one simulated ordinary run.

    A follower is kept if it arrived before its leader started and both started
    in the same gap (no conflicting passage between their starts), in the
    measured period.

    Returns
    -------
    pandas.DataFrame
        Columns ``gap`` (id of the gap), ``driver`` and ``start_s`` (s), each gap's
        starts in order, the first row of a gap being the leader.
    """
    v = res.vehicles
    p = np.asarray(res.arrivals.conflict_t, dtype=float)
    t0, t1 = _measured(res)
    u = v[v["departure_s"].between(t0, t1)].sort_values("departure_s")
    s = u["departure_s"].to_numpy(dtype=float)
    arr = u["arrival_s"].to_numpy(dtype=float)
    in_gap = (u["served_by"] == "gap").to_numpy() & (u["movement"] == "uturn").to_numpy()
    gap_id = np.searchsorted(p, s, side="right")
    follower = np.zeros(len(s), dtype=bool)
    follower[1:] = (gap_id[1:] == gap_id[:-1]) & (arr[1:] < s[:-1]) & in_gap[1:] & in_gap[:-1]
    keep = follower.copy()
    keep[:-1] |= follower[1:]
    out = pd.DataFrame({"gap": gap_id, "driver": u["id"].to_numpy(), "start_s": s})[keep]
    # a chain breaks where a non-queued vehicle starts in the same gap: renumber chains
    chain = np.cumsum(~follower[keep])
    out["gap"] = chain
    return out.reset_index(drop=True)


def observe_counts(res: Any, interval_s: float = 900.0) -> pd.DataFrame:
    """Counts per movement and interval over the measured period of one run.

    Studied movements are counted at arrival, conflicting streams at their
    passage through the conflict area.

    Parameters
    ----------
    res
        A :class:`uturn_sim.Result` (or anything with ``scenario``, ``vehicles`` and
        ``arrivals``).
    interval_s
        Counting interval, s; the measured period must be a whole number of them.

    Returns
    -------
    pandas.DataFrame
        Columns ``movement``, ``interval_start_s`` (s from the start of the
        measured period), ``interval_s`` and ``count``.
    """
    from uturn_sim.scenario.demand import CONFLICTING

    t0, t1 = _measured(res)
    n_int = round((t1 - t0) / interval_s)
    if not np.isclose(n_int * interval_s, t1 - t0):
        raise ValueError("the measured period must be a whole number of intervals")
    edges = t0 + interval_s * np.arange(n_int + 1)
    v = res.vehicles
    times = {m: v.loc[v["movement"] == m, "arrival_s"].to_numpy() for m in ("uturn", "left")}
    arr = res.arrivals
    for k, name in enumerate(CONFLICTING):
        times[name] = np.asarray(arr.conflict_t)[np.asarray(arr.conflict_stream) == k]
    rows = []
    for m, t in times.items():
        c, _ = np.histogram(t, bins=edges)
        rows += [
            (m, float(e - t0), float(interval_s), int(x))
            for e, x in zip(edges[:-1], c, strict=True)
        ]
    return pd.DataFrame(rows, columns=["movement", "interval_start_s", "interval_s", "count"])


def travel_time_s(length_m: float, accel_m_s2: float, decel_m_s2: float, speed_m_s: float) -> float:
    """Time to cover ``length_m`` from standstill to standstill, s.

    Accelerate at ``accel_m_s2`` up to at most ``speed_m_s`` (the creep speed
    cap), cruise, brake at ``decel_m_s2``: a trapezoidal (or, short, triangular)
    speed profile.
    """
    a, d, v, L = accel_m_s2, decel_m_s2, speed_m_s, length_m
    if v * v * (0.5 / a + 0.5 / d) >= L:  # never reaches the cap
        return float(np.sqrt(2.0 * L * (1.0 / a + 1.0 / d)))
    return float(L / v + 0.5 * v / a + 0.5 * v / d)


def _gamma(rng: np.random.Generator, mean: float, cv: float, size: int | tuple) -> np.ndarray:
    k = 1.0 / (cv * cv)
    return rng.gamma(k, mean / k, size)


def synthetic_slot_events(
    rng: np.random.Generator,
    *,
    platoons: int,
    slots: int = 4,
    slot_length_m: float = 7.5,
    start_lag_s: float = 1.8,
    reaction_s: float = 1.0,
    accel_m_s2: float = 2.0,
    decel_m_s2: float = 2.5,
    speed_m_s: float = 3.0,
    slot_hold_s: float = 2.0,
    turn_clear_s: float = 5.5,
    cv: float = 0.3,
    noise_s: float = 0.1,
) -> pd.DataFrame:
    """Slot events synthesized from the kinematic slot model (not from the simulation).

    Each platoon: ``m`` cars (1..``slots``, uniform) stand in slots 1..m when a
    gap opens; they start their turns one start lag apart (gamma, mean
    ``start_lag_s``, coefficient of variation ``cv``); each keeps its slot for a
    slot hold (gamma, mean ``slot_hold_s``) and clears the conflict area a
    turn-clear time (gamma, mean ``turn_clear_s``) after starting.  If ``m <
    slots`` a follower stands in slot m + 1: one reaction time (gamma, mean
    ``reaction_s``) after slot m is cleared it starts, covers ``slot_length_m``
    with a trapezoidal speed profile (the same for every driver: accelerate at
    ``accel_m_s2`` up to ``speed_m_s``, brake at ``decel_m_s2``) and stops in slot
    m, clearing slot m + 1 as it stops.  Every recorded time gets independent
    Gaussian annotation noise (sd ``noise_s``).

    Parameters
    ----------
    rng
        Random generator.
    platoons
        Number of gaps used by slot cars.
    slots
        Number of slots.
    slot_length_m
        Slot length, m.
    start_lag_s, reaction_s, slot_hold_s, turn_clear_s
        Means of the driver-level times, s.
    accel_m_s2, decel_m_s2
        Move-up acceleration and deceleration, m/s2.
    speed_m_s
        Creep speed cap while moving up, m/s.
    cv
        Coefficient of variation of the gamma-distributed times.
    noise_s
        Annotation noise, s.

    Returns
    -------
    pandas.DataFrame
        Columns of the slot events format: ``car``, ``platoon``, ``slot``,
        ``stopped_s``, ``moved_s``, ``cleared_s``, ``turned``, ``left_conflict_s``
        (times in s; empty where not observed).
    """
    travel = travel_time_s(slot_length_m, accel_m_s2, decel_m_s2, speed_m_s)
    m = rng.integers(1, slots + 1, platoons)
    n_turn = int(m.sum())
    pl_t = np.repeat(np.arange(platoons), m)
    first = np.concatenate(([0], np.cumsum(m)[:-1]))
    slot_t = np.arange(n_turn) - np.repeat(first, m) + 1
    lags = np.where(slot_t == 1, 0.0, _gamma(rng, start_lag_s, cv, n_turn))
    t_open = np.cumsum(rng.uniform(60.0, 120.0, platoons))
    starts = t_open[pl_t] + _cumsum_by(lags, pl_t)
    cleared = starts + _gamma(rng, slot_hold_s, cv, n_turn)
    turners = pd.DataFrame(
        {
            "platoon": pl_t,
            "slot": slot_t,
            "stopped_s": t_open[pl_t] - 20.0,
            "moved_s": starts,
            "cleared_s": cleared,
            "turned": 1,
            "left_conflict_s": starts + _gamma(rng, turn_clear_s, cv, n_turn),
        }
    )
    pm = np.flatnonzero(m < slots)  # platoons with a follower behind them
    last = first[pm] + m[pm] - 1  # the turner in the slot the follower moves into
    moved = cleared[last] + _gamma(rng, reaction_s, cv, len(pm))
    follow = pd.DataFrame(
        {
            "platoon": pm,
            "slot": m[pm] + 1,
            "stopped_s": t_open[pm] - 10.0,
            "moved_s": moved,
            "cleared_s": moved + travel,
            "turned": 0,
            "left_conflict_s": np.nan,
        }
    )
    arrived = follow.assign(slot=m[pm], stopped_s=moved + travel, moved_s=np.nan, cleared_s=np.nan)
    out = pd.concat([turners, follow, arrived], ignore_index=True)
    car = np.arange(len(out))
    car[len(turners) + len(pm) :] = car[len(turners) : len(turners) + len(pm)]
    out.insert(0, "car", car)
    out = out.sort_values(["platoon", "slot", "car"], kind="stable").reset_index(drop=True)
    for c in ("stopped_s", "moved_s", "cleared_s", "left_conflict_s"):
        out[c] = out[c] + rng.normal(0.0, noise_s, len(out))
    return out


def _cumsum_by(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``x`` restarting at each new value of sorted ``group``."""
    c = np.cumsum(x)
    start = np.flatnonzero(np.diff(group, prepend=-1))
    base = np.repeat(c[start] - x[start], np.diff(np.append(start, len(x))))
    return c - base


def synthetic_discharge(
    rng: np.random.Generator,
    *,
    cycles: int,
    queue: tuple[int, int] = (6, 12),
    headway_s: float = 2.0,
    lost_s: float = 2.0,
    cv: float = 0.2,
    cycle_s: float = 130.0,
) -> pd.DataFrame:
    """Stop-line discharge synthesized as HCM describes it (not from the simulation).

    Each cycle discharges ``queue`` cars (uniform integer range); the i-th starts
    at green start + i x ``headway_s`` + the i-th share of the start-up lost time
    ``lost_s`` (shares 0.4, 0.3, 0.2, 0.1 over the first four, cumulated), each
    headway with gamma noise (coefficient of variation ``cv``) of mean zero.

    Returns
    -------
    pandas.DataFrame
        Columns ``cycle``, ``green_start_s``, ``position`` (1 = first) and ``start_s`` (s).
    """
    extra = lost_s * np.array([0.4, 0.3, 0.2, 0.1])
    rows = []
    for c in range(cycles):
        k = int(rng.integers(queue[0], queue[1] + 1))
        add = np.zeros(k)
        add[: min(4, k)] = extra[: min(4, k)]
        h = (headway_s + add) * _gamma(rng, 1.0, cv, k)
        g0 = c * cycle_s
        rows += [(c, g0, i + 1, g0 + t) for i, t in enumerate(np.cumsum(h))]
    return pd.DataFrame(rows, columns=["cycle", "green_start_s", "position", "start_s"])
