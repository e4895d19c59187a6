"""Schemes as plug-ins: a registry of named lane disciplines.

Built in (Liaocheng first; the others are the variants of ``docs/model.md``):

=====================  ====================================================
``ordinary``           FIFO lane; U-turns per the scenario's ``ordinary.uturn_when``
                       (default: left-turn green only)
``ordinary_permitted`` FIFO lane; U-turns on the left-turn green or in a safe gap
``linked``             slots; per the scenario's ``linked.uturn_when`` (default:
                       Liaocheng, any phase when safe)
``linked_sanya``       slots; left-turn green, or a safe gap on red (Sanya 2023)
``linked_zhengzhou``   slots; left-turn (U-turn) green only (Zhengzhou 2023)
=====================  ====================================================

Adding a scheme: subclass :class:`~uturn_sim.model.schemes.base.Scheme` (or reuse one
with :meth:`~uturn_sim.model.schemes.base.Scheme.with_options`) and :func:`register` it.
"""

from __future__ import annotations

from uturn_sim.model.schemes.base import UTURN_WHEN, Scheme
from uturn_sim.model.schemes.linked import Linked
from uturn_sim.model.schemes.ordinary import Ordinary

__all__ = [
    "BASELINE",
    "DEFAULT_PAIR",
    "UTURN_WHEN",
    "Linked",
    "Ordinary",
    "Scheme",
    "get_scheme",
    "register",
    "scheme_names",
]

_REGISTRY: dict[str, Scheme] = {}

BASELINE = "ordinary"
DEFAULT_PAIR: tuple[str, ...] = ("ordinary", "linked")


def register(scheme: Scheme, *, replace: bool = False) -> Scheme:
    """Add ``scheme`` to the registry under ``scheme.name``; returns it.

    Raises
    ------
    ValueError
        If the name is taken (unless ``replace``) or not an identifier-like name.
    """
    name = scheme.name
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"scheme name must be letters, digits, '_' or '-', got {name!r}")
    if name in _REGISTRY and not replace:
        raise ValueError(f"a scheme named {name!r} is already registered")
    _REGISTRY[name] = scheme
    return scheme


def scheme_names() -> tuple[str, ...]:
    """Names of every registered scheme, in registration order."""
    return tuple(_REGISTRY)


def get_scheme(scheme: str | Scheme) -> Scheme:
    """The registered scheme called ``scheme`` (a :class:`Scheme` is returned as is).

    Raises
    ------
    ValueError
        Naming the registered schemes when ``scheme`` is unknown.
    """
    if isinstance(scheme, Scheme):
        return scheme
    try:
        return _REGISTRY[scheme]
    except (KeyError, TypeError):
        raise ValueError(f"unknown scheme {scheme!r}; registered: {', '.join(_REGISTRY)}") from None


register(Ordinary("ordinary", label="ordinary lane (U-turn per scenario; default left-turn green)"))
register(
    Ordinary(
        "ordinary_permitted",
        uturn_when="left_green_or_safe_gap",
        label="ordinary lane, U-turn on the left-turn green or in a safe gap",
    )
)
register(Linked("linked", label="linked slots (per scenario; default Liaocheng: any phase)"))
register(
    Linked(
        "linked_sanya",
        uturn_when="left_green_or_safe_gap",
        label="linked slots, Sanya: left-turn green, or a safe gap on red",
    )
)
register(
    Linked(
        "linked_zhengzhou",
        uturn_when="left_green",
        label="linked slots, Zhengzhou: left-turn (U-turn) green only",
    )
)
