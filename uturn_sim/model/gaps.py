"""Gap acceptance lookups in the conflicting passages, vectorized with ``searchsorted``.

A driver ready at time ``r`` (s) with critical gap ``tc`` (s) starts at the
earliest ``s >= r`` such that no conflicting vehicle passes in ``[s, s + tc)``;
``s`` is ``r`` itself (an accepted lag; a reaction time after the driver came to
rest if the gap was already open then) or the passage time of a conflicting vehicle
that opens a long enough gap.  Queued drivers entering one gap are
spaced by the follow-up headway through ``r``, which yields Harders' capacity.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GapFinder"]

_CHUNK = 64


class GapFinder:
    """Next acceptable gap in sorted conflict passage times ``passages`` (s)."""

    def __init__(self, passages: np.ndarray):
        p = np.asarray(passages, dtype=float)
        self.p = p
        self.n = len(p)
        # gap after passage j: p[j+1] - p[j]; the last gap is open-ended
        self.gaps = np.append(np.diff(p), np.inf)
        self._next_ok: dict[float, np.ndarray] = {}

    def _next_ok_index(self, tc: float) -> np.ndarray:
        """For a repeated ``tc``: index of the first gap >= tc at or after each j (cached)."""
        nxt = self._next_ok.get(tc)
        if nxt is None:
            idx = np.where(self.gaps >= tc, np.arange(self.n), self.n)
            nxt = np.minimum.accumulate(idx[::-1])[::-1] if self.n else idx
            self._next_ok[tc] = nxt
        return nxt

    def first_gap_from(self, i: int, tc: float) -> int:
        """Smallest ``j >= i`` with ``gaps[j] >= tc`` (``n`` if none)."""
        if i >= self.n:
            return self.n
        if len(self._next_ok) < 8 or tc in self._next_ok:
            return int(self._next_ok_index(tc)[i])
        gaps = self.gaps
        while i < self.n:
            hit = np.flatnonzero(gaps[i : i + _CHUNK] >= tc)
            if hit.size:
                return i + int(hit[0])
            i += _CHUNK
        return self.n

    def next_start(
        self,
        ready: float,
        tc: float,
        settled: float = -np.inf,
        reaction: float = 0.0,
        strict: bool = False,
        lead: float = 0.0,
    ) -> float:
        """Earliest start time >= ``ready`` (s) with a clear window of ``tc`` s.

        The window is ``[s - lead, s - lead + tc)`` for a start ``s``: ``lead = 0``
        is the driver's critical gap; ``lead > 0`` also keeps the last passage at
        least ``lead`` s before the start (a safety margin, see ``LaneState.plan_uturn``).

        Parameters
        ----------
        ready
            Earliest time the driver could start (its headway rules allow), s.
        tc
            The driver's critical gap, s.
        settled
            When the driver came to rest where it starts from, s.
        reaction
            A gap (lag) that was already open when the driver came to rest can be used
            only ``reaction`` s after it did; a gap that opens (a conflicting vehicle
            passes) while it stands can be used at once, s.
        strict
            If True, a driver may not use the gap (or lag) it settled into at all: only
            gaps that open after ``settled`` count (the closed-form ``c_k`` setting).
        lead
            How long before the start the clear window begins, s (>= 0).
        """
        if lead > 0:  # the same search on window starts u = s - lead
            u = self.next_start(ready - lead, tc, settled - lead, reaction, strict)
            return max(ready, u + lead)  # no rounding below ready
        p = self.p
        i = int(np.searchsorted(p, ready, side="left"))
        nxt = p[i] if i < self.n else np.inf
        if nxt - ready >= tc:
            opened = p[i - 1] if i > 0 else -np.inf
            if settled < opened:
                return ready
            if not strict:
                t = max(ready, settled + reaction)
                if nxt - t >= tc:
                    return t
        j = self.first_gap_from(i, tc)
        return float(p[j]) if j < self.n else np.inf

    def gap_index(self, t: np.ndarray) -> np.ndarray:
        """Index of the inter-passage interval containing each time ``t`` (s)."""
        return np.searchsorted(self.p, t, side="right")
