"""Colours per scheme: colour-blind safe (Okabe-Ito), distinct for every registered scheme."""

from __future__ import annotations

__all__ = ["OKABE_ITO", "scheme_color"]

#: Okabe & Ito (2008) palette without black (kept for text and reference lines)
OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442")
_FIXED = {
    "ordinary": "#D55E00",
    "linked": "#0072B2",
    "ordinary_permitted": "#E69F00",
    "linked_sanya": "#009E73",
    "linked_zhengzhou": "#CC79A7",
}


def scheme_color(name: str) -> str:
    """The colour of scheme ``name`` (a hex string).

    The five built-in schemes keep theirs; others follow in registry order, cycling
    through the rest of the palette.
    """
    if name in _FIXED:
        return _FIXED[name]
    from uturn_sim.model.schemes import scheme_names

    names = [n for n in scheme_names() if n not in _FIXED]
    spare = [c for c in OKABE_ITO if c not in _FIXED.values()]
    i = names.index(name) if name in names else len(names)
    return spare[i % len(spare)]
