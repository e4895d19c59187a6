"""Paired comparison of the two schemes on common random numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from uturn_sim.model.result import Result
from uturn_sim.model.run import simulate
from uturn_sim.model.schemes import DEFAULT_PAIR as SCHEMES
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.table import build_arrivals

__all__ = ["MEASURES", "Comparison", "compare", "mean_ci", "replication_pair"]

MEASURES = (
    "throughput_veh_h",
    "delay_mean_s",
    "delay_p95_s",
    "queue_mean_veh",
    "queue_p95_veh",
    "queue_max_veh",
    "queue_p95_m",
    "spillback_share",
    "unserved",
    "veh_per_gap",
)


def mean_ci(diff: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of a sample (e.g. paired differences) and its Student-t interval (mean, lo, hi)."""
    x = np.asarray(diff, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if x.size < 2:
        return m, np.nan, np.nan
    half = float(stdtrit(x.size - 1, 0.5 + confidence / 2) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


@dataclass(frozen=True)
class Comparison:
    """Both schemes over ``replications`` replications on identical arrivals.

    ``summaries`` holds one row per (replication, scheme, movement) with every
    measure of :meth:`uturn_sim.Result.summary`.
    """

    scenario: Scenario
    seed: int
    replications: int
    summaries: pd.DataFrame = field(repr=False)

    def table(self, measures: tuple[str, ...] = MEASURES, confidence: float = 0.95) -> pd.DataFrame:
        """Per movement and measure: mean of each scheme, paired difference and its CI.

        Columns: ``movement, measure, ordinary, linked, difference`` (linked minus
        ordinary), ``ci_low, ci_high`` (``confidence`` interval of the difference
        over replications), ``n`` (replications with a value).
        """
        s = self.summaries
        rows = []
        for movement in s["movement"].unique():
            sub = s[s["movement"] == movement]
            o = sub[sub["scheme"] == "ordinary"].set_index("replication")
            li = sub[sub["scheme"] == "linked"].set_index("replication")
            for m in measures:
                a = o[m].astype(float)
                b = li[m].astype(float).reindex(a.index)
                mean, lo, hi = mean_ci((b - a).to_numpy(), confidence)
                rows.append(
                    {
                        "movement": movement,
                        "measure": m,
                        "ordinary": a.mean(),
                        "linked": b.mean(),
                        "difference": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "n": int(np.isfinite((b - a).to_numpy()).sum()),
                    }
                )
        return pd.DataFrame(rows)


def replication_pair(scenario: Scenario, seed: int, replication: int) -> tuple[Result, Result]:
    """The ``(ordinary, linked)`` results of one replication, on one arrival table."""
    table = build_arrivals(scenario, seed, replication)
    return tuple(simulate(scenario, sch, arrivals=table) for sch in SCHEMES)


def compare(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run both schemes on the same arrivals for each replication.

    Parameters
    ----------
    scenario
        The scenario.
    replications
        Number of replications (default ``scenario.simulation.replications``).
    seed
        Root seed (default ``scenario.simulation.seed``); replication ``r`` uses
        ``SeedSequence(seed, spawn_key=(r,))``.
    progress
        Called as ``progress(done, total)`` after each replication.
    """
    n = scenario.simulation.replications if replications is None else int(replications)
    if n < 1:
        raise ValueError(f"replications must be >= 1, got {n}")
    root = scenario.simulation.seed if seed is None else int(seed)
    frames = []
    for r in range(n):
        for res in replication_pair(scenario, root, r):
            f = res.summary()
            f.insert(0, "replication", r)
            frames.append(f)
        if progress is not None:
            progress(r + 1, n)
    comp = Comparison(scenario, root, n, pd.concat(frames, ignore_index=True))
    return comp
