"""Pure functions from vehicle records to the measures engineers report.

Measured period: vehicles that arrive in ``[t0, t1)`` (after warm-up); queue
statistics are time-weighted over ``[t0, t1)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from uturn_sim.measures.catalog import (
    LOS_SIGNALIZED,
    LOS_UNSIGNALIZED,
    MEASURES,
    ROWS,
    LaneOneRecords,
    MovementRecords,
    level_of_service,
)

__all__ = [
    "LOS_SIGNALIZED",
    "LOS_UNSIGNALIZED",
    "level_of_service",
    "queue_steps",
    "summarize",
    "time_weighted_stats",
]


SUMMARY_COLUMNS = ("movement", *(m.name for m in MEASURES))


def queue_steps(
    arrival_s: np.ndarray, departure_s: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Step function of the number (or ``weight`` sum, e.g. metres) of vehicles in the lane.

    Returns ``(t, level)``: ``level[k]`` holds on ``[t[k], t[k+1])``.  Vehicles with
    NaN departure stay to the end.  A departure recorded before its own arrival
    (a rounding of ``arrival + 0 s`` in the model, about 1e-15 s) is taken at the
    arrival, so the level is never negative.

    Parameters
    ----------
    arrival_s, departure_s
        Per vehicle, arrival and departure times, s (departure NaN: still there).
    weight
        Per vehicle, what it counts for (default 1 vehicle; e.g. its length, m).

    Returns
    -------
    tuple of numpy.ndarray
        Times, s (the first is ``-inf``), and the level from each time on.
    """
    a = np.asarray(arrival_s, dtype=float)
    d = np.asarray(departure_s, dtype=float)
    d = np.where(d < a, a, d)  # NaN compares False and stays NaN
    w = np.ones(len(a)) if weight is None else np.asarray(weight, dtype=float)
    served = ~np.isnan(d)
    t = np.concatenate((a, d[served]))
    dw = np.concatenate((w, -w[served]))
    order = np.argsort(t, kind="stable")
    t, dw = t[order], dw[order]
    level = np.cumsum(dw)
    if len(t) == 0:
        return np.array([-np.inf]), np.array([0.0])
    # keep the last level at each distinct time
    last = np.append(t[1:] != t[:-1], True)
    level = np.round(level[last], 9)
    return np.concatenate(([-np.inf], t[last])), np.concatenate(([0.0], level))


def time_weighted_stats(
    t: np.ndarray, level: np.ndarray, t0: float, t1: float, q: float = 0.95
) -> tuple[float, float, float]:
    """Time-weighted mean, ``q``-quantile and maximum of a step function on ``[t0, t1)``."""
    edges = np.clip(np.append(t, np.inf), t0, t1)
    w = np.diff(edges)
    keep = w > 0
    w, v = w[keep], level[keep]
    if w.sum() <= 0:
        return 0.0, 0.0, 0.0
    mean = float(np.sum(w * v) / np.sum(w))
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order]) / np.sum(w)
    quant = float(v[order][np.searchsorted(cw, q - 1e-12)])
    return mean, quant, float(v.max())


def _share_above(t: np.ndarray, level: np.ndarray, limit: float, t0: float, t1: float) -> float:
    edges = np.clip(np.append(t, np.inf), t0, t1)
    w = np.diff(edges)
    return min(1.0, float(np.sum(w[level > limit + 1e-9]) / (t1 - t0)))  # no rounding above 1


def lane_one_records(
    lane_one: tuple[np.ndarray, np.ndarray] | None,
    t0: float,
    t1: float,
    cycle_s: float,
    origin_s: float = 0.0,
) -> LaneOneRecords:
    """Share of ``[t0, t1)`` and share of signal cycles with through lane 1 in each state.

    ``lane_one`` is ``Result.lane_one`` (``None``: the bay alone, every value NaN).
    Cycles start at ``origin_s + k * cycle_s`` (the caller puts ``origin_s`` at the end
    of the through green, so that a queue formed at the through red and cleared in the
    next green falls in one cycle); only cycles wholly inside ``[t0, t1)`` count, and a
    cycle counts if the state held for some time within it.
    """
    if lane_one is None:
        return LaneOneRecords(np.nan, np.nan, np.nan, np.nan)
    t, state = lane_one
    edges = np.clip(np.append(t, np.inf), t0, t1)
    a, b = edges[:-1], edges[1:]
    k0 = int(np.ceil((t0 - origin_s) / cycle_s - 1e-9))
    k1 = int(np.floor((t1 - origin_s) / cycle_s + 1e-9))  # cycles k0 .. k1 - 1
    n_cycles = max(k1 - k0, 0)
    out = []
    for s in (1, 2):
        on = (state == s) & (b > a)
        share = float(np.sum(b[on] - a[on]) / (t1 - t0))
        first = np.floor((a[on] - origin_s) / cycle_s).astype(np.int64)
        last = np.ceil((b[on] - origin_s) / cycle_s).astype(np.int64) - 1
        cycles = set()
        for f, g in zip(first.tolist(), last.tolist(), strict=True):
            cycles.update(range(max(f, k0), min(g, k1 - 1) + 1))
        out += [min(1.0, share), len(cycles) / n_cycles if n_cycles else np.nan]
    return LaneOneRecords(*out)


def summarize(
    vehicles: pd.DataFrame,
    t0: float,
    t1: float,
    storage_m: float,
    gap_index: np.ndarray | None = None,
    protected: np.ndarray | None = None,
    pet_s: np.ndarray | None = None,
    lane_one: tuple[np.ndarray, np.ndarray] | None = None,
    cycle_s: float = np.nan,
    cycle_origin_s: float = 0.0,
    end_s: float = np.nan,
) -> pd.DataFrame:
    """Every declared measure (:data:`~uturn_sim.measures.catalog.MEASURES`) per movement.

    Rows (:data:`~uturn_sim.measures.catalog.ROWS`): ``uturn``, ``left``, ``through``
    (no vehicles unless the approach's through lanes are modelled) and ``all`` (every
    vehicle of the approach: the bay's, and the through lanes' when modelled).

    Parameters
    ----------
    vehicles
        One row per vehicle, as :attr:`uturn_sim.Result.vehicles`.
    t0, t1
        Measured period, s.
    storage_m
        Left-turn lane storage, m (spillback threshold).
    gap_index
        Per vehicle, the conflict interval its U-turn used (for vehicles per gap).
    protected
        Per vehicle, True if it started inside the protected left-turn green (its
        "gap" is the phase, not counted as an accepted gap).
    pet_s
        Per vehicle, the post-encroachment time of its U-turn, s (NaN: none; see
        :func:`uturn_sim.measures.safety.pet_times`).  The U-turn row's safety
        measures use the U-turns starting in ``[t0, t1)``; without it they are NaN.
    lane_one, cycle_s, cycle_origin_s
        ``Result.lane_one`` and the signal's cycle and a cycle start, s, for the blocking
        measures of through lane 1 (:func:`lane_one_records`; NaN for the bay alone).
        With ``lane_one``, the spillback share is lane 1's share of time blocked by the
        bay's spillback (the bay itself never holds more than its storage).
    end_s
        The run's end, s: vehicles of the period still waiting then are charged their
        delay up to it in the total (and person) delay; NaN charges them nothing.
    """
    hours = (t1 - t0) / 3600.0
    a = vehicles["arrival_s"].to_numpy()
    d = vehicles["departure_s"].to_numpy()
    control = vehicles["control_delay_s"].to_numpy()
    queue = vehicles["queue_delay_s"].to_numpy()
    platoon = vehicles["platoon"].to_numpy()
    length = vehicles["length_m"].to_numpy()
    spilled = vehicles["spilled"].to_numpy()
    movement = vehicles["movement"].to_numpy()
    bay = movement != "through"
    entry_wait = vehicles["bay_entry_s"].to_numpy() - a
    persons = vehicles["occupancy"].to_numpy()
    blocking = lane_one_records(lane_one, t0, t1, cycle_s, cycle_origin_s)
    if lane_one is None:
        lane_t, lane_m = queue_steps(a[bay], d[bay], length[bay])
        spill_share = _share_above(lane_t, lane_m, storage_m, t0, t1)
    else:
        spill_share = blocking.spillback_share
    left_waiting = np.isnan(d) & (a >= t0) & (a < t1)
    charged = np.where(left_waiting, end_s - a, np.nan) if np.isfinite(end_s) else None
    rows = []
    for name in ROWS:
        sel = np.ones(len(vehicles), bool) if name == "all" else movement == name
        in_win = sel & (a >= t0) & (a < t1)
        done = in_win & ~np.isnan(d)
        qt, qn = queue_steps(a[sel], d[sel])
        mt, mm = queue_steps(a[sel], d[sel], length[sel])
        per_gap = per_platoon = np.nan
        in_gap = sel & (vehicles["served_by"] == "gap").to_numpy() & (d >= t0) & (d < t1)
        if in_gap.any():
            per_platoon = in_gap.sum() / len(np.unique(platoon[in_gap]))
        if gap_index is not None:
            used = in_gap if protected is None else in_gap & ~protected
            if used.any():
                per_gap = used.sum() / len(np.unique(gap_index[used]))
        rec = MovementRecords(
            hours=hours,
            arrived=int(in_win.sum()),
            departed=int(done.sum()),
            served_in_period=int(np.sum(sel & (d >= t0) & (d < t1))),
            delay_s=control[done],
            queue_delay_s=queue[done],
            queue_veh=time_weighted_stats(qt, qn, t0, t1),
            queue_m=time_weighted_stats(mt, mm, t0, t1),
            spillback_share=spill_share,
            spilled=int(np.sum(in_win & spilled)),
            veh_per_gap=per_gap,
            veh_per_platoon=per_platoon,
            in_system_end=int(np.sum(sel & np.isnan(d))),
            pet_s=None
            if pet_s is None or name != "uturn"
            else pet_s[sel & (d >= t0) & (d < t1) & ~np.isnan(pet_s)],
            persons=persons[done],
            waiting_delay_s=None if charged is None else charged[sel & left_waiting],
            waiting_persons=persons[sel & left_waiting],
            entry_wait_s=entry_wait[done & bay & ~np.isnan(entry_wait)],
            lane_one=blocking,
        )
        rows.append({"movement": name, **{m.name: m.compute(rec) for m in MEASURES}})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
