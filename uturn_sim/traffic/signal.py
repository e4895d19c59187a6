"""Fixed-time signal plan as NumPy arrays of effective-green windows.

Times are seconds from the start of the run (t = 0).  A phase's effective green
for discharge starts ``startup_lost_time_s`` after its green starts and ends
``end_gain_s`` into its amber (HCM effective green ``g = G - l1 + e``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from uturn_sim.scenario.model import Signal

__all__ = ["GreenWindows", "PhaseInterval", "green_windows", "phase_intervals"]


@dataclass(frozen=True)
class GreenWindows:
    """Sorted, disjoint half-open windows ``[starts[i], ends[i])`` in s."""

    starts: np.ndarray
    ends: np.ndarray

    def contains(self, t: np.ndarray | float) -> np.ndarray:
        """True where ``t`` (s) lies inside a window."""
        t = np.asarray(t, dtype=float)
        if len(self.starts) == 0:
            return np.zeros(t.shape, dtype=bool)
        i = np.searchsorted(self.starts, t, side="right") - 1
        ok = i >= 0
        return ok & (t < self.ends[np.maximum(i, 0)])

    def next_start(self, t: np.ndarray | float) -> np.ndarray:
        """Earliest time >= ``t`` (s) inside a window (``t`` itself when green); inf if none."""
        t = np.asarray(t, dtype=float)
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = (i >= 0) & (t < self.ends[np.maximum(i, 0)])
        nxt = np.append(self.starts, np.inf)[i + 1]
        return np.where(inside, t, nxt)

    @cached_property
    def _as_lists(self) -> tuple[list[float], list[float]]:
        return self.starts.tolist(), self.ends.tolist()

    def next_start_scalar(self, t: float) -> float:
        """Scalar :meth:`next_start` without array overhead, s (``bisect`` on lists)."""
        starts, ends = self._as_lists
        i = bisect_right(starts, t) - 1
        if i >= 0 and t < ends[i]:
            return t
        return starts[i + 1] if i + 1 < len(starts) else math.inf

    def window_end(self, t: float) -> float:
        """End (s) of the window containing ``t``; ``t`` must be inside one."""
        i = int(np.searchsorted(self.starts, t, side="right")) - 1
        return float(self.ends[i])

    def total(self, t0: float, t1: float) -> float:
        """Green time inside ``[t0, t1]``, s."""
        s = np.clip(self.starts, t0, t1)
        e = np.clip(self.ends, t0, t1)
        return float(np.sum(e - s))


@dataclass(frozen=True)
class PhaseInterval:
    """One phase's green, amber and all-red within one cycle, as offsets in s."""

    name: str
    start_s: float
    green_end_s: float
    amber_end_s: float
    end_s: float


def phase_intervals(signal: Signal) -> list[PhaseInterval]:
    """Phase timings within one cycle, offsets from the cycle start (s)."""
    out, t = [], signal.offset_s
    for p in signal.phases:
        out.append(
            PhaseInterval(
                p.name,
                t,
                t + p.green_s,
                t + p.green_s + p.amber_s,
                t + p.green_s + p.amber_s + p.all_red_s,
            )
        )
        t += p.green_s + p.amber_s + p.all_red_s
    return out


def green_windows(signal: Signal, movement: str, horizon_s: float) -> GreenWindows:
    """Effective-green windows of ``movement`` covering ``[0, horizon_s]`` and one cycle beyond.

    A movement served by no phase gets no windows (``next_start`` is inf).
    """
    C = signal.cycle_s
    ph = phase_intervals(signal)
    serves = [movement in p.serves for p in signal.phases]
    n = len(ph)
    base = []
    for i, p in enumerate(ph):
        if not serves[i]:
            continue
        # a movement served by consecutive phases keeps its green through the intergreen
        prev_serves, next_serves = serves[i - 1] and n > 1, serves[(i + 1) % n] and n > 1
        start = p.start_s + (0.0 if prev_serves else signal.startup_lost_time_s)
        end = p.end_s if next_serves else p.green_end_s + signal.end_gain_s
        base.append((start, end))
    if not base:
        empty = np.empty(0)
        return GreenWindows(empty, empty)
    n_cycles = int(np.ceil(horizon_s / C)) + 3
    k = np.arange(-1, n_cycles)[:, None] * C
    b = np.asarray(base)
    starts = (k + b[None, :, 0]).ravel()
    ends = (k + b[None, :, 1]).ravel()
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    # merge touching or overlapping windows (consecutive phases serving one movement)
    keep = np.ones(len(starts), dtype=bool)
    run_end = np.maximum.accumulate(ends)
    keep[1:] = starts[1:] > run_end[:-1] + 1e-9
    if keep.all():  # nothing touches: the windows as they are
        return GreenWindows(starts, ends)
    group = np.cumsum(keep) - 1
    merged_ends = np.full(int(keep.sum()), -np.inf)
    np.maximum.at(merged_ends, group, ends)
    return GreenWindows(starts[keep], merged_ends)
