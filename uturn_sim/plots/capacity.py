"""Saturated U-turn capacity of the linked lane by number of slots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["capacity_by_slots"]


def capacity_by_slots(frame: pd.DataFrame, saturation_flow_veh_h: float) -> Figure:
    """Simulated capacity (veh/h, mean and 95% CI) against slots, one line per conflicting flow.

    ``frame``: rows of :func:`uturn_sim.validation.experiments.run_capacity` for
    ``"linked_real"`` (columns ``x`` = conflicting flow, ``slots``, ``sim``, ``ci_low``,
    ``ci_high``).  The lane's saturation flow is drawn as the ceiling no slot count may pass.
    """
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for q, g in frame.groupby("x"):
        g = g.sort_values("slots")
        ax.errorbar(
            g["slots"],
            g["sim"],
            yerr=[g["sim"] - g["ci_low"], g["ci_high"] - g["sim"]],
            marker="o",
            capsize=3,
            label=f"conflicting {q:g} veh/h",
        )
    ax.axhline(saturation_flow_veh_h, color="k", ls="--", lw=1)
    ax.text(1, saturation_flow_veh_h, " lane saturation flow", va="bottom", fontsize=8)
    ax.set_xlabel("linked slots k")
    ax.set_ylabel("saturated U-turn capacity, veh/h")
    ax.set_ylim(0, saturation_flow_veh_h * 1.1)
    ax.set_title("Linked lane, default kinematics: capacity rises with k, below saturation flow")
    ax.legend(fontsize=8)
    return fig
