"""Figures engineers read first.  Every function takes results and returns a Figure.

Nothing here shows or saves on its own except the ``write_*`` helpers used by
the CLI.  matplotlib is imported only by this package; importing it never selects a backend
(matplotlib falls back to Agg on a machine with no display).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from uturn_sim.model.result import Result
from uturn_sim.plots.approach import approach_figures
from uturn_sim.plots.colors import scheme_color
from uturn_sim.plots.common import run_label, save_figures
from uturn_sim.plots.demand import LOS_COLORS, delay_vs_demand
from uturn_sim.plots.lane import (
    PHASE_COLORS,
    queue_comparison,
    queue_over_time,
    slot_occupancy,
)
from uturn_sim.validation.theory import harders_capacity, linked_capacity

__all__ = [
    "SCHEME_COLORS",
    "capacity_curves",
    "cumulative_curves",
    "delay_distributions",
    "delay_vs_demand",
    "queue_comparison",
    "queue_over_time",
    "slot_occupancy",
    "webster_curve",
    "write_compare_plots",
    "write_run_plots",
    "write_sweep_plots",
]

#: colours of the built-in schemes (any registered scheme: :func:`scheme_color`)
SCHEME_COLORS = {
    n: scheme_color(n)
    for n in ("ordinary", "linked", "ordinary_permitted", "linked_sanya", "linked_zhengzhou")
}
__all__ += ["LOS_COLORS", "PHASE_COLORS"]


def _window(res: Result) -> tuple[float, float]:
    return res.window


def cumulative_curves(results: Sequence[Result], movement: str = "uturn") -> Figure:
    """Cumulative arrivals and departures of ``movement`` (both schemes on one axis).

    The horizontal distance between the arrival and a departure curve is the
    delay, the vertical distance the number waiting.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    t0, t1 = _window(results[0])
    v0 = results[0].vehicles
    a = np.sort(v0.loc[v0["movement"] == movement, "arrival_s"].to_numpy())
    ax.step(a / 60, np.arange(1, len(a) + 1), where="post", color="black", lw=1.5, label="arrivals")
    for res in results:
        v = res.vehicles
        d = np.sort(v.loc[v["movement"] == movement, "departure_s"].dropna().to_numpy())
        ax.step(
            d / 60,
            np.arange(1, len(d) + 1),
            where="post",
            color=scheme_color(res.scheme),
            lw=1.5,
            label=f"departures, {res.scheme}",
        )
    ax.axvspan(t0 / 60, t1 / 60, color="0.93", zorder=0, label="measured period")
    ax.set_xlabel("time (min)")
    ax.set_ylabel(f"cumulative {movement} vehicles (veh)")
    ax.set_title(
        f"Cumulative arrivals and departures: {movement} ({run_label(results[0])})", fontsize=10
    )
    ax.legend(loc="upper left")
    return fig


def delay_distributions(results: Sequence[Result]) -> Figure:
    """Control delay distributions (s/veh) of the schemes, one panel per movement.

    Panels: ``uturn``, ``left`` and, when the runs have through lanes, ``through``.
    """
    present = set(results[0].vehicles["movement"])
    movements = [m for m in ("uturn", "left", "through") if m in present or m != "through"]
    fig, axes = plt.subplots(
        1, len(movements), figsize=(4.5 * len(movements), 4), layout="constrained", sharey=True
    )
    for ax, movement in zip(axes, movements, strict=True):
        data, labels, colors = [], [], []
        for res in results:
            v = res.vehicles
            t0, t1 = res.window
            sel = (v["movement"] == movement) & (v["arrival_s"] >= t0) & (v["arrival_s"] < t1)
            data.append(v.loc[sel, "control_delay_s"].dropna().to_numpy())
            labels.append(res.scheme)
            colors.append(scheme_color(res.scheme))
        parts = ax.boxplot(
            data,
            tick_labels=labels,
            patch_artist=True,
            showfliers=False,
            medianprops={"color": "black", "lw": 1.5},
        )
        for patch, col in zip(parts["boxes"], colors, strict=True):
            patch.set_facecolor(col)
            patch.set_alpha(0.6)
        ax.set_title(movement)
        ax.set_xlabel("scheme")
    axes[0].set_ylabel("control delay (s/veh)")
    fig.suptitle(
        "Control delay by scheme (box: quartiles, whiskers: 1.5 IQR)\n" + run_label(results[0]),
        fontsize=10,
    )
    return fig


def capacity_curves(
    frame: pd.DataFrame, tc: float = 6.4, tf: float = 2.5, lag: float = 1.5
) -> Figure:
    """U-turn capacity (veh/h) vs conflicting flow: simulated points over the closed forms.

    Points carry 95% CIs; curves are Harders (ordinary lane) and ``c_k`` (linked slots).

    ``frame`` is :func:`uturn_sim.validation.run_capacity` output (columns ``case, x,
    sim, ci_low, ci_high, slots``).
    """
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    q = np.linspace(max(1.0, frame["x"].min() * 0.8), frame["x"].max() * 1.05, 200)
    ax.plot(
        q,
        harders_capacity(q / 3600, tc, tf) * 3600,
        color=SCHEME_COLORS["ordinary"],
        lw=1.5,
        label=f"Harders (t_c={tc:g} s, t_f={tf:g} s)",
    )
    cmap = plt.get_cmap("Blues")
    ks = sorted(frame.loc[frame["case"].str.startswith("linked"), "slots"].unique())
    for j, k in enumerate(ks):
        col = cmap(0.45 + 0.5 * j / max(1, len(ks) - 1))
        ax.plot(
            q, linked_capacity(q / 3600, tc, lag, k) * 3600, color=col, lw=1.2, label=f"c_k, k={k}"
        )
    markers = {"harders": "o", "cowan": "s", "linked_strict": "D", "linked_real": "^"}
    for (case, k), sub in frame.groupby(["case", "slots"]):
        col = (
            SCHEME_COLORS["ordinary"]
            if case in ("harders", "cowan")
            else cmap(0.45 + 0.5 * ks.index(k) / max(1, len(ks) - 1))
        )
        ax.errorbar(
            sub["x"],
            sub["sim"],
            yerr=[sub["sim"] - sub["ci_low"], sub["ci_high"] - sub["sim"]],
            fmt=markers.get(case, "o"),
            color=col,
            ms=4,
            capsize=2,
            mfc="white" if case == "linked_real" else col,
            label=f"sim {case}" + (f" k={k}" if case.startswith("linked") else ""),
        )
    ax.set_xlabel("conflicting flow (veh/h)")
    ax.set_ylabel("U-turn capacity (veh/h)")
    ax.set_title("U-turn capacity vs conflicting flow: simulation (95% CI) and theory")
    ax.legend(fontsize=7, ncol=2)
    return fig


def webster_curve(frame: pd.DataFrame) -> Figure:
    """Left-turn delay (s/veh) vs degree of saturation: simulation with CIs, Webster, HCM d1."""
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    ax.errorbar(
        frame["x"],
        frame["sim"],
        yerr=[frame["sim"] - frame["ci_low"], frame["ci_high"] - frame["sim"]],
        fmt="o",
        color="black",
        capsize=3,
        label="simulation (95% CI)",
    )
    ax.plot(frame["x"], frame["theory"], "-", color="#1f6fb2", label="Webster")
    ax.plot(frame["x"], frame["hcm_d1"], "--", color="#7f8c8d", label="HCM uniform delay d1")
    ax.set_xlabel("degree of saturation x (-)")
    ax.set_ylabel("mean control delay (s/veh)")
    ax.set_title("Protected left turn, Poisson arrivals, C = 60 s, g = 24 s")
    ax.legend()
    return fig


def write_run_plots(
    result: Result, directory: str | Path, formats: Sequence[str] = ("png",)
) -> list[Path]:
    """Write the figures of one run (queue, cumulative curves, slots); return their paths.

    With through lanes, also ``approach_queues`` and ``approach_time_space``
    (:func:`uturn_sim.plots.approach.approach_figures`).

    Parameters
    ----------
    result
        One run; simulate it with ``trace=True`` so the slot chart shows left-turners.
    directory
        Output directory (created).
    formats
        Any of ``png``, ``svg``, ``pdf``; one file per figure and format.
    """
    figs = {
        f"queue_{result.scheme}": queue_over_time(result),
        f"cumulative_{result.scheme}": cumulative_curves([result]),
    }
    if result.has_slots:
        figs[f"slots_{result.scheme}"] = slot_occupancy(result)
    figs.update(approach_figures([result]))
    return save_figures(figs, directory, formats)


def write_compare_plots(
    pair: Sequence[Result], directory: str | Path, formats: Sequence[str] = ("png",)
) -> list[Path]:
    """Write the figures of one replication of several schemes; return their paths.

    ``queue_compare`` draws every scheme's queue on one shared y-scale; the single
    ``queue_<scheme>`` figures use that same scale, so they can be read side by side.
    With through lanes, ``approach_queues`` and ``approach_time_space`` show the whole
    approach, one panel per scheme, over the 15 busiest minutes
    (:func:`uturn_sim.plots.approach.approach_figures`); for the bay alone they are
    not written.

    Parameters
    ----------
    pair
        The schemes' runs of one replication (same arrivals); with ``trace=True`` the
        slot charts show left-turners.
    directory
        Output directory (created).
    formats
        Any of ``png``, ``svg``, ``pdf``.
    """
    storage = max(r.scenario.geometry.storage_m for r in pair)
    top = 1.05 * max(storage, max(float(r.queue["queue_m"].max()) for r in pair))
    figs = {
        "cumulative_uturn": cumulative_curves(pair),
        "delay_distributions": delay_distributions(pair),
        "queue_compare": queue_comparison(pair, ylim=top),
    }
    for res in pair:
        figs[f"queue_{res.scheme}"] = queue_over_time(res, ylim=top)
        if res.has_slots:
            figs[f"slots_{res.scheme}"] = slot_occupancy(res)
    figs.update(approach_figures(pair))
    return save_figures(figs, directory, formats)


def write_sweep_plots(
    aggregate: pd.DataFrame,
    directory: str | Path,
    formats: Sequence[str] = ("png",),
    x: str | None = None,
) -> list[Path]:
    """Write a sweep's delay-vs-demand charts (U-turn, and all vehicles); return the paths.

    Parameters
    ----------
    aggregate
        :func:`uturn_sim.sweeps.run.aggregate` output (with ``unserved`` among its
        measures to mark cells that left vehicles unserved).
    directory
        Output directory (created).
    formats
        Any of ``png``, ``svg``, ``pdf``.
    x
        The varied column on the x-axis (default: ``demand.uturn.flow_veh_h`` if
        varied, else the first varied parameter other than ``geometry.slots``).

    Raises
    ------
    ValueError
        If ``x`` is not a column of ``aggregate`` (the sweep did not vary it).
    """
    if x is None:
        cols = list(aggregate.columns)
        params = cols[cols.index("cell") + 1 : cols.index("scheme")] if "cell" in cols else []
        others = [p for p in params if p != "geometry.slots"]
        x = "demand.uturn.flow_veh_h" if "demand.uturn.flow_veh_h" in params else None
        x = x or (others or params or [None])[0]
    if x is None or x not in aggregate:
        raise ValueError(f"the sweep does not vary {x!r}: no delay-vs-demand chart")
    figs = {
        "delay_vs_demand": delay_vs_demand(aggregate, x=x, movement="uturn"),
        "delay_vs_demand_all": delay_vs_demand(aggregate, x=x, movement="all"),
    }
    return save_figures(figs, directory, formats)
