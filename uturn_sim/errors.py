"""Errors raised for bad input."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ScenarioError"]


class ScenarioError(ValueError):
    """A scenario or sweep file is invalid.

    ``problems`` lists one message per problem, each starting with the field path
    (``demand.uturn.flow_veh_h``) and, for YAML input, its line.
    """

    def __init__(self, problems: Iterable[str], what: str = "scenario"):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"invalid {what}" if n == 1 else f"invalid {what} ({n} problems)"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))
