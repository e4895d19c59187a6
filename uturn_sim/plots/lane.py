"""Lane figures: the queue over time (one run or several on a shared scale) and the slot chart.

Each figure names the run it shows (:func:`~uturn_sim.plots.common.run_label`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from uturn_sim.model.result import Result
from uturn_sim.plots.colors import OKABE_ITO, scheme_color
from uturn_sim.plots.common import run_label, strip_and_panels

__all__ = [
    "MOVEMENT_COLORS",
    "PHASE_COLORS",
    "queue_comparison",
    "queue_over_time",
    "slot_intervals",
    "slot_occupancy",
]

#: colour-blind safe (Okabe-Ito) colours per phase of the strip, in plan order
PHASE_COLORS = ("#999999", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#0072B2")
#: movements in the slot chart (left-turners are also hatched)
MOVEMENT_COLORS = {"uturn": OKABE_ITO[1], "left": OKABE_ITO[3]}
GREEN = "#009E73"


def _shade_green(ax: Axes, res: Result, t0: float, t1: float, label: bool = True) -> None:
    w = res.arrivals.left_green
    sel = (w.ends > t0) & (w.starts < t1)
    for k, (s, e) in enumerate(zip(w.starts[sel], w.ends[sel], strict=True)):
        ax.axvspan(
            s / 60,
            e / 60,
            color=GREEN,
            alpha=0.12,
            lw=0,
            label="left-turn effective green" if k == 0 and label else None,
        )


def _phase_strip(ax: Axes, res: Result, t0: float, t1: float) -> None:
    """One row per phase with its greens, phase names on the y-axis."""
    from uturn_sim.traffic.signal import phase_intervals

    sig = res.scenario.signal
    phases = phase_intervals(sig)
    for j, ph in enumerate(phases):
        first = np.floor((t0 - ph.start_s) / sig.cycle_s)
        starts = ph.start_s + sig.cycle_s * np.arange(first, (t1 - ph.start_s) / sig.cycle_s + 1)
        for k, s in enumerate(starts):
            ax.broken_barh(
                [(s / 60, (ph.green_end_s - ph.start_s) / 60)],
                (j - 0.4, 0.8),
                color=PHASE_COLORS[j % len(PHASE_COLORS)],
                label=f"phase: {ph.name}" if k == 0 else None,
            )
    ax.set_yticks(range(len(phases)), [ph.name for ph in phases], fontsize=7)
    ax.set_ylim(len(phases) - 0.5, -0.5)
    ax.tick_params(axis="x", labelbottom=False)
    ax.set_title("phase greens", fontsize=8, loc="left")


def queue_comparison(
    results: Sequence[Result],
    t_range: tuple[float, float] | None = None,
    ylim: float | None = None,
) -> Figure:
    """Queues of several runs (same arrivals) stacked on one time axis and one y-scale.

    Parameters
    ----------
    results
        Runs to draw, one panel each; usually the schemes of one replication.
    t_range
        Time shown, s (default: the measured period of the first run).
    ylim
        Top of the shared queue axis, m (default: the largest queue or the storage,
        with 5% room).

    Returns
    -------
    Figure
        A phase strip on top, then one queue panel per run; the queue panels share
        their y-axis.
    """
    first = results[0]
    t0, t1 = t_range or first.window
    storage = first.scenario.geometry.storage_m
    if ylim is None:
        peak = max(float(r.queue["queue_m"].max()) for r in results)
        ylim = 1.05 * max(peak, storage)
    n = len(results)
    fig, strip, axes = strip_and_panels(n, (8, 1.4 + 2.6 * n), 1.0)
    _phase_strip(strip, first, t0, t1)
    for i, (ax, res) in enumerate(zip(axes, results, strict=True)):
        q = res.queue
        ax.step(
            q["t_s"] / 60,
            q["queue_m"],
            where="post",
            color=scheme_color(res.scheme),
            label=f"queue, {res.scheme}",
        )
        st = res.scenario.geometry.storage_m
        ax.axhline(st, color="black", ls="--", lw=1, label=f"storage {st:g} m" if i == 0 else None)
        _shade_green(ax, res, t0, t1, label=i == 0)
        ax.set_ylabel("queue length (m)")
        ax.set_title(f"{res.scheme} scheme", fontsize=9, loc="left")
        if i < n - 1:
            ax.tick_params(axis="x", labelbottom=False)
    axes[0].set_xlim(t0 / 60, t1 / 60)
    axes[0].set_ylim(0, ylim)
    axes[-1].set_xlabel("time (min)")
    fig.suptitle(f"Left-turn lane queue, same arrivals ({run_label(first)})", fontsize=10)
    fig.legend(loc="outside lower center", fontsize=7, ncol=4)
    return fig


def queue_over_time(
    result: Result,
    t_range: tuple[float, float] | None = None,
    ylim: float | None = None,
) -> Figure:
    """Queue in the lane over time (m), with the storage limit, left-turn greens, phase strip.

    Parameters
    ----------
    result
        One run.
    t_range
        Time shown, s (default: the measured period).
    ylim
        Top of the queue axis, m; give the same value to figures read side by side
        (default: the largest queue or the storage, with 5% room). :func:`queue_comparison`
        draws several runs on one shared scale.

    Returns
    -------
    Figure
        ``fig.axes[0]`` is the queue, ``fig.axes[1]`` the phase strip.
    """
    fig = queue_comparison([result], t_range=t_range, ylim=ylim)
    fig.suptitle(f"Left-turn lane queue: {result.scheme} scheme ({run_label(result)})", fontsize=10)
    return fig


def slot_intervals(result: Result) -> pd.DataFrame:
    """Every vehicle at rest in the lane: ``vehicle, movement, position, start_s, end_s``.

    From ``Result.events`` (``simulate(..., trace=True)``): a vehicle rests at
    ``position`` (0 = slot 1 at the stop line) from its ``reach`` event until its next
    event (``move`` up or ``start`` of its turn); ``end_s`` is inf if it is still there.

    Raises
    ------
    ValueError
        If the result was simulated without ``trace=True``.
    """
    ev = result.events
    if ev is None:
        raise ValueError("slot_intervals needs simulate(..., trace=True): Result.events is None")
    ev = ev.sort_values(["vehicle", "t_s"], kind="stable")
    nxt = ev.groupby("vehicle")["t_s"].shift(-1)
    rest = ev.assign(end_s=nxt.fillna(np.inf))
    rest = rest[rest["event"] == "reach"]
    movement = result.vehicles.set_index("id")["movement"]
    return pd.DataFrame(
        {
            "vehicle": rest["vehicle"].to_numpy(),
            "movement": movement.reindex(rest["vehicle"]).to_numpy(),
            "position": rest["position"].to_numpy(),
            "start_s": rest["t_s"].to_numpy(),
            "end_s": rest["end_s"].to_numpy(),
        }
    ).sort_values(["start_s", "position"], ignore_index=True)


def slot_occupancy(result: Result, t_range: tuple[float, float] | None = None) -> Figure:
    """Who stands in which slot over time: U-turners and left-turners, accepted gaps marked.

    With ``simulate(..., trace=True)`` every vehicle at rest in a slot is drawn, so a
    U-turner in slot 2 behind a left-turner waiting in slot 1 shows as such; without
    the trace only U-turners are drawn (from their records) and the title says so.

    Parameters
    ----------
    result
        A run of a scheme with slots (``result.has_slots``).
    t_range
        Time shown, s (default: the first 10 minutes of the measured period).

    Raises
    ------
    ValueError
        For a run without slots.
    """
    if not result.has_slots:
        raise ValueError(f"slot_occupancy needs a slotted (linked) scheme, not {result.scheme!r}")
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    t0 = result.window[0]
    t0, t1 = t_range or (t0, t0 + 600.0)
    k = result.scenario.geometry.slots
    v = result.vehicles
    if result.events is not None:
        iv = slot_intervals(result)
        iv = iv[(iv["position"] < k) & (iv["start_s"] < t1) & (iv["end_s"] > t0)]
        bars = [(r.position + 1, r.start_s, r.end_s, r.movement) for r in iv.itertuples()]
        note = "U-turners and left-turners at rest"
    else:
        u = v[(v["slot"] > 0) & (v["reached_s"] < t1) & (v["departure_s"].fillna(np.inf) > t0)]
        bars = [
            (r.slot, r.reached_s, r.departure_s, "uturn")
            for r in u.itertuples()
            if r.reached_s == r.reached_s
        ]
        note = "U-turners only (simulate with trace=True to see left-turners)"
    labelled: set[str] = set()
    for slot, start, end, mov in bars:
        end = end if np.isfinite(end) else t1
        name = {"uturn": "U-turner", "left": "left-turner"}.get(mov, mov)
        ax.barh(
            slot,
            (end - start) / 60,
            left=start / 60,
            height=0.6,
            color=MOVEMENT_COLORS.get(mov, "0.5"),
            alpha=0.8,
            hatch="///" if mov == "left" else None,
            edgecolor="white",
            label=name if name not in labelled else None,
        )
        labelled.add(name)
    gaps = v.loc[(v["served_by"] == "gap") & v["departure_s"].between(t0, t1), "departure_s"]
    ax.plot(gaps / 60, np.full(len(gaps), 0.4), "v", color=GREEN, ms=6, label="U-turn start")
    c = result.arrivals.conflict_t
    c = c[(c >= t0) & (c <= t1)]
    ax.plot(c / 60, np.full(len(c), k + 0.6), "|", color="0.3", ms=8, label="conflicting passage")
    _shade_green(ax, result, t0, t1)
    ax.set_ylim(k + 1, 0)
    ax.set_yticks(range(1, k + 1))
    ax.set_xlim(t0 / 60, t1 / 60)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("slot number (1 = stop line)")
    ax.set_title(f"{result.scheme} slots: {note}\n{run_label(result)}", fontsize=9)
    fig.legend(loc="outside lower center", ncol=5, fontsize=8)
    return fig
