"""Safety figures: PET distribution by scheme, PET against platoon position.

Functions take results (:class:`~uturn_sim.Result`) and return matplotlib figures;
PET as in :mod:`uturn_sim.measures.safety` (U-turns starting in each result's
measured period).
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from uturn_sim.measures.safety import PET_THRESHOLDS_S, conflicts
from uturn_sim.model.result import Result
from uturn_sim.plots.figures import SCHEME_COLORS as _COLORS

__all__ = ["pet_by_platoon_place", "pet_distribution"]


def _measured(results: Iterable[Result]) -> pd.DataFrame:
    frames = []
    for res in results:
        f = conflicts(res)
        t0, t1 = res.window
        frames.append(f[(f["start_s"] >= t0) & (f["start_s"] < t1)])
    return pd.concat(frames, ignore_index=True).dropna(subset=["pet_s"])


def pet_distribution(results: Iterable[Result], max_pet_s: float = 15.0) -> Figure:
    """Empirical CDF of the U-turns' PET by scheme, thresholds 1, 1.5, 2 and 5 s marked.

    Parameters
    ----------
    results
        Results of one or more schemes (replications pooled per scheme).
    max_pet_s
        Right end of the x axis, s.
    """
    f = _measured(results)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for scheme, g in f.groupby("scheme", sort=False):
        x = np.sort(g["pet_s"].to_numpy())
        y = np.arange(1, len(x) + 1) / len(x)
        ax.step(x, y, where="post", color=_COLORS.get(scheme), label=f"{scheme} (n={len(x)})")
    for t in PET_THRESHOLDS_S:
        ax.axvline(t, color="0.6", lw=0.8, ls=":")
        ax.text(t, 0.98, f"{t:g} s ", rotation=90, ha="right", va="top", fontsize=8, color="0.4")
    ax.set_xlim(min(0.0, float(f["pet_s"].min()) if len(f) else 0.0), max_pet_s)
    ax.set_ylim(0, 1)
    ax.set_xlabel("post-encroachment time of the U-turn (min of before / after), s")
    ax.set_ylabel("share of U-turns with PET <= x")
    ax.set_title("PET distribution by scheme (one conflict point for all streams)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def pet_by_platoon_place(results: Iterable[Result]) -> Figure:
    """PET of gap U-turns against their place in the platoon (1 = first), by scheme.

    Dots are U-turns; the line joins each place's 5th percentile.

    Parameters
    ----------
    results
        Results of one or more schemes (replications pooled per scheme).
    """
    f = _measured(results)
    f = f[f["platoon_place"] > 0]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    rng = np.random.default_rng(0)  # jitter only; not a model stream
    schemes = list(dict.fromkeys(f["scheme"]))
    for k, scheme in enumerate(schemes):
        g = f[f["scheme"] == scheme]
        off = (k - (len(schemes) - 1) / 2) * 0.25
        x = g["platoon_place"].to_numpy() + off + rng.uniform(-0.08, 0.08, len(g))
        c = _COLORS.get(scheme)
        ax.scatter(x, g["pet_s"], s=6, alpha=0.35, color=c, label=f"{scheme} U-turns")
        p5 = g.groupby("platoon_place")["pet_s"].quantile(0.05)
        ax.plot(p5.index + off, p5.to_numpy(), "o-", color=c, label=f"{scheme} 5th pct")
    for t in (1.0, 1.5):
        ax.axhline(t, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("place in its platoon of U-turns in one gap (1 = first)")
    ax.set_ylabel("PET, s")
    ax.set_title("PET against platoon position")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
