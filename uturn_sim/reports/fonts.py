"""A CJK font that ships with a Python package (``mplfonts``: Noto Sans CJK SC).

Figures use it through matplotlib; the HTML report embeds a subset of it (only the
characters the page uses) so Chinese text renders on a machine with no CJK fonts.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

__all__ = ["CJK_FONT_FILE", "cjk_font_path", "css_font_face", "figure_fonts"]

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path:
    """Path of the Noto Sans CJK SC font shipped by ``mplfonts``.

    Raises
    ------
    RuntimeError
        If ``mplfonts`` is not installed (it is a dependency of uturn_sim).
    """
    from importlib import resources

    try:
        p = Path(str(resources.files("mplfonts").joinpath("fonts", CJK_FONT_FILE)))
    except ModuleNotFoundError:
        raise RuntimeError("mplfonts is not installed: pip install mplfonts") from None
    if not p.is_file():
        raise RuntimeError(f"mplfonts has no {CJK_FONT_FILE} at {p}")
    return p


@cache
def _family() -> str:
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@contextmanager
def figure_fonts(lang: str) -> Iterator[None]:
    """Matplotlib settings for figures in ``lang`` (``zh`` puts the CJK font first)."""
    import matplotlib as mpl

    fams = [_family(), "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", _family()]
    with mpl.rc_context(
        {"font.family": "sans-serif", "font.sans-serif": fams, "axes.unicode_minus": False}
    ):
        yield


def css_font_face(text: str, family: str = "ReportCJK") -> str:
    """A CSS ``@font-face`` rule embedding the CJK font subset to the characters of ``text``.

    Parameters
    ----------
    text
        Everything the page shows (characters outside it are dropped from the font).
    family
        The CSS family name to declare.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    chars = "".join(sorted({c for c in text if ord(c) > 0x2000}))
    if not chars:
        return ""
    font = TTFont(str(cjk_font_path()))
    opts = subset.Options()
    opts.flavor = "woff"
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f"@font-face {{ font-family: '{family}'; "
        f"src: url(data:font/woff;base64,{data}) format('woff'); }}"
    )
