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


def summarize(
    vehicles: pd.DataFrame,
    t0: float,
    t1: float,
    storage_m: float,
    gap_index: np.ndarray | None = None,
    protected: np.ndarray | None = None,
    pet_s: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every declared measure (:data:`~uturn_sim.measures.catalog.MEASURES`) per movement.

    Rows: ``uturn``, ``left`` and ``all`` (the whole lane).

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
    """
    hours = (t1 - t0) / 3600.0
    a = vehicles["arrival_s"].to_numpy()
    d = vehicles["departure_s"].to_numpy()
    control = vehicles["control_delay_s"].to_numpy()
    queue = vehicles["queue_delay_s"].to_numpy()
    platoon = vehicles["platoon"].to_numpy()
    length = vehicles["length_m"].to_numpy()
    spilled = vehicles["spilled"].to_numpy()
    lane_t, lane_m = queue_steps(a, d, length)
    spill_share = _share_above(lane_t, lane_m, storage_m, t0, t1)
    rows = []
    for name in ("uturn", "left", "all"):
        sel = (
            np.ones(len(vehicles), bool)
            if name == "all"
            else (vehicles["movement"] == name).to_numpy()
        )
        in_win = sel & (a >= t0) & (a < t1)
        done = in_win & ~np.isnan(d)
        qt, qn = queue_steps(a[sel], d[sel])
        mt, mm = (lane_t, lane_m) if name == "all" else queue_steps(a[sel], d[sel], length[sel])
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
        )
        rows.append({"movement": name, **{m.name: m.compute(rec) for m in MEASURES}})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
