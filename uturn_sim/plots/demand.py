"""Delay against demand from a sweep's aggregate, with readable HCM LOS bands."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from uturn_sim.measures.summary import LOS_SIGNALIZED
from uturn_sim.plots.colors import OKABE_ITO, scheme_color

__all__ = ["DELAY_AXIS_TOP_S", "LOS_COLORS", "delay_vs_demand", "series_colors"]

#: default top of the delay axis, s/veh: every HCM signalized band (F from 80 s) shows
DELAY_AXIS_TOP_S = 100.0
LOS_COLORS = ("#e8f5e9", "#f1f8e9", "#fffde7", "#fff3e0", "#fbe9e7", "#ffebee")
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
_DELAYS = {
    "delay_mean_s": "mean control delay",
    "queue_delay_mean_s": "mean queue delay",
    "delay_p95_s": "95th percentile control delay",
}


def series_colors(series: list[tuple[str, int | None]]) -> dict[tuple[str, int | None], str]:
    """A distinct colour-blind-safe colour for each ``(scheme, slots)`` series.

    A scheme drawn once keeps :func:`~uturn_sim.plots.colors.scheme_color`; a scheme
    drawn for several slot counts takes its own colour for the first and then
    palette colours no other series uses (cycling only past the palette's size).
    """
    count: dict[str, int] = {}
    for scheme, _ in series:
        count[scheme] = count.get(scheme, 0) + 1
    out: dict[tuple[str, int | None], str] = {}
    used = {scheme_color(s) for s in count}
    spare = [c for c in (*OKABE_ITO, "#000000") if c not in used]
    j = 0
    for key in series:
        scheme = key[0]
        own = scheme_color(scheme)
        if own not in out.values():
            out[key] = own
        else:
            out[key] = spare[j % len(spare)] if spare else own
            j += 1
    return out


def delay_vs_demand(
    frame: pd.DataFrame,
    x: str = "demand.uturn.flow_veh_h",
    movement: str = "uturn",
    *,
    y: str = "delay_mean_s",
    top_s: float = DELAY_AXIS_TOP_S,
) -> Figure:
    """Delay vs demand per scheme (and slot count), over HCM signalized LOS bands.

    The y-axis stops at ``top_s`` so the bands stay readable; a mean beyond it is
    drawn as a triangle on the top edge with its value. Cells where vehicles were
    still unserved at the end (column ``unserved`` > 0, if present) are circled in
    black and counted in the legend.

    Parameters
    ----------
    frame
        Aggregated sweep rows (:func:`uturn_sim.sweeps.run.aggregate`): columns ``x``,
        ``scheme``, ``movement``, ``y``, optionally ``{y}_ci_low/high``,
        ``geometry.slots``, ``n`` (replications) and ``unserved`` (veh).
    x
        Column on the x-axis (default: U-turn demand, veh/h).
    movement
        ``uturn``, ``left`` or ``all``.
    y
        The delay drawn, s/veh: ``delay_mean_s`` (mean control delay, default),
        ``queue_delay_mean_s`` (mean queue delay) or ``delay_p95_s``.
    top_s
        Top of the delay axis, s/veh (at least the LOS F threshold).
    """
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    sub = frame[frame["movement"] == movement]
    top = max(float(top_s), LOS_SIGNALIZED[-1] * 1.1)
    bounds = (0.0, *LOS_SIGNALIZED, top)
    for j, letter in enumerate("ABCDEF"):
        ax.axhspan(bounds[j], bounds[j + 1], color=LOS_COLORS[j], zorder=0)
        ax.text(
            1.01,
            (bounds[j] + bounds[j + 1]) / 2,
            letter,
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=9,
            fontweight="bold",
        )
    has_slots = "geometry.slots" in sub
    series = []
    for key, g in sub.groupby(["scheme", "geometry.slots"] if has_slots else ["scheme"]):
        key = key if isinstance(key, tuple) else (key,)
        slots = int(key[1]) if len(key) > 1 else None
        if slots is not None and not _depends_on_slots(sub, key[0]):
            if slots != sub["geometry.slots"].min():
                continue  # a lane without slots does not depend on the slot count: draw it once
            slots = None
        series.append(((key[0], slots), g.sort_values(x)))
    colors = series_colors([k for k, _ in series])
    n_unserved = n_over = 0
    for i, ((scheme, slots), g) in enumerate(series):
        col = colors[(scheme, slots)]
        label = scheme + (f", {slots} slots" if slots is not None else "")
        yerr = None
        if f"{y}_ci_low" in g:
            yerr = np.vstack([g[y] - g[f"{y}_ci_low"], g[f"{y}_ci_high"] - g[y]]).clip(min=0)
        ax.errorbar(
            g[x],
            g[y],
            yerr=yerr,
            marker=_MARKERS[i % len(_MARKERS)],
            ms=4,
            capsize=2,
            color=col,
            label=label,
        )
        over = g[g[y] > top]
        n_over += len(over)
        ax.plot(over[x], np.full(len(over), top), "^", color=col, ms=8, clip_on=False, mec="k")
        for xv, yv in zip(over[x], over[y], strict=True):
            ax.annotate(
                f"{yv:.0f}",
                (xv, top),
                xytext=(6, -10 - 8 * i),
                textcoords="offset points",
                ha="left",
                fontsize=6,
                color=col,
                annotation_clip=False,
            )
        if "unserved" in g:
            bad = g[g["unserved"] > 0]
            n_unserved += len(bad)
            ax.plot(
                bad[x],
                np.minimum(bad[y], top),
                "o",
                ms=11,
                mfc="none",
                mec="black",
                clip_on=False,
            )
    if n_unserved:
        ax.plot([], [], "o", ms=11, mfc="none", mec="black", label="vehicles left unserved")
    if n_over:
        ax.plot([], [], "^", color="0.5", mec="k", label=f"beyond {top:g} s (value printed)")
    ax.set_ylim(0, top)
    ax.set_xlabel("U-turn demand (veh/h)" if x.endswith("flow_veh_h") else x)
    what = _DELAYS.get(y, y)
    ax.set_ylabel(f"{what}, {movement} (s/veh)")
    reps = f"mean of {int(sub['n'].max())} replications" if "n" in sub and len(sub) else "mean"
    ci = ", bars: 95% CI" if f"{y}_ci_low" in sub else ""
    ax.set_title(
        f"{what.capitalize()} vs demand, HCM signalized LOS bands ({reps}{ci})", fontsize=10
    )
    handles, labels = ax.get_legend_handles_labels()
    extra = {"vehicles left unserved", f"beyond {top:g} s (value printed)"}
    order = sorted(range(len(labels)), key=lambda j: labels[j] in extra)
    ax.legend([handles[j] for j in order], [labels[j] for j in order], fontsize=8, loc="upper left")
    return fig


def _depends_on_slots(sub: pd.DataFrame, scheme: str) -> bool:
    """True if the scheme's lane has slots (its results differ with ``geometry.slots``)."""
    from uturn_sim.model.schemes import get_scheme

    try:
        return bool(get_scheme(scheme).has_slots)
    except (KeyError, ValueError, AttributeError):
        return scheme.startswith("linked")
