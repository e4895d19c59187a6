"""An animation of the approach for presentations (matplotlib's animation writers).

The lane is drawn with the stop line at x = 0 and upstream to the left; the
numbered slots (linked scheme) are boxes; cars are coloured by movement; a
U-turner is drawn on its turning arc for a few seconds after it starts; the
left-turn signal and conflicting passages are shown above the lane.
Positions are the vehicles' places in the single-file queue (from the records).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from uturn_sim.model.result import Result
from uturn_sim.plots.figures import plt

__all__ = ["animate", "check_writer", "lane_positions"]

MOVEMENT_COLORS = {"uturn": "#1f6fb2", "left": "#e67e22"}
TURN_S = 4.0  # how long a U-turner stays drawn on its arc after it starts, s


def check_writer(path: str | Path) -> None:
    """Raise ValueError unless ``path`` ends in .gif, or .mp4 with ffmpeg on the PATH."""
    from matplotlib import animation

    suffix = Path(path).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"animation file must end in .gif or .mp4, got {str(path)!r}")
    if suffix == ".mp4" and not animation.writers.is_available("ffmpeg"):
        raise ValueError("MP4 needs ffmpeg on the PATH (e.g. apt-get install ffmpeg); use .gif")


def lane_positions(result: Result, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the bay's vehicles waiting at ``t`` (s), front first, and their places.

    Only the bay's vehicles (``lane == 0``: U-turners and left-turners) are drawn; with
    through lanes, those still waiting in through lane 1 to enter the bay stand at the
    back of the single file.  Indices are positions in ``result.vehicles``; places
    count from 0 at the front.  Nobody passes in the single file, so the place is the
    rank by arrival among those present.
    """
    v = result.vehicles
    a = v["arrival_s"].to_numpy()
    d = v["departure_s"].fillna(np.inf).to_numpy()
    bay = (v["lane"] == 0).to_numpy() if "lane" in v else np.ones(len(v), dtype=bool)
    inside = np.flatnonzero(bay & (a <= t) & (d > t))
    return inside, np.arange(len(inside))


def animate(
    result: Result,
    path: str | Path,
    *,
    start_s: float | None = None,
    duration_s: float = 300.0,
    fps: int = 5,
    speedup: float = 5.0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write an animation of ``result`` to ``path`` (``.gif`` with Pillow, ``.mp4`` with ffmpeg).

    Parameters
    ----------
    start_s
        First simulated time shown, s (default: start of the measured period).
    duration_s
        Simulated time shown, s.
    fps
        Frames per second of the file.
    speedup
        Simulated seconds per real second.
    progress
        Called as ``progress(frames_done, frames_total)`` after each frame is written
        (the CLI's progress bar).

    Returns
    -------
    Path
        The file written.
    """
    from matplotlib import animation
    from matplotlib.patches import Rectangle

    check_writer(path)

    scn = result.scenario
    spacing = scn.geometry.jam_spacing_m
    k = scn.geometry.slots if result.has_slots else 0
    storage = scn.geometry.storage_m
    t0 = result.window[0] if start_s is None else start_s
    times = t0 + np.arange(0.0, duration_s, speedup / fps)
    v = result.vehicles
    movement = v["movement"].to_numpy()
    dep = v["departure_s"].to_numpy()
    conflicts = result.arrivals.conflict_t
    green = result.arrivals.left_green

    fig, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
    ax.set_xlim(-max(storage, 12 * spacing) - spacing, 34)
    ax.set_ylim(-6, 16)
    ax.set_aspect("equal")
    ax.set_xlabel("distance from the stop line (m)")
    ax.set_yticks([])
    ax.axvline(0, color="black", lw=2)
    ax.axvline(-storage, color="0.5", ls=":", lw=1)
    ax.text(-storage, -5, f"storage end ({storage:g} m)", fontsize=7, ha="left")
    for s in range(k):
        ax.add_patch(
            Rectangle(
                (-(s + 1) * spacing, -1.8), spacing, 3.6, fill=False, ec="#2e7d32", ls="--", lw=1
            )
        )
        ax.text(-(s + 0.5) * spacing, -3.2, str(s + 1), ha="center", fontsize=8, color="#2e7d32")
    ax.plot([], [], "s", color=MOVEMENT_COLORS["uturn"], label="U-turn")
    ax.plot([], [], "s", color=MOVEMENT_COLORS["left"], label="left turn")
    ax.legend(loc="upper left", fontsize=7, ncol=2)
    light = ax.scatter([4], [12], s=160, color="red", zorder=3)
    ax.text(6, 11.3, "left-turn signal", fontsize=7)
    flash = ax.scatter([26], [3], s=140, color="0.3", marker="v", alpha=0.0)
    ax.text(26, 5.5, "conflicting\ntraffic", fontsize=7, ha="center")
    clock = ax.text(-storage, 13, "", fontsize=9)
    cars = ax.scatter([], [], s=90, marker="s")

    def frame(t: float):
        idx, place = lane_positions(result, t)
        x = -(place + 0.5) * spacing
        y = np.zeros(len(idx))
        turning = np.flatnonzero((movement == "uturn") & (dep <= t) & (dep > t - TURN_S))
        phase = (t - dep[turning]) / TURN_S * np.pi
        xs = np.concatenate((x, 4 + 6 * np.sin(phase)))
        ys = np.concatenate((y, 6 - 6 * np.cos(phase)))
        cols = [MOVEMENT_COLORS[m] for m in movement[idx]] + [MOVEMENT_COLORS["uturn"]] * len(
            turning
        )
        cars.set_offsets(np.column_stack((xs, ys)) if len(xs) else np.empty((0, 2)))
        cars.set_color(cols)
        light.set_color("#2e7d32" if green.contains(t) else "#c0392b")
        near = np.any(np.abs(conflicts - t) < speedup / fps) if len(conflicts) else False
        flash.set_alpha(1.0 if near else 0.0)
        clock.set_text(f"{result.scheme} scheme   t = {t / 60:5.1f} min   queue {len(idx)} veh")
        return cars, light, flash, clock

    anim = animation.FuncAnimation(fig, frame, frames=times, blit=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gif = path.suffix.lower() == ".gif"
    writer = animation.PillowWriter(fps=fps) if gif else animation.FFMpegWriter(fps=fps)
    n = len(times)
    done = None if progress is None else (lambda i, _total: progress(i + 1, n))
    anim.save(path, writer=writer, dpi=80, progress_callback=done)
    plt.close(fig)
    return path
