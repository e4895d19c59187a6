"""Estimators of the scenario's behaviour, signal and demand fields from observation tables.

Each returns :class:`~uturn_sim.calibration.estimate.Estimate` objects (value, 95%
CI, sample size, method).  Tables have the columns documented in
:mod:`uturn_sim.calibration.observations`; the critical gap estimators are in
:mod:`uturn_sim.calibration.gaps`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from uturn_sim.calibration.estimate import Estimate, mean_estimate, too_few
from uturn_sim.calibration.observe import travel_time_s

__all__ = [
    "DemandFit",
    "MoveUpFit",
    "demand",
    "follow_up_headway",
    "gap_pairs",
    "move_up",
    "saturation_discharge",
    "slot_times",
    "start_lag",
]

MIN_HEADWAYS = 5
"""Fewest headways (or event times) a mean is estimated from."""
MIN_CYCLES = 5
"""Fewest discharge cycles with at least 5 queued vehicles (HCM method)."""


def gap_pairs(gaps: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per driver: largest rejected gap (0 s if none) and accepted gap, s.

    Parameters
    ----------
    gaps
        Gap acceptance table (``driver``, ``offered_s``, ``accepted``).
    """
    acc = gaps[gaps["accepted"] == 1].set_index("driver")["offered_s"]
    rej = gaps[gaps["accepted"] == 0].groupby("driver")["offered_s"].max()
    rej = rej.reindex(acc.index).fillna(0.0)
    return rej.to_numpy(dtype=float), acc.to_numpy(dtype=float)


def follow_up_headway(starts: pd.DataFrame) -> Estimate:
    """Follow-up headway: mean time between successive starts of queued drivers in one gap, s.

    Parameters
    ----------
    starts
        Follow-up table (``gap``, ``start_s``), a gap's rows in order of start.
    """
    h = starts.groupby("gap", sort=False)["start_s"].diff().dropna().to_numpy()
    return mean_estimate(h, "mean of successive starts in one gap", need=MIN_HEADWAYS)


def start_lag(events: pd.DataFrame) -> Estimate:
    """Start lag: mean time between successive turn starts of cars standing in slots, s.

    Within a platoon (cars turning in the same gap), a pair counts if the follower
    was standing in its slot before the leader started to turn.

    Parameters
    ----------
    events
        Slot events table.
    """
    t = events[events["turned"] == 1].sort_values(["platoon", "moved_s"])
    same = t["platoon"].to_numpy()[1:] == t["platoon"].to_numpy()[:-1]
    standing = t["stopped_s"].to_numpy()[1:] <= t["moved_s"].to_numpy()[:-1]
    lag = np.diff(t["moved_s"].to_numpy())[same & standing]
    return mean_estimate(lag, "mean start lag of standing slot cars", need=MIN_HEADWAYS)


def slot_times(events: pd.DataFrame) -> dict[str, Estimate]:
    """Slot hold and turn-clear times of U-turning slot cars, s.

    ``slot_hold_s``: from starting the turn to clearing the slot; ``turn_clear_s``:
    from starting the turn to leaving the conflict area (rows with
    ``left_conflict_s``).

    Parameters
    ----------
    events
        Slot events table.
    """
    t = events[events["turned"] == 1]
    out = {"slot_hold_s": mean_estimate(t["cleared_s"] - t["moved_s"], "mean slot hold")}
    c = (t["left_conflict_s"] - t["moved_s"]).dropna()
    if len(c):
        out["turn_clear_s"] = mean_estimate(c, "mean start-to-clear of the conflict area")
    return out


@dataclass(frozen=True)
class MoveUpFit:
    """Reaction and move-up of a car advancing one slot.

    Attributes
    ----------
    reaction : Estimate
        Slot ahead cleared -> the car starts to move, s.
    travel : Estimate
        Starts to move -> stopped in the next slot, s.
    accel : Estimate or None
        Acceleration (m/s2) that gives the mean travel time over one slot length
        with the given deceleration ratio and speed cap (None if no speed can
        reach it).
    per_slot : pandas.DataFrame
        ``slot`` (the slot moved into), ``n``, ``reaction_s``, ``travel_s`` (means).
    """

    reaction: Estimate
    travel: Estimate
    accel: Estimate | None
    per_slot: pd.DataFrame


def move_up(
    events: pd.DataFrame,
    slot_length_m: float,
    decel_ratio: float,
    speed_m_s: float,
) -> MoveUpFit:
    """Reaction time and move-up travel time per slot; the acceleration they imply.

    A move-up is a row with ``turned == 0`` (a car leaving slot n + 1 for slot n);
    its reaction is its ``moved_s`` minus the latest ``cleared_s`` of slot n in the
    same platoon, its travel time the ``stopped_s`` of the same car in slot n
    minus its ``moved_s``.  The acceleration ``a`` solves ``travel(L; a,
    decel_ratio x a, speed_m_s) = mean travel`` (trapezoidal speed profile); its
    interval maps the travel-time interval through that monotone relation.

    Parameters
    ----------
    events
        Slot events table.
    slot_length_m
        Distance moved, m.
    decel_ratio
        Deceleration / acceleration (assumed, from the base scenario).
    speed_m_s
        Creep speed cap (assumed, from the base scenario), m/s.
    """
    cols = ["car", "platoon", "slot", "moved_s"]
    moves = events.loc[events["turned"] == 0, cols].assign(into=lambda m: m["slot"] - 1)
    ahead = events[["car", "platoon", "slot", "cleared_s", "stopped_s"]]
    m = moves.merge(ahead, left_on=["platoon", "into"], right_on=["platoon", "slot"])
    m = m[m["car_x"] != m["car_y"]]
    m = m[m["cleared_s"] <= m["moved_s"]]
    freed = m.groupby(["car_x", "into"])["cleared_s"].max().rename("freed_s")
    arrived = moves.merge(ahead, left_on=["car", "into"], right_on=["car", "slot"])
    arrived = arrived.set_index(["car", "into"])["stopped_s"].rename("stopped_s")
    both = pd.concat([freed.rename_axis(["car", "into"]), arrived], axis=1, join="inner")
    both = both.join(moves.set_index(["car", "into"])["moved_s"]).reset_index()
    react = (both["moved_s"] - both["freed_s"]).to_numpy()
    travel = (both["stopped_s"] - both["moved_s"]).to_numpy()
    slot = both["into"].to_numpy()
    per = pd.DataFrame({"slot": slot, "reaction_s": react, "travel_s": travel})
    per_slot = per.groupby("slot").agg(
        n=("reaction_s", "size"), reaction_s=("reaction_s", "mean"), travel_s=("travel_s", "mean")
    )
    r = mean_estimate(np.array(react), "mean reaction to the slot ahead clearing")
    t = mean_estimate(np.array(travel), "mean move-up time over one slot")
    acc = _accel_from_travel(t, slot_length_m, decel_ratio, speed_m_s)
    return MoveUpFit(r, t, acc, per_slot.reset_index())


def _accel_from_travel(t: Estimate, length_m: float, ratio: float, v: float) -> Estimate | None:
    def solve(target: float) -> float:
        def f(a: float) -> float:
            return travel_time_s(length_m, a, ratio * a, v) - target

        lo, hi = 1e-3, 50.0
        if f(hi) > 0:  # even 50 m/s2 is too slow: the speed cap alone takes longer
            return np.inf
        return float(optimize.brentq(f, lo, hi)) if f(lo) > 0 else lo

    value = solve(t.value)
    if not np.isfinite(value):
        return None
    method = f"from the move-up time, decel = {ratio:.3g} x accel, cap {v:.3g} m/s (assumed)"
    return Estimate(value, solve(t.hi), solve(t.lo), t.n, method, "m/s2")


def saturation_discharge(discharge: pd.DataFrame) -> dict[str, Estimate]:
    """Saturation headway, saturation flow and start-up lost time (HCM method).

    Per cycle, vehicle i's headway is its start minus vehicle i - 1's (vehicle 1:
    minus the green start).  The saturation headway ``h`` is the mean headway of
    the 5th vehicle on; the start-up lost time is the mean over cycles of
    ``t_4 - green start`` minus ``4 h``, its interval from the delta method.

    Parameters
    ----------
    discharge
        Discharge table (``cycle``, ``green_start_s``, ``position``, ``start_s``).

    Returns
    -------
    dict
        ``saturation_headway_s`` (s), ``saturation_flow_veh_h`` (veh/h) and
        ``startup_lost_time_s`` (s).
    """
    d = discharge.sort_values(["cycle", "position"])
    prev = d.groupby("cycle")["start_s"].shift(1).fillna(d["green_start_s"])
    d = d.assign(h=d["start_s"] - prev)
    sat = d[d["position"] >= 5]["h"].to_numpy()
    cycles = d.groupby("cycle")["position"].max()
    full = cycles.index[cycles >= 5]
    too_few("start-up lost time", len(full), MIN_CYCLES, "cycles with >= 5 queued vehicles")
    h = mean_estimate(sat, "HCM: mean headway from the 5th queued vehicle", need=MIN_HEADWAYS)
    t4 = d[(d["position"] == 4) & d["cycle"].isin(full)]
    x = (t4["start_s"] - t4["green_start_s"]).to_numpy()
    lost = x.mean() - 4 * h.value
    se = np.sqrt(x.var(ddof=1) / len(x) + 16 * float(stats.sem(sat)) ** 2)
    z = float(stats.norm.ppf(0.975))
    lost_e = Estimate(
        float(lost), lost - z * se, lost + z * se, len(x), "HCM: t4 - 4 x sat. headway", "s"
    )
    flow = Estimate(3600 / h.value, 3600 / h.hi, 3600 / h.lo, h.n, "3600 / sat. headway", "veh/h")
    return {"saturation_headway_s": h, "saturation_flow_veh_h": flow, "startup_lost_time_s": lost_e}


@dataclass(frozen=True)
class DemandFit:
    """Demand per movement and the interval profile.

    Attributes
    ----------
    flows : dict of str to Estimate
        Mean hourly flow per movement, veh/h (exact Poisson interval).
    profile_tests : pandas.DataFrame
        Per movement: ``movement``, ``g`` (likelihood-ratio statistic), ``df``,
        ``p_value`` of constant rate vs one rate per interval, ``profiled`` (p < alpha).
    factors : list of Estimate or None
        Rate of each interval / mean rate, pooled over the profiled movements
        (Clopper-Pearson interval given the total); None if no movement needs it.
    interval_s : float
        Counting interval, s.
    applies_to : list of str
        Movements whose profile test rejects a constant rate.
    """

    flows: dict[str, Estimate]
    profile_tests: pd.DataFrame
    factors: list[Estimate] | None
    interval_s: float
    applies_to: list[str]


def demand(
    counts: pd.DataFrame, alpha: float = 0.05, profile_movements: list[str] | None = None
) -> DemandFit:
    """Hourly demand per movement and the demand profile, from interval counts.

    The profile test is a likelihood-ratio (G) test of one Poisson rate for all
    intervals against one rate per interval (``scipy.stats.power_divergence``,
    chi-square with k - 1 degrees of freedom).

    Parameters
    ----------
    counts
        Counts table (``movement``, ``interval_start_s``, ``interval_s``, ``count``),
        equal consecutive intervals from 0 s (the start of the measured period).
    alpha
        Level of the profile test.
    profile_movements
        Movements to pool for the profile factors; default: those whose test
        rejects a constant rate at level ``alpha``.
    """
    flows, tests = {}, []
    interval = float(counts["interval_s"].iloc[0])
    profiled = []
    for m, c in counts.groupby("movement", sort=False):
        c = c.sort_values("interval_start_s")
        n = c["count"].to_numpy(dtype=float)
        hours = c["interval_s"].sum() / 3600.0
        tot = n.sum()
        lo = stats.chi2.ppf(0.025, 2 * tot) / 2 if tot > 0 else 0.0
        hi = stats.chi2.ppf(0.975, 2 * tot + 2) / 2
        method = "count / time, exact Poisson interval"
        flows[str(m)] = Estimate(tot / hours, lo / hours, hi / hours, int(tot), method, "veh/h")
        if len(n) > 1 and tot > 0:
            g, p = stats.power_divergence(n, lambda_="log-likelihood")
            tests.append((str(m), float(g), len(n) - 1, float(p), bool(p < alpha)))
            if p < alpha:
                profiled.append(str(m))
    tests_df = pd.DataFrame(tests, columns=["movement", "g", "df", "p_value", "profiled"])
    factors = None
    if profile_movements is not None:
        profiled = list(profile_movements)
    if profiled:
        pooled = counts[counts["movement"].isin(profiled)].groupby("interval_start_s")["count"]
        n = pooled.sum().to_numpy()
        tot, k = int(n.sum()), len(n)
        factors = []
        for x in n:
            ci = stats.binomtest(int(x), tot, 1.0 / k).proportion_ci(0.95, method="exact")
            method = "interval rate / mean rate, Clopper-Pearson"
            factors.append(Estimate(k * x / tot, k * ci.low, k * ci.high, int(x), method, ""))
    return DemandFit(flows, tests_df, factors, interval, profiled)
