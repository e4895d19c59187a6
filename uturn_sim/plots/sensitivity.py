"""Tornado chart of a sensitivity study (``uturn_sim.study.sensitivity.Sensitivity``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from uturn_sim.measures.catalog import measure as declared
from uturn_sim.study.sensitivity import COMPARISONS, Sensitivity

__all__ = ["tornado"]


def tornado(sens: Sensitivity, measure: str = "delay_mean_s") -> Figure:
    """Headline and slot-benefit differences at the ends of each parameter's range.

    One panel per comparison; each bar runs from the difference at the low end to the
    one at the high end of the range (labels), the dot marks the default level.
    """
    fig, axes = plt.subplots(
        1, len(COMPARISONS), figsize=(11, 4.2), layout="constrained", sharey=False
    )
    for ax, comp in zip(axes, COMPARISONS, strict=True):
        t = sens.tornado(comp, measure).iloc[::-1]
        f = sens.frame[
            (sens.frame.comparison == comp) & (sens.frame.measure == measure) & sens.frame.default
        ].set_index("parameter")
        for y, row in enumerate(t.itertuples()):
            lo, hi = sorted((row.at_low, row.at_high))
            ax.barh(y, hi - lo, left=lo, color="#4c72b0" if row.at_high > row.at_low else "#dd8452")
            if row.parameter in f.index:
                ax.plot(f.loc[row.parameter, "mean"], y, "k.", ms=6)
            ax.text(hi, y, f"  {row.low:g}..{row.high:g}", va="center", fontsize=7)
        ax.set_yticks(range(len(t)), [p.split(".")[-1] for p in t["parameter"]], fontsize=8)
        ax.axvline(0, color="0.3", lw=0.8)
        a, b = COMPARISONS[comp]
        ax.set_title(f"{comp}: {a} - {b}", fontsize=9)
        ax.set_xlabel(f"U-turn {declared(measure).label} (difference)")
    fig.suptitle(
        f"Sensitivity, {sens.replications} paired replications per level "
        "(blue: rises with the parameter; dot: default)",
        fontsize=10,
    )
    return fig
