"""The :class:`Estimate` every estimator returns, and the sample-size rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Estimate", "TooFewError", "mean_estimate", "too_few"]


class TooFewError(ValueError):
    """Too few observations for an estimate (the message says how many are needed)."""


@dataclass(frozen=True)
class Estimate:
    """A calibrated value with its 95% confidence interval.

    Attributes
    ----------
    value : float
        Point estimate, in ``unit``.
    lo, hi : float
        95% confidence interval, in ``unit``.
    n : int
        Sample size (drivers, headways, events or vehicles counted).
    method : str
        Estimator name, for reports and YAML comments.
    unit : str
        ``"s"``, ``"m/s2"``, ``"veh/h"`` or ``""`` (a factor).
    """

    value: float
    lo: float
    hi: float
    n: int
    method: str
    unit: str = "s"

    def covers(self, truth: float) -> bool:
        """True if ``truth`` lies in the closed interval ``[lo, hi]``."""
        return self.lo <= truth <= self.hi

    def comment(self) -> str:
        """``estimate, 95% CI [lo, hi], n = N (method)`` with about 3 significant digits."""
        v, lo, hi = (_fmt(x) for x in (self.value, self.lo, self.hi))
        return f"{v}, 95% CI [{lo}, {hi}], n = {self.n} ({self.method})"


def _fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def too_few(what: str, n: int, need: int, unit: str) -> None:
    """Raise :class:`TooFewError` if ``n < need``."""
    if n < need:
        raise TooFewError(f"{what}: {n} {unit} observed; at least {need} are needed")


def mean_estimate(x: np.ndarray, method: str, unit: str = "s", need: int = 5) -> Estimate:
    """Sample mean with a Student-t 95% confidence interval.

    Parameters
    ----------
    x
        Observations, in ``unit``.
    method
        Estimator name recorded in the result.
    unit
        Unit of ``x``.
    need
        Fewest observations accepted.
    """
    x = np.asarray(x, dtype=float)
    too_few(method, len(x), need, "observations")
    m = float(x.mean())
    sem = float(stats.sem(x))
    if sem == 0.0:
        return Estimate(m, m, m, len(x), method, unit)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=m, scale=sem)
    return Estimate(m, float(lo), float(hi), len(x), method, unit)
