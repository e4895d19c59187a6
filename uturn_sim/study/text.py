"""Plain-text rendering of a :class:`~uturn_sim.study.compare.Comparison` (the CLI prints it)."""

from __future__ import annotations

import pandas as pd

from uturn_sim.measures.catalog import (
    APPROACH_ONLY,
    APPROACH_WIDE,
    ROWS,
    UTURN_ONLY,
    level_of_service,
    measure,
)
from uturn_sim.measures.safety import CONFLICT_PET_S
from uturn_sim.study.compare import Comparison

__all__ = ["comparison_text"]

#: measures of the bay that mean nothing for the through row
BAY_ONLY = ("spillback_share", "veh_per_gap", "veh_per_platoon", "bay_entry_wait_s")



def comparison_text(comp: Comparison, by_slot: pd.DataFrame | None = None) -> str:
    """The comparison as engineers read it: one block per movement (and scheme).

    Each block lists every compared measure with the baseline's mean, the scheme's
    mean, the paired difference (scheme - baseline) and its 95% CI; a last line
    gives the HCM level of service of each scheme from the mean control delay.
    ``by_slot`` (:func:`uturn_sim.measures.safety.pet_by_slot` of the runs) adds a
    safety block: minimum and 5th-percentile PET by slot position.  With the
    approach's through lanes modelled a ``[through]`` block follows, and ``[all]`` is
    the whole approach with lane 1's blocking; for the bay alone those measures are
    left out.
    """
    table = comp.table()
    whole = comp.scenario.approach.through_lanes > 0
    rows = ROWS if whole else tuple(m for m in ROWS if m != "through")
    base, others = comp.baseline, comp.others
    out = [
        f"{comp.scenario.name}: {' / '.join(others)} vs {base}, {comp.replications} paired "
        f"replications (common random numbers), seed {comp.seed}; difference = "
        f"{others[0] if len(others) == 1 else 'scheme'} - {base}, 95% CI"
    ]
    for movement in rows:
        for scheme in others:
            sub = table[(table["movement"] == movement) & (table["scheme"] == scheme)]
            if movement != "uturn":
                sub = sub[~sub["measure"].isin(UTURN_ONLY)]
            if not whole:
                sub = sub[~sub["measure"].isin(APPROACH_ONLY)]
            elif movement != "all":
                sub = sub[~sub["measure"].isin(APPROACH_WIDE)]
            if movement == "through":
                sub = sub[~sub["measure"].isin(BAY_ONLY)]
            sub = sub.drop(columns=["movement", "scheme", "n"]).rename(
                columns={"baseline_mean": base, "mean": scheme}
            )
            sub["measure"] = [measure(m).label for m in sub["measure"]]
            head = f"[{movement}]" if len(others) == 1 else f"[{movement}] {scheme} vs {base}"
            out.append(f"\n{head}")
            out.append(sub.to_string(index=False, float_format=lambda x: f"{x:.2f}", na_rep="-"))
    los = comp.summaries.groupby(["scheme", "movement"])["delay_mean_s"].mean()
    graded = ("uturn", "left", "through", "all") if whole else ("uturn", "left")
    letters = {m: "->".join(level_of_service(los[(s, m)]) for s in (base, *others)) for m in graded}
    out.append(
        "\nLOS (HCM signalized, mean control delay): "
        + ", ".join(f"{'approach' if m == 'all' else m} {letters[m]}" for m in graded)
    )
    if comp.summaries["oversaturated"].any():
        out.append("OVERSATURATED in some replications: see 'unserved'.")
    if by_slot is not None:
        out.append(_safety_block(by_slot))
    return "\n".join(out) + "\n"


def _safety_block(by_slot: pd.DataFrame) -> str:
    """Minimum and 5th-percentile PET by scheme and slot position (slot 0: stop line)."""
    t = by_slot.rename(
        columns={
            "pet_min_s": "min PET s",
            "pet_p5_s": "p5 PET s",
            "share_below_1_5_s": f"share PET<{CONFLICT_PET_S:g}s",
        }
    )
    return (
        "\n[safety] post-encroachment time (PET) of U-turns at the conflict area (one "
        "conflict point for all conflicting streams); PET shares and conflicts per hour with "
        "CIs are in [uturn] above.  By slot position (0: stop line), pooled over the "
        "replications' measured periods:\n"
        + t.to_string(index=False, float_format=lambda x: f"{x:.2f}", na_rep="-")
    )
