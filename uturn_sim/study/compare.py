"""Paired comparison of schemes against a baseline on common random numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from uturn_sim.fast import check_engine
from uturn_sim.measures.catalog import COMPARED
from uturn_sim.model.result import Result
from uturn_sim.model.run import simulate
from uturn_sim.model.schemes import BASELINE, DEFAULT_PAIR, Scheme, get_scheme
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.uncertainty import draw_parameters
from uturn_sim.traffic.table import build_arrivals

__all__ = ["MEASURES", "Comparison", "compare", "mean_ci", "replication_pair", "replication_runs"]

MEASURES = COMPARED  # the comparison table's measures (declared in measures.catalog)


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
    """Several schemes over ``replications`` replications on identical arrivals.

    ``summaries`` holds one row per (replication, scheme, movement) with every
    declared measure; ``schemes`` lists the scheme names, ``baseline`` the one the
    others are differenced against.
    """

    scenario: Scenario
    seed: int
    replications: int
    summaries: pd.DataFrame = field(repr=False)
    schemes: tuple[str, ...] = DEFAULT_PAIR
    baseline: str = BASELINE

    @property
    def others(self) -> tuple[str, ...]:
        """The compared schemes other than the baseline, in order."""
        return tuple(s for s in self.schemes if s != self.baseline)

    def _pairs(self, a: str, b: str, measure: str, movement: str) -> tuple[pd.Series, pd.Series]:
        """``measure`` of schemes ``a`` and ``b`` per replication of ``a`` (paired)."""
        s = self.summaries
        sub = s[s["movement"] == movement]
        x = sub[sub["scheme"] == a].set_index("replication")[measure].astype(float)
        y = sub[sub["scheme"] == b].set_index("replication")[measure].astype(float)
        return x, y.reindex(x.index)

    def difference(
        self, a: str, b: str, measure: str, movement: str, confidence: float = 0.95
    ) -> tuple[float, float, float, int]:
        """Mean of ``a - b`` over paired replications, its CI and the number of pairs."""
        x, y = self._pairs(a, b, measure, movement)
        d = (x - y).to_numpy()
        mean, lo, hi = mean_ci(d, confidence)
        return mean, lo, hi, int(np.isfinite(d).sum())

    def table(self, measures: Sequence[str] = MEASURES, confidence: float = 0.95) -> pd.DataFrame:
        """Per movement, measure and scheme: means, paired difference and its CI.

        Columns: ``movement, measure, scheme`` (a non-baseline scheme),
        ``baseline_mean`` (mean of the baseline), ``mean`` (mean of ``scheme``),
        ``difference`` (scheme minus baseline, mean over replications), ``ci_low,
        ci_high`` (``confidence`` interval of the paired difference), ``n``
        (replications with a value).
        """
        rows = []
        for movement in self.summaries["movement"].unique():
            for scheme in self.others:
                for m in measures:
                    a, b = self._pairs(self.baseline, scheme, m, movement)
                    d = (b - a).to_numpy()
                    mean, lo, hi = mean_ci(d, confidence)
                    rows.append(
                        {
                            "movement": movement,
                            "measure": m,
                            "scheme": scheme,
                            "baseline_mean": a.mean(),
                            "mean": b.mean(),
                            "difference": mean,
                            "ci_low": lo,
                            "ci_high": hi,
                            "n": int(np.isfinite(d).sum()),
                        }
                    )
        return pd.DataFrame(rows)


def replication_runs(
    scenario: Scenario,
    schemes: Sequence[str | Scheme],
    seed: int,
    replication: int,
    trace: bool = False,
) -> list[Result]:
    """The results of ``schemes`` in one replication, all on one arrival table.

    ``trace=True`` records every lane event (``Result.events``, for the slot chart).
    """
    table = build_arrivals(scenario, seed, replication)
    return [simulate(scenario, sch, arrivals=table, trace=trace) for sch in schemes]


def replication_pair(scenario: Scenario, seed: int, replication: int) -> tuple[Result, Result]:
    """The ``(ordinary, linked)`` results of one replication, on one arrival table."""
    return tuple(replication_runs(scenario, DEFAULT_PAIR, seed, replication))


def _done(progress: Callable[[int, int], None] | None, n: int) -> Callable[[int], None] | None:
    return None if progress is None else (lambda k: progress(k, n))


def compare(
    scenario: Scenario,
    *,
    schemes: Sequence[str | Scheme] | None = None,
    baseline: str | Scheme | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    parameter_uncertainty: bool = False,
    engine: str = "simpy",
) -> Comparison:
    """Run several schemes on the same arrivals for each replication.

    Parameters
    ----------
    scenario
        The scenario.
    schemes
        Scheme names or objects (default ``("ordinary", "linked")``); the baseline is
        added in front if missing.
    baseline
        The scheme the others are differenced against (default ``"ordinary"``, or
        the first of ``schemes`` if ``"ordinary"`` is not among them).
    replications
        Number of replications (default ``scenario.simulation.replications``).
    seed
        Root seed (default ``scenario.simulation.seed``); replication ``r`` uses
        ``SeedSequence(seed, spawn_key=(r,))``.
    progress
        Called as ``progress(done, total)`` after each replication.
    parameter_uncertainty
        Draw the fields of ``scenario.uncertainty`` anew for each replication (all
        schemes of a replication share the draw), so the CIs include the parameters'
        sampling uncertainty (:mod:`uturn_sim.study.uncertainty`).
    engine
        ``"simpy"`` (the reference model) or ``"fast"`` (the compiled engine,
        :mod:`uturn_sim.fast`: identical vehicle records and measures, many times faster).

    Raises
    ------
    ValueError
        For an unknown scheme, a repeated scheme name, ``replications < 1``, or
        ``parameter_uncertainty`` on a scenario without an ``uncertainty`` section.
    """
    objs = [get_scheme(s) for s in (DEFAULT_PAIR if schemes is None else schemes)]
    if not objs:
        raise ValueError("schemes must name at least one scheme")
    if baseline is None:
        base = get_scheme(BASELINE) if any(o.name == BASELINE for o in objs) else objs[0]
    else:
        base = get_scheme(baseline)
    if all(o.name != base.name for o in objs):
        objs.insert(0, base)
    names = [o.name for o in objs]
    if len(set(names)) != len(names):
        raise ValueError(f"schemes must be distinct, got {names}")
    if len(objs) < 2:
        raise ValueError(f"compare needs a scheme besides the baseline {base.name!r}")
    n = scenario.simulation.replications if replications is None else int(replications)
    if n < 1:
        raise ValueError(f"replications must be >= 1, got {n}")
    root = scenario.simulation.seed if seed is None else int(seed)
    if parameter_uncertainty and not scenario.uncertainty:
        raise ValueError(
            "parameter_uncertainty needs the scenario's uncertainty section (standard errors "
            "of estimated fields; uturn-sim calibrate writes it)"
        )
    frames = []
    if check_engine(engine) == "fast":
        from uturn_sim.fast.study import summaries

        for r in range(n) if parameter_uncertainty else ():  # one scenario per replication
            frames.append(summaries(draw_parameters(scenario, root, r), objs, root, [r]))
            if progress is not None:
                progress(r + 1, n)
        if not parameter_uncertainty:
            frames.append(summaries(scenario, objs, root, range(n), progress=_done(progress, n)))
        n_done = n  # every replication is in frames
    else:
        n_done = 0
    for r in range(n_done, n):
        scn_r = draw_parameters(scenario, root, r) if parameter_uncertainty else scenario
        for res in replication_runs(scn_r, objs, root, r):
            f = res.summary()
            f.insert(0, "replication", r)
            frames.append(f)
        if progress is not None:
            progress(r + 1, n)
    return Comparison(
        scenario, root, n, pd.concat(frames, ignore_index=True), tuple(names), base.name
    )
