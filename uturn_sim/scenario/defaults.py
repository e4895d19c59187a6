"""Which fields of a scenario file took a default, and what each file line says of its value.

``defaulted_fields`` walks the validated scenario beside the mapping that was read: a
field missing from the mapping took its default (a whole missing section: every field
in it).  ``field_notes`` reads the YAML comment on each field's line, so a report can
say for every number whether it was measured, taken from a source or assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from uturn_sim.scenario.model import Scenario

__all__ = ["BASIS_KEYWORDS", "FieldRow", "defaulted_fields", "field_notes", "field_rows"]


def _walk(model: BaseModel, data: Any, path: str, out: list[tuple[str, Any, bool]]) -> None:
    """Append ``(path, value, defaulted)`` for every leaf of ``model``."""
    given = data if isinstance(data, Mapping) else None
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        present = given is not None and name in given
        sub = given.get(name) if present else None
        if isinstance(value, BaseModel):
            _walk(value, sub if present else {}, here, out)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            items = sub if present and isinstance(sub, list) else [None] * len(value)
            for i, item in enumerate(value):
                if present and i < len(items) and isinstance(items[i], Mapping):
                    _walk(item, items[i], f"{here}.{i}", out)
                else:
                    _walk(item, {}, f"{here}.{i}", out)
        else:
            out.append((here, value, not present))


def defaulted_fields(scenario: Scenario, data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Fields of ``scenario`` absent from the mapping ``data`` it was read from.

    Parameters
    ----------
    scenario
        The validated scenario.
    data
        The mapping read from the file (``parse_yaml``'s first value).

    Returns
    -------
    list of (dotted path, value)
        Every leaf field that took its default, in declaration order.
    """
    rows: list[tuple[str, Any, bool]] = []
    _walk(scenario, data, "", rows)
    return [(p, v) for p, v, d in rows if d]


#: comment keywords -> basis, checked in this order on a field's own comment, then on
#: the comments of its enclosing sections
BASIS_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("assumed", ("assum",)),
    ("measured", ("measured", "observed", "counted", "surveyed", "field count")),
    (
        "sourced",
        ("hcm", "sumo", "published", "exh.", "base value", "legal", "rule", "source", "gb "),
    ),
)


def _comment(line: str) -> str:
    """The ``# comment`` of one YAML line ('' when none; quotes are respected)."""
    quote = None
    for i, ch in enumerate(line):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote == ch else ch
        elif ch == "#" and quote is None and (i == 0 or line[i - 1] in " \t"):
            return line[i + 1 :].strip()
    return ""


def _basis(text: str) -> str | None:
    low = text.lower().replace("not measured", "").replace("measured period", "")
    for basis, words in BASIS_KEYWORDS:
        if any(w in low for w in words):
            return basis
    return None


def _key_lines(node: Any, path: str, out: dict[str, int]) -> None:
    """Record the 1-based line of each mapping key (a section's own line, not its body)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            here = f"{path}.{k.value}" if path else str(k.value)
            out[here] = k.start_mark.line + 1
            _key_lines(v, here, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _key_lines(v, f"{path}.{i}", out)


def field_notes(text: str) -> tuple[dict[str, str], str]:
    """Comments of a scenario file per dotted field path, and the file's header comment.

    Parameters
    ----------
    text
        The YAML text.

    Returns
    -------
    (notes, header)
        ``notes`` maps a dotted path (``demand.uturn.flow_veh_h``) to the comment on
        its line; ``header`` is the comment block before the first key.
    """
    import yaml

    lines: dict[str, int] = {}
    _key_lines(yaml.compose(text, Loader=yaml.SafeLoader), "", lines)
    src = text.splitlines()
    notes = {}
    for path, line in lines.items():
        c = _comment(src[line - 1]) if 0 < line <= len(src) else ""
        if c:
            notes[path] = c
    header = []
    for ln in src:
        if ln.strip().startswith("#"):
            header.append(ln.strip().lstrip("#").strip())
        elif ln.strip():
            break
    return notes, " ".join(header)


class FieldRow(dict):
    """One row of :func:`field_rows`: ``path, value, basis, note, description``."""


def _description(path: str) -> str:
    model: Any = Scenario
    field = None
    for part in path.split("."):
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return ""
        field = fields[part]
        ann = field.annotation
        nxt = getattr(ann, "__args__", None)
        cand = [a for a in (nxt or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = cand[0] if cand else None
    return (field.description or "") if field is not None else ""


def field_rows(scenario: Scenario, text: str | None) -> list[FieldRow]:
    """Every leaf field with its value and basis: measured, sourced, assumed or default.

    Parameters
    ----------
    scenario
        The validated scenario.
    text
        The YAML text it was read from (``None``: every field is reported as set in
        code, basis ``default``).

    Returns
    -------
    list of FieldRow
        ``path``, ``value``, ``basis`` (``measured``, ``sourced``, ``assumed``,
        ``unstated``, ``run setting`` for ``simulation.*``, or ``default`` when the file
        left the field out), ``note`` (the
        file's comment, own or inherited from its section) and ``description`` (the
        field's documented meaning, with its unit).
    """
    from uturn_sim.scenario.loading import parse_yaml

    data, _ = parse_yaml(text) if text is not None else ({}, {})
    notes, header = field_notes(text) if text is not None else ({}, "")
    fallback = "assumed" if _basis(header) == "assumed" else "unstated"
    rows: list[tuple[str, Any, bool]] = []
    _walk(scenario, data, "", rows)
    out = []
    for path, value, defaulted in rows:
        if path in ("name", "description"):
            continue
        parts = path.split(".")
        own = notes.get(path, "")
        chain = [notes.get(".".join(parts[:i]), "") for i in range(len(parts), 0, -1)]
        basis = "default" if defaulted else ("run setting" if parts[0] == "simulation" else None)
        if basis is None:
            for c in chain:
                basis = _basis(c)
                if basis:
                    break
            basis = basis or fallback
        note = own or next((c for c in chain if c), "")
        out.append(
            FieldRow(
                path=path,
                value=value,
                basis=basis,
                note=note,
                description=_description(path),
            )
        )
    return out
