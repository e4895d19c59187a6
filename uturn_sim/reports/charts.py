"""The bureau report's figures, with every word passed through a translator.

Each function takes results (never the model) and returns a matplotlib Figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from uturn_sim.measures.catalog import LOS_SIGNALIZED
from uturn_sim.model.result import Result
from uturn_sim.plots.colors import scheme_color
from uturn_sim.study.compare import Comparison, mean_ci
from uturn_sim.study.ladder import Ladder
from uturn_sim.study.sensitivity import Sensitivity

__all__ = ["comparison_chart", "ladder_chart", "queue_chart", "tornado_chart"]

Text = Callable[[str], str]


def comparison_chart(comp: Comparison, text: Text = str) -> Figure:
    """Mean control delay of each scheme, U-turn and left, with 95% CIs and HCM LOS lines.

    The y-axis is clipped a little above the LOS F line (80 s/veh) unless every value
    is far higher; a bar beyond the axis is marked with an arrow and its value.
    """
    s = comp.summaries
    fig, ax = plt.subplots(figsize=(8.5, 4.2), layout="constrained")
    movements = ("uturn", "left")
    width = 0.8 / len(comp.schemes)
    stats = {}
    for j, sch in enumerate(comp.schemes):
        for i, mv in enumerate(movements):
            x = s[(s.scheme == sch) & (s.movement == mv)]["delay_mean_s"].to_numpy(float)
            stats[(sch, mv)] = (i + (j - (len(comp.schemes) - 1) / 2) * width, *mean_ci(x))
    finite = [v[1] for v in stats.values() if np.isfinite(v[1])]
    top = max(100.0, min(max(finite, default=100.0) * 1.1, 150.0))
    for sch in comp.schemes:
        xs = [stats[(sch, mv)][0] for mv in movements]
        means = np.array([stats[(sch, mv)][1] for mv in movements])
        lo = np.array([stats[(sch, mv)][2] for mv in movements])
        hi = np.array([stats[(sch, mv)][3] for mv in movements])
        ax.bar(
            xs,
            np.minimum(means, top),
            width * 0.95,
            color=scheme_color(sch),
            label=text(sch),
            edgecolor="black",
            lw=0.4,
        )
        ok = means < top
        ax.errorbar(
            np.array(xs)[ok],
            means[ok],
            yerr=[(means - lo)[ok], (hi - means)[ok]],
            fmt="none",
            ecolor="black",
            capsize=3,
            lw=1,
        )
        for x, m in zip(xs, means, strict=True):
            if np.isfinite(m) and m >= top:
                ax.annotate(
                    f"▲ {m:.0f}",
                    (x, top),
                    ha="center",
                    va="top",
                    fontsize=8,
                    xytext=(0, -2),
                    textcoords="offset points",
                )
    for k, thr in enumerate(LOS_SIGNALIZED):
        if thr < top:
            ax.axhline(thr, color="0.5", lw=0.7, ls="--")
            ax.text(
                1.005,
                thr,
                f" LOS {'ABCDE'[k]}|{'BCDEF'[k]}",
                fontsize=7,
                va="center",
                ha="left",
                color="0.3",
                transform=ax.get_yaxis_transform(),
            )
    ax.set_ylim(0, top)
    ax.set_xticks(range(len(movements)), [text(m) for m in movements])
    ax.set_ylabel(text("mean control delay, s/veh"))
    ax.set_title(
        text("Mean control delay by scheme (mean of replications, bars: 95% CI)")
        + f", n={comp.replications}",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.1, 1))
    return fig


def ladder_chart(lad: Ladder, text: Text = str) -> Figure:
    """Each ladder step's paired difference in U-turn control delay with its 95% CI."""
    t = lad.table(measures=("delay_mean_s",), movements=("uturn",))
    fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
    y = np.arange(len(t))[::-1]
    ax.errorbar(
        t["mean"],
        y,
        xerr=[t["mean"] - t["ci_low"], t["ci_high"] - t["mean"]],
        fmt="o",
        color="#0072B2",
        ecolor="black",
        capsize=3,
    )
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(y, [text(s) for s in t["step"]])
    ax.set_xlabel(text("difference, s/veh") + f" ({text('uturn')})")
    ax.set_title(text("Scheme ladder") + f", n={lad.comparison.replications}", fontsize=10)
    return fig


def queue_chart(results: Sequence[Result], text: Text = str) -> Figure:
    """Queue in the lane (m) over the measured period, one panel per scheme, shared y-axis."""
    fig, axes = plt.subplots(
        len(results),
        1,
        figsize=(8.5, 2.0 * len(results) + 0.8),
        sharex=True,
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    storage = results[0].scenario.geometry.storage_m
    for ax, res in zip(axes[:, 0], results, strict=True):
        t0, t1 = res.window
        q = res.queue
        sel = (q["t_s"] >= t0) & (q["t_s"] <= t1)
        ax.step(
            q.loc[sel, "t_s"] / 60,
            q.loc[sel, "queue_m"],
            where="post",
            color=scheme_color(res.scheme),
            lw=1,
        )
        ax.axhline(storage, color="black", ls="--", lw=1, label=text("storage limit"))
        ax.set_title(text(res.scheme), fontsize=9, loc="left")
        ax.set_ylabel(text("queue, m"))
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel(text("time, min"))
    rep = results[0].spawn_key[-1] if results[0].spawn_key else 0
    fig.suptitle(
        f"{text('Queue in the lane over time')} ({text('replication')} {rep})", fontsize=10
    )
    return fig


def tornado_chart(sens: Sensitivity, text: Text = str) -> Figure:
    """Headline (linked - ordinary) U-turn control delay at the ends of each range."""
    t = sens.tornado("headline", "delay_mean_s").iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(t) + 1.4), layout="constrained")
    for y, row in enumerate(t.itertuples()):
        lo, hi = sorted((row.at_low, row.at_high))
        up = row.at_high > row.at_low
        ax.barh(y, hi - lo, left=lo, color="#0072B2" if up else "#E69F00")
        ax.text(hi, y, f"  {row.low:g}..{row.high:g}", va="center", fontsize=7)
    ax.set_yticks(range(len(t)), [p.split(".")[-1] for p in t["parameter"]], fontsize=8)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(text("difference, s/veh"))
    ax.set_title(
        text("Sensitivity of the linked - ordinary difference, U-turn control delay")
        + f", n={sens.replications}",
        fontsize=10,
    )
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color="#0072B2", label=text("rises with the parameter")),
            Patch(color="#E69F00", label=text("falls with the parameter")),
        ],
        fontsize=7,
        loc="lower right",
    )
    return fig
