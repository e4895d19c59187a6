"""Chart of a design study (``uturn_sim.advisor.design.Design``): demand x slots, chosen marked."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from uturn_sim.advisor.design import Design

__all__ = ["VERDICT_COLORS", "design_chart"]

#: colour-blind-safe (Okabe-Ito) verdict colours
VERDICT_COLORS = {"pass": "#009E73", "unclear": "#E69F00", "fail": "#D55E00"}


def design_chart(result: Design, text: Callable[[str], str] = str) -> Figure:
    """Verdict of every evaluated (demand, slots) candidate; the chosen design is ringed.

    One panel per storage length offered.  x: U-turn demand, veh/h (with the left
    demand when several were studied); y: slots.  Each evaluated cell is coloured by
    its verdict and labelled with the upper 95% bound of the U-turn control delay,
    s/veh; blank cells were not evaluated (the search stopped before them).

    Parameters
    ----------
    result
        The design study.
    text
        Translates the figure's words (identity by default).
    """
    t = result.table
    storages = sorted(t["storage_m"].unique())
    fig, axes = plt.subplots(
        1,
        len(storages),
        figsize=(4.2 * len(storages) + 1.5, 4.2),
        layout="constrained",
        squeeze=False,
        sharey=True,
    )
    demands = sorted({(u, lf) for u, lf in zip(t["uturn_veh_h"], t["left_veh_h"], strict=True)})
    many_left = len({lf for _, lf in demands}) > 1
    xpos = {d: i for i, d in enumerate(demands)}
    top = int(t["slots"].max())
    for ax, storage in zip(axes[0], storages, strict=True):
        sub = t[t["storage_m"] == storage]
        for r in sub.itertuples():
            x, y = xpos[(r.uturn_veh_h, r.left_veh_h)], r.slots
            ax.add_patch(
                plt.Rectangle(
                    (x - 0.45, y - 0.45), 0.9, 0.9, color=VERDICT_COLORS[r.verdict], alpha=0.85
                )
            )
            label = "-" if not np.isfinite(r.uturn_delay_hi_s) else f"{r.uturn_delay_hi_s:.0f}"
            ax.text(x, y, label, ha="center", va="center", fontsize=8, color="black")
            if r.chosen:
                ax.add_patch(
                    plt.Rectangle((x - 0.48, y - 0.48), 0.96, 0.96, fill=False, lw=2.5, ec="black")
                )
        ax.set_xlim(-0.6, len(demands) - 0.4)
        ax.set_ylim(0.4, top + 0.6)
        ax.set_xticks(
            range(len(demands)),
            [f"{u:g}\n({lf:g})" if many_left else f"{u:g}" for u, lf in demands],
        )
        ax.set_yticks(range(1, top + 1))
        ax.set_xlabel(
            text("U-turn demand, veh/h") + (" " + text("(left demand)") if many_left else "")
        )
        ax.set_title(text("storage") + f" {storage:g} m", fontsize=10)
    axes[0][0].set_ylabel(text("slots"))
    handles = [Patch(color=c, label=text(v)) for v, c in VERDICT_COLORS.items()]
    handles.append(Patch(fill=False, ec="black", lw=2.5, label=text("chosen")))
    axes[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    c = result.criteria
    fig.suptitle(
        text("Design advisor: cell = upper 95% bound of U-turn control delay, s/veh")
        + f" ({text('target')} {c.target} <= {c.grading.limit_s(c.target):g} s)",
        fontsize=10,
    )
    return fig
