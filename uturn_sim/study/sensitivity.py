"""Sensitivity of the linked lane's benefit to the parameters nobody has measured.

One parameter at a time over a stated range, every level on the same common random
numbers; at each level the paired differences (with CIs) of

* the headline: ``linked - ordinary``, and
* the slot benefit: ``linked - ordinary_permitted`` (against an ordinary lane that
  may also U-turn in safe gaps: the slots alone),

for the U-turners' mean control delay and throughput.  The tornado ranks the
parameters by how far the headline moves between the ends of their ranges; where
the slot benefit's mean changes sign inside a range, the crossing is interpolated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from uturn_sim.scenario.loading import update_scenario
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.compare import compare
from uturn_sim.study.uncertainty import field_value

__all__ = ["RANGES", "Sensitivity", "sensitivity"]

#: parameter -> (low, high, unit, why this range)
RANGES: dict[str, tuple[float, float, str, str]] = {
    "behaviour.linked_start_lag_s": (
        1.5,
        3.0,
        "s",
        "1.5-2 s assumed; up to 3 s for drivers new to the scheme",
    ),
    "behaviour.reaction_time_s": (0.5, 2.0, "s", "about 1 s; 0.5-2 s"),
    "behaviour.move_up_speed_m_s": (2.0, 6.0, "m/s", "creep speed, assumption"),
    "behaviour.accel_m_s2": (1.5, 3.0, "m/s²", "2-2.5 m/s² (DOMAIN), widened"),
    "behaviour.slot_hold_s": (1.0, 3.0, "s", "1.5-3 s, widened"),
    "behaviour.critical_gap.mean_s": (5.6, 7.4, "s", "HCM 6-lane 5.6 s to Tampa 7.4 s"),
    "behaviour.follow_up_headway_s": (2.0, 3.1, "s", "HCM 2.3-3.1 s for U-turns"),
    "signal.end_gain_s": (0.0, 4.0, "s", "effective green into the amber, 0-4 s"),
    "behaviour.min_pet_s": (0.0, 2.0, "s", "safety margin drivers keep, assumption 0 s"),
    "approach.taper_m": (0.0, 30.0, "m", "taper a car can use to reach the bay, assumption 0 m"),
}
COMPARISONS: dict[str, tuple[str, str]] = {
    "headline": ("linked", "ordinary"),
    "slot benefit": ("linked", "ordinary_permitted"),
}
MEASURES: tuple[str, ...] = ("delay_mean_s", "throughput_veh_h")


@dataclass(frozen=True)
class Sensitivity:
    """Result of :func:`sensitivity`.

    ``frame`` holds one row per parameter, level, comparison and measure (``mean``,
    ``ci_low``, ``ci_high`` of the paired difference).
    """

    frame: pd.DataFrame = field(repr=False)
    replications: int
    seed: int

    def tornado(self, comparison: str = "headline", measure: str = "delay_mean_s") -> pd.DataFrame:
        """Per parameter: the difference at the low and high end and its span, largest first."""
        f = self.frame[(self.frame.comparison == comparison) & (self.frame.measure == measure)]
        rows = []
        for p, g in f.groupby("parameter", sort=False):
            g = g.sort_values("value")
            lo, hi = g.iloc[0], g.iloc[-1]
            rows.append(
                {
                    "parameter": p,
                    "low": lo["value"],
                    "high": hi["value"],
                    "at_low": lo["mean"],
                    "at_low_ci": f"[{lo['ci_low']:.1f}, {lo['ci_high']:.1f}]",
                    "at_high": hi["mean"],
                    "at_high_ci": f"[{hi['ci_low']:.1f}, {hi['ci_high']:.1f}]",
                    "span": abs(hi["mean"] - lo["mean"]),
                }
            )
        return pd.DataFrame(rows).sort_values("span", ascending=False, ignore_index=True)

    def sign_changes(self) -> pd.DataFrame:
        """Parameter values where the slot benefit's mean changes sign (interpolated)."""
        f = self.frame[self.frame.comparison == "slot benefit"]
        rows = []
        for (p, m), g in f.groupby(["parameter", "measure"], sort=False):
            g = g.sort_values("value")
            x, y = g["value"].to_numpy(), g["mean"].to_numpy()
            for i in range(len(x) - 1):
                if np.isfinite(y[i]) and np.isfinite(y[i + 1]) and y[i] * y[i + 1] < 0:
                    xc = x[i] + (x[i + 1] - x[i]) * y[i] / (y[i] - y[i + 1])
                    rows.append({"parameter": p, "measure": m, "crossing": xc})
        return pd.DataFrame(rows, columns=["parameter", "measure", "crossing"])

    def text(self) -> str:
        """The tables the CLI prints."""
        out = [
            f"sensitivity: one parameter at a time, {self.replications} paired replications "
            f"per level, seed {self.seed}; differences are U-turn means with 95% CIs"
        ]
        for comp in COMPARISONS:
            a, b = COMPARISONS[comp]
            for m in MEASURES:
                out.append(f"\n[{comp}: {a} - {b}] {m}, tornado (largest span first)")
                out.append(
                    self.tornado(comp, m).to_string(index=False, float_format=lambda x: f"{x:.2f}")
                )
        sc = self.sign_changes()
        out.append("\nslot benefit changes sign at:")
        out.append(
            "  nowhere inside the ranges"
            if sc.empty
            else sc.to_string(index=False, float_format=lambda x: f"{x:.2f}")
        )
        return "\n".join(out) + "\n"


def _levels(low: float, high: float, default: float, n: int) -> list[float]:
    vals = set(np.round(np.linspace(low, high, n), 6).tolist()) | {round(default, 6)}
    return sorted(vals)


def sensitivity(
    scenario: Scenario,
    *,
    parameters: Sequence[str] | None = None,
    levels: int = 5,
    replications: int = 5,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    engine: str = "fast",
) -> Sensitivity:
    """One-at-a-time sensitivity of the linked lane's benefit (see the module docstring).

    Parameters
    ----------
    scenario
        The base scenario.
    parameters
        Dotted fields to vary (default: every key of :data:`RANGES`).
    levels
        Evenly spaced levels over each range (the default value is added).
    replications, seed
        Paired replications per level and their root seed (same seeds at every level).
    progress
        Called as ``progress(done, total)`` after each level.
    engine
        ``"fast"`` (compiled engine, default) or ``"simpy"``: identical results.

    Raises
    ------
    ValueError
        For an unknown parameter or ``levels < 2``.
    """
    names = list(RANGES) if parameters is None else list(parameters)
    for p in names:
        if p not in RANGES:
            raise ValueError(f"unknown sensitivity parameter {p!r}; known: {', '.join(RANGES)}")
    if levels < 2:
        raise ValueError(f"levels must be >= 2, got {levels}")
    root = scenario.simulation.seed if seed is None else int(seed)
    plan = [
        (p, v)
        for p in names
        for v in _levels(RANGES[p][0], RANGES[p][1], field_value(scenario, p), levels)
    ]
    rows = []
    for done, (p, v) in enumerate(plan, start=1):
        scn = update_scenario(scenario, {p: v})
        comp = compare(
            scn,
            schemes=["ordinary", "ordinary_permitted", "linked"],
            replications=replications,
            seed=root,
            engine=engine,
        )
        for name, (a, b) in COMPARISONS.items():
            for m in MEASURES:
                mean, lo, hi, n = comp.difference(a, b, m, "uturn")
                rows.append(
                    {
                        "parameter": p,
                        "value": v,
                        "default": abs(v - field_value(scenario, p)) < 1e-9,
                        "unit": RANGES[p][2],
                        "comparison": name,
                        "measure": m,
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "n": n,
                    }
                )
        if progress is not None:
            progress(done, len(plan))
    return Sensitivity(pd.DataFrame(rows), replications, root)
