"""Pure functions from vehicle records to the measures engineers report.

Measured period: vehicles that arrive in ``[t0, t1)`` (after warm-up); queue
statistics are time-weighted over ``[t0, t1)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "LOS_SIGNALIZED",
    "LOS_UNSIGNALIZED",
    "level_of_service",
    "queue_steps",
    "summarize",
    "time_weighted_stats",
]

# HCM control-delay thresholds, s/veh: upper bound of A, B, C, D, E (F above)
LOS_SIGNALIZED = (10.0, 20.0, 35.0, 55.0, 80.0)
LOS_UNSIGNALIZED = (10.0, 15.0, 25.0, 35.0, 50.0)

SUMMARY_COLUMNS = (
    "movement",
    "demand_veh_h",
    "arrived",
    "departed",
    "throughput_veh_h",
    "unserved",
    "delay_mean_s",
    "delay_median_s",
    "delay_p95_s",
    "los",
    "los_unsignalized",
    "queue_mean_veh",
    "queue_p95_veh",
    "queue_max_veh",
    "queue_mean_m",
    "queue_p95_m",
    "queue_max_m",
    "spillback_share",
    "spilled_vehicles",
    "veh_per_gap",
    "in_system_end",
    "oversaturated",
)


def level_of_service(delay_s: float, thresholds: tuple[float, ...] = LOS_SIGNALIZED) -> str:
    """HCM level of service letter for a mean control delay (s/veh); '-' for NaN."""
    if not np.isfinite(delay_s):
        return "-"
    return "ABCDEF"[int(np.searchsorted(np.asarray(thresholds), delay_s, side="left"))]


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
) -> pd.DataFrame:
    """Measures per movement (``uturn``, ``left``, and ``all`` for the whole lane).

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
    """
    hours = (t1 - t0) / 3600.0
    a = vehicles["arrival_s"].to_numpy()
    d = vehicles["departure_s"].to_numpy()
    length = vehicles["length_m"].to_numpy()
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
        delay = (d - a)[done]
        qt, qn = queue_steps(a[sel], d[sel])
        mt, mm = (lane_t, lane_m) if name == "all" else queue_steps(a[sel], d[sel], length[sel])
        qn_stats = time_weighted_stats(qt, qn, t0, t1)
        qm_stats = time_weighted_stats(mt, mm, t0, t1)
        per_gap = np.nan
        if gap_index is not None:
            used = sel & (vehicles["served_by"] == "gap").to_numpy() & (d >= t0) & (d < t1)
            if used.any():
                per_gap = used.sum() / len(np.unique(gap_index[used]))
        mean_delay = float(delay.mean()) if delay.size else np.nan
        unserved = int(in_win.sum() - done.sum())
        rows.append(
            {
                "movement": name,
                "demand_veh_h": in_win.sum() / hours,
                "arrived": int(in_win.sum()),
                "departed": int(done.sum()),
                "throughput_veh_h": int(np.sum(sel & (d >= t0) & (d < t1))) / hours,
                "unserved": unserved,
                "delay_mean_s": mean_delay,
                "delay_median_s": float(np.median(delay)) if delay.size else np.nan,
                "delay_p95_s": float(np.percentile(delay, 95)) if delay.size else np.nan,
                "los": level_of_service(mean_delay),
                "los_unsignalized": level_of_service(mean_delay, LOS_UNSIGNALIZED),
                "queue_mean_veh": qn_stats[0],
                "queue_p95_veh": qn_stats[1],
                "queue_max_veh": qn_stats[2],
                "queue_mean_m": qm_stats[0],
                "queue_p95_m": qm_stats[1],
                "queue_max_m": qm_stats[2],
                "spillback_share": spill_share,
                "spilled_vehicles": int(np.sum(in_win & vehicles["spilled"].to_numpy())),
                "veh_per_gap": per_gap,
                "in_system_end": int(np.sum(sel & np.isnan(d))),
                "oversaturated": unserved > 0,
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
