"""Colours per scheme, per approach lane and per blocking state (Okabe-Ito, colour-blind safe)."""

from __future__ import annotations

__all__ = ["BLOCKING_COLORS", "OKABE_ITO", "lane_color", "scheme_color"]

#: Okabe & Ito (2008) palette without black (kept for text and reference lines)
OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442")
_FIXED = {
    "ordinary": "#D55E00",
    "linked": "#0072B2",
    "ordinary_permitted": "#E69F00",
    "linked_sanya": "#009E73",
    "linked_zhengzhou": "#CC79A7",
}

#: shading of through lane 1's states (:mod:`uturn_sim.model.approach`): 1 the bay
#: entrance blocked by the through queue, 2 lane 1 blocked by the bay's spillback
BLOCKING_COLORS = {1: "#E69F00", 2: "#D55E00"}
_LANES = ("#CC79A7", "#0072B2", "#56B4E9")  # the bay, through lane 1, through lane 2


def lane_color(lane: int) -> str:
    """The colour of a lane of the approach: 0 the bay, k through lane k (1 next to the bay).

    Lanes beyond 2 are grey (tell them apart by line style).
    """
    return _LANES[lane] if 0 <= lane < len(_LANES) else "#999999"


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
