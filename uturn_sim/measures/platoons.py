"""Platoons of U-turns as an observer at the site would count them.

A platoon is a run of U-turn starts in gaps (not in a protected green) each within
``lag + tolerance`` of the previous one: the cars that went together in one gap.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PLATOON_TOLERANCE_S", "platoons"]

#: extra spacing (s) beyond the start lag (linked) or follow-up headway (ordinary) that
#: still counts as "the same platoon" (assumption: half a second of observer tolerance)
PLATOON_TOLERANCE_S = 0.5


def platoons(
    start_s: np.ndarray, lag_s: float, tolerance_s: float = PLATOON_TOLERANCE_S
) -> tuple[np.ndarray, np.ndarray]:
    """Platoon number and place in it (1 = first) of each start time.

    Parameters
    ----------
    start_s
        Start times of U-turns in gaps, s (any order; NaN = not in a platoon).
    lag_s
        Start lag (linked) or follow-up headway (ordinary) of the scheme, s.
    tolerance_s
        Extra spacing still counted as the same platoon, s.

    Returns
    -------
    (platoon, place) : int arrays, ``-1`` and ``0`` where ``start_s`` is NaN.
    """
    t = np.asarray(start_s, dtype=float)
    platoon = np.full(len(t), -1, dtype=np.int64)
    place = np.zeros(len(t), dtype=np.int64)
    ok = np.flatnonzero(~np.isnan(t))
    if ok.size == 0:
        return platoon, place
    order = ok[np.argsort(t[ok], kind="stable")]
    ts = t[order]
    new = np.ones(len(ts), dtype=bool)
    new[1:] = np.diff(ts) > lag_s + tolerance_s + 1e-9
    pid = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    platoon[order] = pid
    place[order] = np.arange(len(ts)) - first[pid] + 1
    return platoon, place
