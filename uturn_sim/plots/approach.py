"""Figures of the whole approach: the bay's and the through lanes' queues, and blocking.

Both figures take runs of one replication (one panel per scheme, same arrivals) and
show a readable window, by default the 15 minutes of the measured period with the
largest approach queue (:func:`peak_window`), under a band of the through and the
left-turn effective greens:

* ``approach_queues``: the queue of the bay and of each through lane, m from the stop
  line, with the bay's storage and its opening (``storage_m + taper_m``);
* ``approach_time_space``: distance upstream of the stop line against time, the bay's
  and through lane 1's queues, and the intervals in which lane 1 blocked the bay
  entrance (state 1 of ``Result.lane_one``) or the bay's spillback blocked lane 1
  (state 2).

For a run of the bay alone (``approach.through_lanes: 0``) both functions draw the bay
only (no through lanes, no blocking to shade) and :func:`approach_figures` returns
nothing: the bay-alone figure set stays as it was (``queue_compare`` shows the bay).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from uturn_sim.model.result import Result
from uturn_sim.plots.colors import BLOCKING_COLORS, lane_color
from uturn_sim.plots.common import run_label, strip_and_panels
from uturn_sim.traffic.signal import green_windows

__all__ = [
    "BLOCKING_LABELS",
    "approach_figures",
    "approach_queues",
    "approach_time_space",
    "lane_one_intervals",
    "peak_window",
]

#: legend text of the shaded states of through lane 1
BLOCKING_LABELS = {
    1: "bay entrance blocked by the through queue",
    2: "lane 1 blocked by the bay's spillback",
}
_GREEN = "#009E73"
_STYLES = ("-", "-", "--", ":", "-.")


def _lanes(res: Result) -> int:
    return res.scenario.approach.through_lanes


def _area(t: np.ndarray, level: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Integral of a step function (``level[k]`` on ``[t[k], t[k+1])``, 0 before) up to ``x``."""
    cum = np.concatenate(([0.0], np.cumsum(level[:-1] * np.diff(t))))
    i = np.searchsorted(t, x, side="right") - 1
    ok = i >= 0
    j = np.maximum(i, 0)
    return np.where(ok, cum[j] + level[j] * (x - t[j]), 0.0)


def peak_window(
    results: Sequence[Result], length_s: float = 900.0, step_s: float = 60.0
) -> tuple[float, float]:
    """The ``length_s`` window of the measured period with the largest approach queue, s.

    The approach queue is the sum of the bay's and every through lane's queue (m,
    :meth:`Result.lane_queues`), integrated over the window and summed over the
    runs; candidate windows start every ``step_s`` from the start of the measured
    period.  A measured period shorter than ``length_s`` is returned whole.

    Parameters
    ----------
    results
        Runs of one replication (their measured periods are taken from the first).
    length_s
        Window length, s.
    step_s
        Spacing of the candidate starts, s.

    Returns
    -------
    tuple of float
        ``(start, end)``, s from the run start.
    """
    t0, t1 = results[0].window
    if t1 - t0 <= length_s:
        return t0, t1
    starts = np.arange(t0, t1 - length_s + 1e-9, step_s)
    score = np.zeros(len(starts))
    for res in results:
        q = res.lane_queues()
        t = q["t_s"].to_numpy()
        total = q[[c for c in q.columns if c.endswith("_m")]].sum(axis=1).to_numpy()
        score += _area(t, total, starts + length_s) - _area(t, total, starts)
    s = float(starts[int(np.argmax(score))])
    return s, s + length_s


def lane_one_intervals(result: Result, t_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """Intervals of through lane 1's blocking states, from ``Result.lane_one``.

    Parameters
    ----------
    result
        One run with through lanes.
    t_range
        Clip to ``(start, end)``, s (default: the whole run, to ``simulation.end_s``).

    Returns
    -------
    pandas.DataFrame
        Columns ``state`` (1 bay entrance blocked by the through queue, 2 lane 1
        blocked by the bay's spillback), ``start_s``, ``end_s`` (s), in time order;
        empty for the bay alone (``lane_one`` is None).
    """
    cols = {"state": np.empty(0, dtype=np.int8), "start_s": np.empty(0), "end_s": np.empty(0)}
    if result.lane_one is None:
        return pd.DataFrame(cols)
    t, state = (np.asarray(a) for a in result.lane_one)
    lo, hi = t_range or (-np.inf, result.scenario.simulation.end_s)
    start = np.maximum(t, lo)
    end = np.minimum(np.append(t[1:], result.scenario.simulation.end_s), hi)
    keep = (state > 0) & (end > start)
    return pd.DataFrame(
        {"state": state[keep].astype(np.int8), "start_s": start[keep], "end_s": end[keep]}
    )


def _signal_band(ax: Axes, res: Result, t0: float, t1: float) -> None:
    """Rows of effective greens (through; left and U-turn) over ``[t0, t1]`` s, x in min."""
    sig = res.scenario.signal
    rows = [("through", "through green"), ("left", "left + U-turn green")]
    for j, (movement, _) in enumerate(rows):
        w = green_windows(sig, movement, res.scenario.simulation.end_s)
        sel = (w.ends > t0) & (w.starts < t1)
        bars = [(s / 60, (e - s) / 60) for s, e in zip(w.starts[sel], w.ends[sel], strict=True)]
        label = "effective green" if j == 0 else None
        ax.broken_barh(bars, (j - 0.35, 0.7), color=_GREEN, label=label)
    ax.set_yticks(range(len(rows)), [name for _, name in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_facecolor("#f2dede")  # red: outside the effective green
    ax.tick_params(axis="x", labelbottom=False)
    ax.set_title("signal (shaded red: no effective green)", fontsize=8, loc="left")


def _bay_lines(ax: Axes, res: Result, label: bool) -> None:
    """The bay's storage and opening (``storage_m + taper_m``), m, as horizontal lines."""
    storage = res.scenario.geometry.storage_m
    hide = "" if label else "_"
    ax.axhline(storage, color="black", ls="--", lw=1, label=f"{hide}bay storage {storage:g} m")
    if _lanes(res):
        taper = res.scenario.approach.taper_m
        ax.axhline(
            storage + taper,
            color="0.35",
            ls=":",
            lw=1.5,
            label=f"{hide}bay opening {storage + taper:g} m (storage + taper {taper:g} m)",
        )


def _panels(
    results: Sequence[Result], t0: float, t1: float, title: str
) -> tuple[Figure, list[Axes]]:
    """A signal band on top, then one panel per run sharing x (min) and y."""
    n = len(results)
    fig, band, axes = strip_and_panels(n, (9, 1.2 + 2.8 * n), 0.8)
    _signal_band(band, results[0], t0, t1)
    for i, (ax, res) in enumerate(zip(axes, results, strict=True)):
        alone = "" if _lanes(res) else " (bay alone: no through lanes)"
        ax.set_title(f"{res.scheme} scheme{alone}", fontsize=9, loc="left")
        if i < n - 1:
            ax.tick_params(axis="x", labelbottom=False)
    axes[0].set_xlim(t0 / 60, t1 / 60)
    axes[-1].set_xlabel("time (min)")
    fig.suptitle(f"{title} ({run_label(results[0])})", fontsize=10)
    return fig, axes


def _top(results: Sequence[Result], t0: float, t1: float) -> float:
    """Largest queue (m) of any lane in ``[t0, t1]`` s, or the bay opening, with 5% room."""
    top = 0.0
    for res in results:
        q = res.lane_queues()
        t = q["t_s"].to_numpy()
        i0 = max(int(np.searchsorted(t, t0, side="right")) - 1, 0)
        shown = q.iloc[i0 : int(np.searchsorted(t, t1, side="right"))]
        top = max(top, float(shown[[c for c in q.columns if c.endswith("_m")]].to_numpy().max()))
        top = max(top, res.scenario.geometry.storage_m + res.scenario.approach.taper_m)
    return 1.05 * top


def approach_queues(
    results: Sequence[Result],
    t_range: tuple[float, float] | None = None,
    ylim: float | None = None,
) -> Figure:
    """Queue against time of the bay and of each through lane, one panel per run.

    Queues are the queue space (m) from the stop line of the vehicles in each lane
    (:meth:`Result.lane_queues`: the bay's vehicles standing in the bay; a through
    lane's through vehicles and, in lane 1, the bay vehicles waiting to enter the bay).

    Parameters
    ----------
    results
        Runs of one replication (same arrivals), e.g. ``ordinary`` and ``linked``.
    t_range
        Time shown, s (default: :func:`peak_window`, the 15 busiest minutes).
    ylim
        Top of the shared queue axis, m (default: the largest queue shown or the bay
        opening, with 5% room).

    Returns
    -------
    Figure
        ``fig.axes[:n]`` the queue panels (y in m, x in min), ``fig.axes[n]`` the
        signal band.
    """
    t0, t1 = t_range or peak_window(results)
    fig, axes = _panels(results, t0, t1, "Approach queues, same arrivals")
    for i, (ax, res) in enumerate(zip(axes, results, strict=True)):
        q = res.lane_queues()
        x = q["t_s"] / 60
        label = (lambda s: s) if i == 0 else (lambda s: f"_{s}")
        ax.step(x, q["bay_m"], where="post", color=lane_color(0), lw=1.8, label=label("bay"))
        for k in range(1, _lanes(res) + 1):
            ax.step(
                x,
                q[f"lane_{k}_m"],
                where="post",
                color=lane_color(k),
                ls=_STYLES[k % len(_STYLES)],
                lw=1.4,
                label=label(f"through lane {k}" + (" (next to the bay)" if k == 1 else "")),
            )
        _bay_lines(ax, res, label=i == 0)
        ax.set_ylabel("queue from the stop line (m)")
    axes[0].set_ylim(0, ylim or _top(results, t0, t1))
    fig.legend(loc="outside lower center", fontsize=7, ncol=3)
    return fig


def approach_time_space(
    results: Sequence[Result], t_range: tuple[float, float] | None = None
) -> Figure:
    """Time–space sketch of the bay and through lane 1, with lane 1's blocking shaded.

    y is the distance upstream of the stop line (m): the filled area is through
    lane 1's queue (its through vehicles and the bay vehicles waiting in it), the line
    the bay's queue; the dotted line is the bay opening.  Intervals in which lane 1's
    state (``Result.lane_one``, :func:`lane_one_intervals`) is 1 (the through queue
    stands past the opening: the bay entrance is blocked) or 2 (a bay vehicle waits at
    the opening for room: the bay's spillback blocks lane 1) are shaded across the
    panel, each state in its own colour (:data:`~uturn_sim.plots.colors.BLOCKING_COLORS`);
    the shaded spans carry ``gid`` ``"lane_one_state_1"`` / ``"lane_one_state_2"``.

    Parameters
    ----------
    results
        Runs of one replication (same arrivals).
    t_range
        Time shown, s (default: :func:`peak_window`).

    Returns
    -------
    Figure
        ``fig.axes[:n]`` the panels (x in min, y in m), ``fig.axes[n]`` the signal band.
    """
    t0, t1 = t_range or peak_window(results)
    fig, axes = _panels(results, t0, t1, "Time–space: bay entrance and lane 1 blocking")
    seen: set[str] = set()

    def once(text: str) -> str:
        out = text if text not in seen else f"_{text}"
        seen.add(text)
        return out

    for i, (ax, res) in enumerate(zip(axes, results, strict=True)):
        for r in lane_one_intervals(res, (t0, t1)).itertuples():
            ax.axvspan(
                r.start_s / 60,
                r.end_s / 60,
                color=BLOCKING_COLORS[r.state],
                alpha=0.3 if r.state == 1 else 0.35,
                hatch="x" if r.state == 2 else None,
                lw=0,
                zorder=0,
                gid=f"lane_one_state_{r.state}",
                label=once(BLOCKING_LABELS[r.state]),
            )
        q = res.lane_queues()
        x = q["t_s"] / 60
        if _lanes(res):
            ax.fill_between(
                x,
                q["lane_1_m"],
                step="post",
                color=lane_color(1),
                alpha=0.25,
                lw=0,
                label=once("through lane 1 queue"),
            )
            ax.step(x, q["lane_1_m"], where="post", color=lane_color(1), lw=1.2)
        ax.step(x, q["bay_m"], where="post", color=lane_color(0), lw=1.8, label=once("bay queue"))
        _bay_lines(ax, res, label=i == 0)
        ax.set_ylabel("distance upstream of\nthe stop line (m)")
    axes[0].set_ylim(0, _top(results, t0, t1))
    fig.legend(loc="outside lower center", fontsize=7, ncol=3)
    return fig


def approach_figures(
    results: Sequence[Result], t_range: tuple[float, float] | None = None
) -> dict[str, Figure]:
    """``{"approach_queues": ..., "approach_time_space": ...}``; empty for the bay alone.

    Parameters
    ----------
    results
        Runs of one replication (same arrivals).
    t_range
        Time shown, s (default: :func:`peak_window` of ``results``).
    """
    if not any(r.lane_one is not None for r in results):
        return {}
    window = t_range or peak_window(results)
    return {
        "approach_queues": approach_queues(results, t_range=window),
        "approach_time_space": approach_time_space(results, t_range=window),
    }
