"""Plain-text rendering of a :class:`~uturn_sim.study.compare.Comparison` (the CLI prints it)."""

from __future__ import annotations

from uturn_sim.measures.catalog import level_of_service, measure
from uturn_sim.study.compare import Comparison

__all__ = ["comparison_text"]

MOVEMENTS = ("uturn", "left", "all")


def comparison_text(comp: Comparison) -> str:
    """The comparison as engineers read it: one block per movement (and scheme).

    Each block lists every compared measure with the baseline's mean, the scheme's
    mean, the paired difference (scheme - baseline) and its 95% CI; a last line
    gives the HCM level of service of each scheme from the mean control delay.
    """
    table = comp.table()
    base, others = comp.baseline, comp.others
    out = [
        f"{comp.scenario.name}: {' / '.join(others)} vs {base}, {comp.replications} paired "
        f"replications (common random numbers), seed {comp.seed}; difference = "
        f"{others[0] if len(others) == 1 else 'scheme'} - {base}, 95% CI"
    ]
    for movement in MOVEMENTS:
        for scheme in others:
            sub = table[(table["movement"] == movement) & (table["scheme"] == scheme)]
            sub = sub.drop(columns=["movement", "scheme", "n"]).rename(
                columns={"baseline_mean": base, "mean": scheme}
            )
            sub["measure"] = [measure(m).label for m in sub["measure"]]
            head = f"[{movement}]" if len(others) == 1 else f"[{movement}] {scheme} vs {base}"
            out.append(f"\n{head}")
            out.append(sub.to_string(index=False, float_format=lambda x: f"{x:.2f}", na_rep="-"))
    los = comp.summaries.groupby(["scheme", "movement"])["delay_mean_s"].mean()
    letters = {
        m: "->".join(level_of_service(los[(s, m)]) for s in (base, *others))
        for m in ("uturn", "left")
    }
    out.append(
        "\nLOS (HCM signalized, mean control delay): "
        + ", ".join(f"{m} {letters[m]}" for m in ("uturn", "left"))
    )
    if comp.summaries["oversaturated"].any():
        out.append("OVERSATURATED in some replications: see 'unserved'.")
    return "\n".join(out) + "\n"
