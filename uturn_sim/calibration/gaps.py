"""Critical gap estimators: maximum likelihood (log-normal) and the modified Raff method.

Both take, per driver, the largest gap (or lag) it rejected (0 s if it rejected
none) and the gap it accepted, in s.  A consistent driver with critical gap
``t_c`` rejects every gap shorter than ``t_c`` and accepts the first one at least
``t_c`` long, so each driver tells us ``rejected < t_c <= accepted``.

* :func:`critical_gap_mle` maximises the interval-censored log-normal likelihood
  ``sum log(F(a_i) - F(r_i))`` (Troutbeck 1992, the method behind the HCM
  values); confidence intervals come from the observed information (the
  numerical Hessian of the log-likelihood at its maximum, ``scipy.differentiate``).
* :func:`critical_gap_modified_raff` finds the time ``t`` at which the share of
  drivers whose accepted gap is ``<= t`` equals the share whose largest rejected
  gap is ``> t`` (Raff's crossing, but with one largest rejected gap per driver
  instead of every rejected gap; Troutbeck, TRR 2553, 2016).  Its interval inverts
  a per-driver test of that balance.

The median of accepted gaps and the classic Raff method (every rejected gap) are
biased and deliberately not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import differentiate, optimize, special, stats

from uturn_sim.calibration.estimate import Estimate, TooFewError, too_few

__all__ = [
    "MIN_DRIVERS",
    "LognormalFit",
    "critical_gap_mle",
    "critical_gap_modified_raff",
    "lognormal_quantile",
]

MIN_DRIVERS = 20
"""Fewest drivers (each with an accepted gap) either critical gap estimator accepts."""

_Z = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class LognormalFit:
    """Maximum likelihood fit of a log-normal critical gap.

    Attributes
    ----------
    mean, sd : Estimate
        Mean and standard deviation of the critical gap across drivers, s.
    median : Estimate
        Median critical gap, s.
    log_mean, log_sigma : float
        Fitted ``log(mean)`` and ``log(sigma)`` (sigma: sd of ``log t_c``).
    cov : numpy.ndarray
        2x2 covariance of (``log_mean``, ``log_sigma``) from the observed information.
    """

    mean: Estimate
    sd: Estimate
    median: Estimate
    log_mean: float
    log_sigma: float
    cov: np.ndarray


def _check(rejected: np.ndarray, accepted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(rejected, dtype=float)
    a = np.asarray(accepted, dtype=float)
    if r.shape != a.shape or r.ndim != 1:
        raise ValueError("rejected and accepted must be 1-D arrays of equal length")
    if not (np.all(np.isfinite(a)) and np.all(a > 0) and np.all(r >= 0)):
        raise ValueError("gaps must be finite, accepted > 0 and rejected >= 0 (s)")
    if np.any(a <= r):
        raise ValueError("each driver's accepted gap must exceed its largest rejected gap")
    too_few("critical gap", len(a), MIN_DRIVERS, "drivers")
    return r, a


def _log_interval_prob(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``log(Phi(hi) - Phi(lo))`` accurate in both tails (``lo < hi``)."""
    upper = lo > 0  # both in the upper tail: use the mirror image
    a = np.where(upper, -hi, lo)
    b = np.where(upper, -lo, hi)
    lb, la = special.log_ndtr(b), special.log_ndtr(a)
    return lb + np.log1p(-np.exp(np.minimum(la - lb, -1e-300)))


def _negll(x: np.ndarray, log_r: np.ndarray, log_a: np.ndarray) -> np.ndarray:
    """Negative log-likelihood at ``x = (log mean, log sigma)`` (vectorized over x[0], x[1])."""
    m = np.asarray(x[0])[..., None]
    s = np.exp(np.asarray(x[1]))[..., None]
    mu = m - 0.5 * s * s
    return -_log_interval_prob((log_r - mu) / s, (log_a - mu) / s).sum(axis=-1)


def critical_gap_mle(rejected: np.ndarray, accepted: np.ndarray) -> LognormalFit:
    """Maximum likelihood critical gap with a log-normal distribution across drivers.

    Parameters
    ----------
    rejected
        Largest rejected gap or lag of each driver, s (0 if it rejected none).
    accepted
        Gap or lag each driver accepted, s.

    Returns
    -------
    LognormalFit
        Mean, sd and median critical gap (s) with 95% confidence intervals.

    Raises
    ------
    ValueError
        On inconsistent data or fewer than :data:`MIN_DRIVERS` drivers.
    """
    r, a = _check(rejected, accepted)
    with np.errstate(divide="ignore"):
        log_r = np.log(r)  # -inf for "rejected nothing": F(0) = 0
    log_a = np.log(a)
    mid = np.log(np.where(r > 0, 0.5 * (r + a), a))
    x0 = np.array([mid.mean(), np.log(max(mid.std(), 0.05))])

    def fun(x: np.ndarray) -> float:
        return float(_negll(x, log_r, log_a))

    res = optimize.minimize(fun, x0, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9})
    x = res.x
    hess = differentiate.hessian(lambda z: _negll(z, log_r, log_a), x, initial_step=0.05).ddf
    if not np.all(np.isfinite(hess)) or np.linalg.det(hess) <= 0 or hess[0, 0] <= 0:
        raise TooFewError(
            f"critical gap: the {len(a)} drivers do not determine the spread of critical gaps "
            "(information matrix not positive definite); observe more drivers"
        )
    cov = np.linalg.inv(hess)
    n = len(a)
    method = "maximum likelihood, log-normal (Troutbeck 1992)"

    def ci(grad: np.ndarray, log_value: float) -> tuple[float, float]:
        se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
        return float(np.exp(log_value - _Z * se)), float(np.exp(log_value + _Z * se))

    m, s = float(x[0]), float(np.exp(x[1]))
    mean = Estimate(float(np.exp(m)), *ci(np.array([1.0, 0.0]), m), n, method, "s")
    log_sd = m + 0.5 * np.log(np.expm1(s * s))
    g_sd = np.array([1.0, s * s * np.exp(s * s) / np.expm1(s * s)])
    sd = Estimate(float(np.exp(log_sd)), *ci(g_sd, log_sd), n, method, "s")
    log_med = m - 0.5 * s * s
    median = Estimate(float(np.exp(log_med)), *ci(np.array([1.0, -s * s]), log_med), n, method, "s")
    return LognormalFit(mean, sd, median, m, float(x[1]), cov)


def lognormal_quantile(fit: LognormalFit, p: float) -> Estimate:
    """Quantile ``p`` of the fitted critical gap distribution, s, with a delta-method 95% CI."""
    m, s = fit.log_mean, float(np.exp(fit.log_sigma))
    z = float(stats.norm.ppf(p))
    log_q = m - 0.5 * s * s + z * s
    g = np.array([1.0, -s * s + z * s])
    se = float(np.sqrt(max(g @ fit.cov @ g, 0.0)))
    method = f"{100 * p:g}% quantile of the fitted log-normal"
    lo, hi = np.exp(log_q - _Z * se), np.exp(log_q + _Z * se)
    return Estimate(float(np.exp(log_q)), float(lo), float(hi), fit.mean.n, method, "s")


def _balance(r: np.ndarray, a: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of ``1{a_i <= t} - 1{r_i > t}`` across drivers, at each ``t``."""
    z = (a[None, :] <= t[:, None]).astype(float) - (r[None, :] > t[:, None])
    n = z.shape[1]
    return z.mean(axis=1), z.std(axis=1, ddof=1) / np.sqrt(n)


def critical_gap_modified_raff(rejected: np.ndarray, accepted: np.ndarray) -> Estimate:
    """Critical gap by the modified Raff method (one largest rejected gap per driver).

    The estimate is the time ``t`` (s) where the cumulative share of accepted gaps
    ``<= t`` meets the share of largest rejected gaps ``> t`` (linear
    interpolation between observed values).  The 95% interval holds the ``t`` at
    which that balance is not significantly different from zero (per-driver
    normal test, level 5%).

    Parameters
    ----------
    rejected
        Largest rejected gap or lag of each driver, s (0 if it rejected none).
    accepted
        Gap or lag each driver accepted, s.

    Raises
    ------
    ValueError
        On inconsistent data or fewer than :data:`MIN_DRIVERS` drivers.
    """
    r, a = _check(rejected, accepted)
    t = np.unique(np.concatenate((r[r > 0], a)))
    d, se = _balance(r, a, t)
    k = int(np.searchsorted(d, 0.0, side="left"))  # d is non-decreasing in t
    if k == 0:
        value = float(t[0])
    elif k == len(t):
        value = float(t[-1])
    else:
        value = float(np.interp(0.0, d[k - 1 : k + 1], t[k - 1 : k + 1]))
    lo_i = int(np.argmax(d + _Z * se >= 0))
    hi_ok = d - _Z * se > 0
    hi = float(t[int(np.argmax(hi_ok))]) if hi_ok.any() else float(t[-1])
    method = "modified Raff (Troutbeck 2016)"
    return Estimate(value, float(t[lo_i]), hi, len(a), method, "s")
