"""The scheme ladder: how much of the linked lane's gain is the permission, how much the slots.

Five schemes on common random numbers; each step of the ladder is a paired
difference with its confidence interval:

=========================  ==========================================  ===================
step                       difference                                  what it isolates
=========================  ==========================================  ===================
permission                 ordinary_permitted - ordinary               U-turn in safe gaps
                                                                       allowed, no slots
slots (given permission)   linked_sanya - ordinary_permitted           the slots, same rule
any phase                  linked - linked_sanya                       Liaocheng: gaps in any
                                                                       phase, not the green
total                      linked - ordinary                           the headline
slots without permission   linked_zhengzhou - ordinary                 slots on the green only
=========================  ==========================================  ===================

The first three steps add up to the total (paired differences telescope).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from uturn_sim.measures.catalog import measure as declared
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.compare import Comparison, compare

__all__ = ["LADDER", "STEPS", "Ladder", "ladder"]

LADDER: tuple[str, ...] = (
    "ordinary",
    "ordinary_permitted",
    "linked_zhengzhou",
    "linked_sanya",
    "linked",
)
#: (step, scheme, minus scheme)
STEPS: tuple[tuple[str, str, str], ...] = (
    ("permission", "ordinary_permitted", "ordinary"),
    ("slots (given permission)", "linked_sanya", "ordinary_permitted"),
    ("any phase (Liaocheng rule)", "linked", "linked_sanya"),
    ("total", "linked", "ordinary"),
    ("slots without permission", "linked_zhengzhou", "ordinary"),
)
MEASURES: tuple[str, ...] = ("delay_mean_s", "throughput_veh_h", "queue_p95_m")
#: with the approach's through lanes: the through delay and the approach's total delay too
APPROACH_MEASURES: dict[str, tuple[str, ...]] = {
    "uturn": MEASURES,
    "through": ("delay_mean_s",),
    "all": (*MEASURES, "total_delay_veh_h_per_h"),
}


@dataclass(frozen=True)
class Ladder:
    """The ladder's comparison and its steps (``table()``)."""

    comparison: Comparison

    def table(
        self, measures: Sequence[str] | None = None, movements: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per (movement, measure, step): ``difference``, ``ci_low``, ``ci_high``, ``n``.

        By default the U-turn row and the whole lane (``all``) with :data:`MEASURES`;
        with the approach's through lanes, :data:`APPROACH_MEASURES` (the through
        delay and the approach's total delay, veh·h/h, too).
        """
        whole = self.comparison.scenario.approach.through_lanes > 0
        plan = APPROACH_MEASURES if whole else {"uturn": MEASURES, "all": MEASURES}
        if movements is not None:
            plan = {m: plan.get(m, MEASURES) for m in movements}
        if measures is not None:
            plan = {m: tuple(measures) for m in plan}
        rows = []
        for movement, names in plan.items():
            for m in names:
                for step, a, b in STEPS:
                    mean, lo, hi, n = self.comparison.difference(a, b, m, movement)
                    rows.append(
                        {
                            "movement": movement,
                            "measure": m,
                            "step": step,
                            "difference": f"{a} - {b}",
                            "mean": mean,
                            "ci_low": lo,
                            "ci_high": hi,
                            "n": n,
                        }
                    )
        return pd.DataFrame(rows)

    def text(self) -> str:
        """The ladder as the CLI prints it."""
        comp = self.comparison
        out = [
            f"{comp.scenario.name}: scheme ladder, {comp.replications} paired replications, "
            f"seed {comp.seed}; each step a paired difference with its 95% CI"
        ]
        t = self.table()
        for movement in t["movement"].unique():
            for m in t.loc[t["movement"] == movement, "measure"].unique():
                sub = t[(t["movement"] == movement) & (t["measure"] == m)]
                out.append(f"\n[{movement}] {declared(m).label}")
                out.append(
                    sub[["step", "difference", "mean", "ci_low", "ci_high"]].to_string(
                        index=False, float_format=lambda x: f"{x:.2f}", na_rep="-"
                    )
                )
        means = comp.summaries.groupby(["scheme", "movement"])["delay_mean_s"].mean()
        out.append(
            "\nmean U-turn control delay, s/veh: "
            + ", ".join(f"{s} {means[(s, 'uturn')]:.1f}" for s in LADDER)
        )
        return "\n".join(out) + "\n"


def ladder(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Ladder:
    """Run the five schemes of :data:`LADDER` on common random numbers.

    Parameters
    ----------
    scenario
        The scenario (its ``ordinary``/``linked`` options do not matter for the named
        variants; ``ordinary`` and ``linked`` use them).
    replications, seed
        As for :func:`uturn_sim.compare`.
    progress
        Called as ``progress(done, total)`` after each replication.
    """
    comp = compare(
        scenario,
        schemes=LADDER,
        baseline="ordinary",
        replications=replications,
        seed=seed,
        progress=progress,
    )
    return Ladder(comp)
