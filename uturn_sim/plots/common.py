"""Shared pieces of the figures: run labels and writing a figure in several formats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from uturn_sim.model.result import Result

__all__ = [
    "PLOT_FORMATS",
    "parse_formats",
    "run_label",
    "save_figure",
    "save_figures",
    "strip_and_panels",
]

#: file formats the ``write_*`` helpers and ``--plot-format`` accept
PLOT_FORMATS = ("png", "svg", "pdf")
# no creation date in vector files, so that regenerated figures compare equal
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def strip_and_panels(
    n: int, figsize: tuple[float, float], strip_ratio: float
) -> tuple[Figure, Axes, list[Axes]]:
    """A figure with a thin strip on top and ``n`` panels below sharing x and y.

    ``strip_ratio`` is the strip's height against a panel's 4 (figure size in inches).
    Returns the figure, the strip (sharing x with the panels) and the panels.
    """
    fig = plt.figure(figsize=figsize, layout="constrained")
    gs = fig.add_gridspec(n + 1, 1, height_ratios=[strip_ratio] + [4.0] * n)
    axes = [fig.add_subplot(gs[i + 1]) for i in range(n)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
        ax.sharey(axes[0])
    return fig, fig.add_subplot(gs[0], sharex=axes[0]), axes


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """Formats from ``"png,svg,pdf"`` (or a list), lower-cased, duplicates dropped.

    Raises
    ------
    ValueError
        For an empty list or a format outside ``PLOT_FORMATS``.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in items:
        f = item.strip().lower().lstrip(".")
        if not f:
            continue
        if f not in PLOT_FORMATS:
            raise ValueError(f"plot format {f!r} is not one of {', '.join(PLOT_FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise ValueError(f"give at least one plot format of {', '.join(PLOT_FORMATS)}")
    return tuple(out)


def run_label(result: Result) -> str:
    """Which run a figure shows: ``"replication 0, seed entropy 1234"``."""
    rep = result.spawn_key[-1] if result.spawn_key else 0
    return f"replication {rep}, seed entropy {result.seed_entropy}"


def save_figure(
    fig: Figure, directory: str | Path, stem: str, formats: Iterable[str] = ("png",)
) -> list[Path]:
    """Write ``fig`` as ``directory/stem.<format>`` for each format, close it, return the paths.

    Parameters
    ----------
    fig
        The figure.
    directory
        Output directory (created).
    stem
        File name without suffix.
    formats
        Any of ``PLOT_FORMATS``; PNG at 110 dpi, SVG and PDF as vectors.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for f in parse_formats(list(formats)):
        path = d / f"{stem}.{f}"
        fig.savefig(path, dpi=110, metadata=_NO_DATE.get(f))
        out.append(path)
    plt.close(fig)
    return out


def save_figures(
    figs: dict[str, Figure], directory: str | Path, formats: Iterable[str] = ("png",)
) -> list[Path]:
    """:func:`save_figure` for each ``{stem: figure}``; all paths, in order."""
    formats = tuple(formats)
    return [p for stem, fig in figs.items() for p in save_figure(fig, directory, stem, formats)]
