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

from uturn_sim.measures.summary import LOS_SIGNALIZED
from uturn_sim.model.result import Result
from uturn_sim.validation.theory import harders_capacity, linked_capacity

__all__ = [
    "SCHEME_COLORS",
    "capacity_curves",
    "cumulative_curves",
    "delay_distributions",
    "delay_vs_demand",
    "queue_over_time",
    "slot_occupancy",
    "webster_curve",
    "write_compare_plots",
    "write_run_plots",
]

SCHEME_COLORS = {"ordinary": "#c0392b", "linked": "#1f6fb2"}
LOS_COLORS = ("#e8f5e9", "#f1f8e9", "#fffde7", "#fff3e0", "#fbe9e7", "#ffebee")


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
            color=SCHEME_COLORS[res.scheme],
            lw=1.5,
            label=f"departures, {res.scheme}",
        )
    ax.axvspan(t0 / 60, t1 / 60, color="0.93", zorder=0, label="measured period")
    ax.set_xlabel("time (min)")
    ax.set_ylabel(f"cumulative {movement} vehicles (veh)")
    ax.set_title(f"Cumulative arrivals and departures: {movement}")
    ax.legend(loc="upper left")
    return fig


def _shade_green(ax: plt.Axes, res: Result, t0: float, t1: float) -> None:
    w = res.arrivals.left_green
    sel = (w.ends > t0) & (w.starts < t1)
    for k, (s, e) in enumerate(zip(w.starts[sel], w.ends[sel], strict=True)):
        ax.axvspan(
            s / 60,
            e / 60,
            color="#2e7d32",
            alpha=0.12,
            lw=0,
            label="left-turn effective green" if k == 0 else None,
        )


PHASE_COLORS = ("#7f8c8d", "#2e7d32", "#8e44ad", "#d35400", "#2980b9", "#c0392b")


def _phase_strip(ax: plt.Axes, res: Result, t0: float, t1: float) -> None:
    """Each phase's green as a coloured strip along the top of ``ax``."""
    from uturn_sim.traffic.signal import phase_intervals

    sig = res.scenario.signal
    for j, ph in enumerate(phase_intervals(sig)):
        first = np.floor((t0 - ph.start_s) / sig.cycle_s)
        starts = ph.start_s + sig.cycle_s * np.arange(first, (t1 - ph.start_s) / sig.cycle_s + 1)
        for k, s in enumerate(starts):
            ax.axvspan(
                s / 60,
                (s + ph.green_end_s - ph.start_s) / 60,
                ymin=0.965,
                ymax=1.0,
                color=PHASE_COLORS[j % len(PHASE_COLORS)],
                lw=0,
                label=f"phase: {ph.name}" if k == 0 else None,
            )


def queue_over_time(result: Result, t_range: tuple[float, float] | None = None) -> Figure:
    """Queue in the lane over time (m), with the storage limit and the left-turn greens."""
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    t0, t1 = t_range or _window(result)
    q = result.queue
    ax.step(
        q["t_s"] / 60,
        q["queue_m"],
        where="post",
        color=SCHEME_COLORS[result.scheme],
        label=f"queue, {result.scheme}",
    )
    storage = result.scenario.geometry.storage_m
    ax.axhline(storage, color="black", ls="--", lw=1, label=f"storage {storage:g} m")
    _shade_green(ax, result, t0, t1)
    _phase_strip(ax, result, t0, t1)
    ax.set_xlim(t0 / 60, t1 / 60)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("queue length (m)")
    ax.set_title(f"Left-turn lane queue: {result.scheme} scheme (top strip: phase greens)")
    fig.legend(loc="outside lower center", fontsize=7, ncol=4)
    return fig


def slot_occupancy(result: Result, t_range: tuple[float, float] | None = None) -> Figure:
    """Which slot holds which U-turner over time (linked scheme), accepted gaps marked."""
    if result.scheme != "linked":
        raise ValueError("slot_occupancy needs a linked-scheme result")
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    t0 = _window(result)[0]
    t0, t1 = t_range or (t0, t0 + 600.0)
    v = result.vehicles
    u = v[(v["slot"] > 0) & (v["reached_s"] < t1) & (v["departure_s"].fillna(np.inf) > t0)]
    k = result.scenario.geometry.slots
    for _, row in u.iterrows():
        end = row["departure_s"] if np.isfinite(row["departure_s"]) else t1
        ax.barh(
            row["slot"],
            (end - row["reached_s"]) / 60,
            left=row["reached_s"] / 60,
            height=0.6,
            color=SCHEME_COLORS["linked"],
            alpha=0.75,
            edgecolor="white",
        )
    gaps = u.loc[u["served_by"] == "gap", "departure_s"]
    ax.plot(gaps / 60, np.full(len(gaps), 0.4), "v", color="#2e7d32", ms=6, label="U-turn start")
    c = result.arrivals.conflict_t
    c = c[(c >= t0) & (c <= t1)]
    ax.plot(c / 60, np.full(len(c), k + 0.6), "|", color="0.3", ms=8, label="conflicting passage")
    _shade_green(ax, result, t0, t1)
    ax.set_ylim(k + 1, 0)
    ax.set_yticks(range(1, k + 1))
    ax.set_xlim(t0 / 60, t1 / 60)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("slot number (1 = stop line)")
    ax.set_title("Linked slots: occupancy by U-turners")
    fig.legend(loc="outside lower center", ncol=3, fontsize=8)
    return fig


def delay_distributions(results: Sequence[Result]) -> Figure:
    """Control delay distributions (s/veh) of both schemes per movement."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained", sharey=True)
    for ax, movement in zip(axes, ("uturn", "left"), strict=True):
        data, labels, colors = [], [], []
        for res in results:
            v = res.vehicles
            t0, t1 = res.window
            sel = (v["movement"] == movement) & (v["arrival_s"] >= t0) & (v["arrival_s"] < t1)
            data.append(v.loc[sel, "control_delay_s"].dropna().to_numpy())
            labels.append(res.scheme)
            colors.append(SCHEME_COLORS[res.scheme])
        parts = ax.boxplot(data, tick_labels=labels, patch_artist=True, showfliers=False)
        for patch, col in zip(parts["boxes"], colors, strict=True):
            patch.set_facecolor(col)
            patch.set_alpha(0.6)
        ax.set_title(movement)
        ax.set_xlabel("scheme")
    axes[0].set_ylabel("control delay (s/veh)")
    fig.suptitle("Control delay by scheme (box: quartiles, whiskers: 1.5 IQR)")
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


def delay_vs_demand(
    frame: pd.DataFrame, x: str = "demand.uturn.flow_veh_h", movement: str = "uturn"
) -> Figure:
    """Mean control delay vs U-turn demand for both schemes, with HCM LOS bands.

    ``frame``: aggregated sweep rows (columns ``x``, ``scheme``, ``movement``,
    ``delay_mean_s`` and optionally ``delay_mean_s_ci_low/high`` and ``geometry.slots``).
    """
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    sub = frame[frame["movement"] == movement]
    top = float(np.nanmax(sub["delay_mean_s"])) * 1.1 if len(sub) else 100.0
    bounds = (0.0, *LOS_SIGNALIZED, max(top, LOS_SIGNALIZED[-1] * 1.2))
    for j, letter in enumerate("ABCDEF"):
        ax.axhspan(bounds[j], bounds[j + 1], color=LOS_COLORS[j], zorder=0)
        ax.text(
            1.005,
            (bounds[j] + min(bounds[j + 1], top)) / 2,
            letter,
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=9,
        )
    group_cols = ["scheme"] + (["geometry.slots"] if "geometry.slots" in sub else [])
    for key, g in sub.groupby(group_cols):
        key = key if isinstance(key, tuple) else (key,)
        g = g.sort_values(x)
        label = key[0] + (f", {int(key[1])} slots" if len(key) > 1 and key[0] == "linked" else "")
        if len(key) > 1 and key[0] == "ordinary" and key[1] != sub["geometry.slots"].min():
            continue  # the ordinary lane does not depend on the slot count: draw it once
        yerr = None
        if "delay_mean_s_ci_low" in g:
            yerr = [
                g["delay_mean_s"] - g["delay_mean_s_ci_low"],
                g["delay_mean_s_ci_high"] - g["delay_mean_s"],
            ]
        ax.errorbar(
            g[x],
            g["delay_mean_s"],
            yerr=yerr,
            marker="o",
            ms=3,
            capsize=2,
            color=SCHEME_COLORS[key[0]] if key[0] == "ordinary" else None,
            label=label,
        )
    ax.set_ylim(0, top)
    ax.set_xlabel("U-turn demand (veh/h)" if x.endswith("flow_veh_h") else x)
    ax.set_ylabel(f"mean control delay, {movement} (s/veh)")
    ax.set_title("Delay vs demand with HCM signalized LOS bands")
    ax.legend(fontsize=8)
    return fig


def write_run_plots(result: Result, directory: str | Path) -> list[Path]:
    """Write the PNGs of one run (queue, cumulative curves, slots); return their paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    figs = {
        f"queue_{result.scheme}.png": queue_over_time(result),
        f"cumulative_{result.scheme}.png": cumulative_curves([result]),
    }
    if result.scheme == "linked":
        figs["slots_linked.png"] = slot_occupancy(result)
    return _save(figs, d)


def write_compare_plots(pair: Sequence[Result], directory: str | Path) -> list[Path]:
    """Write the PNGs of one replication of both schemes; return their paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    figs = {
        "cumulative_uturn.png": cumulative_curves(pair),
        "delay_distributions.png": delay_distributions(pair),
    }
    for res in pair:
        figs[f"queue_{res.scheme}.png"] = queue_over_time(res)
        if res.scheme == "linked":
            figs["slots_linked.png"] = slot_occupancy(res)
    return _save(figs, d)


def _save(figs: dict[str, Figure], d: Path) -> list[Path]:
    out = []
    for name, fig in figs.items():
        fig.savefig(d / name, dpi=110)
        plt.close(fig)
        out.append(d / name)
    return out
