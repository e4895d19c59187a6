"""Read scenarios from YAML files, strings or mappings; the embedded default; the JSON Schema.

Every problem is reported as one :class:`ScenarioError` listing each field path,
what is wrong and, for YAML input, the line it stands on.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from uturn_sim.errors import ScenarioError
from uturn_sim.scenario.model import Scenario

__all__ = [
    "DEFAULT_SCENARIO_FILE",
    "default_scenario",
    "load_scenario",
    "parse_yaml",
    "scenario_schema",
    "scenario_to_yaml",
    "set_path",
    "update_scenario",
    "validate_mapping",
]

DEFAULT_SCENARIO_FILE = "liuyuan_longshan.yaml"
MAX_FILE_BYTES = 1_000_000
MAX_EXPANDED_NODES = 200_000

Lines = dict[tuple[Any, ...], int]


MAX_INT_DIGITS = 40  # a 128-bit seed has 39 digits; anything longer is a typo or an attack

# YAML 1.1 reads these plain scalars as numbers a reader would not expect (010 is 8,
# 1:00:00 is 3600, 0x10 is 16, 1_000 is 1000); YAML 1.2 reads them as strings.  Both
# readings are surprising in a scenario, so they are refused with their line.
_SURPRISING_NUMBER = re.compile(
    r"""^[-+]?(
        0[0-7_]+            # leading zero: octal in YAML 1.1
      | 0[xX][0-9a-fA-F_]+  # hexadecimal
      | 0[oO][0-7_]+        # octal, YAML 1.2 style
      | 0[bB][01_]+         # binary
      | [0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?  # sexagesimal 1:00:00
      | [0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?  # digits with underscores
      | \.[0-9_]*_[0-9_]*
    )$""",
    re.VERBOSE,
)
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


class _AliasBomb(Exception):
    """The document expands to more than MAX_EXPANDED_NODES nodes."""


class _StrictInput(Exception):
    """A duplicate key or a surprising number; ``problem`` is the located message."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, stricter where YAML 1.1 silently changes meaning.

    Duplicate mapping keys are errors naming both lines; plain scalars that YAML 1.1
    turns into surprising numbers (``010``, ``0x10``, ``1_000``, ``1:00:00``) are
    errors, and so are integers longer than ``MAX_INT_DIGITS`` digits.  ``.inf`` and
    ``.nan`` load (every model field refuses them); quoted scalars stay strings.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping; a key given twice is an error naming both lines."""
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key, line = key_node.value, key_node.start_mark.line + 1
                    if key in seen:
                        raise _StrictInput(_duplicate(str(key), line, seen[key]))
                    seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """An integer, refused if surprising or longer than ``MAX_INT_DIGITS`` digits."""
        _check_scalar(node, "(document)")
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        """A decimal float, refused if surprising (base 60, digit separators)."""
        _check_scalar(node, "(document)")
        return super().construct_yaml_float(node)


def _check_scalar(node: yaml.Node, path: str) -> None:
    """Refuse a plain scalar resolved as a number that is surprising or huge."""
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (_INT_TAG, _FLOAT_TAG):
        return
    text = str(node.value)
    at = f"{path} (line {node.start_mark.line + 1})"
    if _SURPRISING_NUMBER.match(text):
        raise _StrictInput(
            f"{at}: {text!r} is not a plain decimal number (YAML 1.1 reads it as octal, "
            "hexadecimal, base 60 or with digit separators); write it in decimal, or "
            "quote it if it is text"
        )
    digits = len(text.lstrip("+-"))
    if node.tag == _INT_TAG and digits > MAX_INT_DIGITS:
        raise _StrictInput(f"{at}: an integer of {digits} digits; at most {MAX_INT_DIGITS}")


def _duplicate(path: str, line: int, first: int) -> str:
    return (
        f"{path} (line {line}): duplicate key, first given on line {first}; "
        "a repeated key would silently replace the first, keep one"
    )


StrictLoader.add_constructor(_INT_TAG, StrictLoader.construct_yaml_int)
StrictLoader.add_constructor(_FLOAT_TAG, StrictLoader.construct_yaml_float)
# YAML 1.2 exponent floats (1e3, 2.5E-1) are numbers, not the strings YAML 1.1 makes them
StrictLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _node_lines(node: yaml.Node, path: tuple[Any, ...], out: Lines, budget: list[int]) -> None:
    """Record the 1-based line of every path in a composed YAML tree; bound alias expansion."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _AliasBomb
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            line = k.start_mark.line + 1
            if key in seen:
                raise _StrictInput(_duplicate(_path((*path, key)), line, seen[key]))
            seen[key] = line
            _node_lines(v, (*path, key), out, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _node_lines(v, (*path, i), out, budget)
    else:
        _check_scalar(node, _path(path) if path else "(document)")


def parse_yaml(text: str, *, what: str = "scenario") -> tuple[dict[str, Any], Lines]:
    """Parse YAML text safely into a mapping and a path -> line map.

    Raises
    ------
    ScenarioError
        On a syntax error, an empty document, a non-mapping top level or an alias bomb.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(
            [f"(file): {what} is {len(text)} bytes; at most {MAX_FILE_BYTES}"], what=what
        )
    if "\x00" in text:
        raise ScenarioError([f"(file): {what} is binary, not YAML text"], what=what)
    try:
        node = yaml.compose(text, Loader=StrictLoader)
        if node is None:
            raise ScenarioError([f"(file): {what} is empty; expected a YAML mapping"], what=what)
        lines: Lines = {}
        _node_lines(node, (), lines, [MAX_EXPANDED_NODES])
        data = yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([f"(file): YAML syntax error{where}: {problem}"], what=what) from None
    except RecursionError:
        raise ScenarioError(["(file): YAML nested too deeply"], what=what) from None
    except _StrictInput as exc:
        raise ScenarioError([exc.problem], what=what) from None
    except _AliasBomb:
        msg = f"(document): expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)"
        raise ScenarioError([msg], what=what) from None
    if not isinstance(data, dict):
        got = type(data).__name__
        msg = f"(file): {what} must be a YAML mapping of sections, got {got}"
        raise ScenarioError([msg], what=what)
    return data, lines


def _field_model(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the last element of ``loc``."""
    cls: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None
        field = cls.model_fields.get(part)
        if field is None:
            return None
        cls = _unwrap(field.annotation)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def _unwrap(ann: Any) -> Any:
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(ann):
            if arg is not type(None):
                return _unwrap(arg)
    return ann


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not part.startswith("function-") and "[" not in part:
            out += f".{part}" if out else part
    return out or "(scenario)"


def _line_of(loc: tuple[Any, ...], lines: Lines | None, keys: set[Any] | None = None) -> int | None:
    if not lines:
        return None
    keys = _keys_seen(lines) if keys is None else keys
    clean = tuple(p for p in loc if isinstance(p, int) or p in keys)
    for n in range(len(clean), 0, -1):
        if clean[:n] in lines:
            return lines[clean[:n]]
    return None


def _keys_seen(lines: Lines) -> set[Any]:
    return {k for path in lines for k in path}


def _messages(exc: ValidationError, lines: Lines | None, model: type[BaseModel]) -> list[str]:
    msgs = []
    keys = _keys_seen(lines) if lines else set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _path(loc)
        line = _line_of(loc, lines, keys)
        at = f" (line {line})" if line else ""
        if err["type"] == "extra_forbidden":
            holder = _field_model(model, loc)
            allowed = sorted(holder.model_fields) if holder else []
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            msg = f"unknown field{hint}; allowed: {', '.join(allowed)}"
        elif err["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "input" in err and err["type"] not in ("value_error", "assertion_error"):
                msg += f" (got {_shown(err['input'])})"
            if not loc and err["type"] == "value_error":
                msgs.extend(_cross_field(msg, lines))
                continue
        msgs.append(f"{path}{at}: {msg}")
    return msgs


def _shown(value: Any, limit: int = 60) -> str:
    """A short repr of a bad input (huge integers and long texts cut, never an error)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except ValueError:  # e.g. an int beyond sys.get_int_max_str_digits() inside a list
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cross_field(msg: str, lines: Lines | None) -> list[str]:
    """Split a cross-field message (one "a.b.c says ..." per line) into located problems."""
    out = []
    for part in msg.split("\n"):
        head, _, rest = part.partition(" ")
        loc = tuple(head.split("."))
        if rest and all(p.isidentifier() for p in loc):
            line = _line_of(loc, lines)
            at = f" (line {line})" if line else ""
            out.append(f"{head}{at}: {rest}")
        else:
            out.append(f"(scenario): {part}")
    return out


def validate_mapping(data: Mapping[str, Any], lines: Lines | None = None) -> Scenario:
    """Validate a mapping into a :class:`Scenario`.

    Raises
    ------
    ScenarioError
        Listing every problem with its field path (and line, given ``lines``).
    """
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_messages(exc, lines, Scenario)) from None


def set_path(data: dict, dotted: str, value: Any, where: str = "") -> None:
    """Set the field at dotted path ``dotted`` (``geometry.slots``, ``signal.phases.1.green_s``).

    Raises
    ------
    ScenarioError
        If the path names no field or a whole section (message prefixed by ``where``).
    """
    parts = dotted.split(".")
    what = "sweep" if where else "scenario"
    node: Any = data
    for i, part in enumerate(parts):
        key: Any = int(part) if part.isdigit() and isinstance(node, list) else part
        ok = (isinstance(node, dict) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and key < len(node)
        )
        if not ok:
            here = ".".join(parts[:i]) or "(scenario)"
            options = list(node) if isinstance(node, dict) else []
            guess = difflib.get_close_matches(str(part), [str(o) for o in options], n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            raise ScenarioError([f"{where}{dotted}: {here} has no field {part!r}{hint}"], what=what)
        if i == len(parts) - 1:
            old = node[key]
            if isinstance(old, dict) or (
                isinstance(old, list) and any(isinstance(x, dict) for x in old)
            ):
                raise ScenarioError([f"{where}{dotted}: is a section, not a value"], what=what)
            node[key] = value
        else:
            node = node[key]


def update_scenario(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with fields changed by dotted path, validated again.

    Example: ``update_scenario(scn, {"geometry.slots": 3, "demand.uturn.flow_veh_h": 300})``.

    Raises
    ------
    ScenarioError
        If a path names no field or the changed scenario is invalid.
    """
    data = scenario.model_dump(mode="json")
    for dotted, value in changes.items():
        set_path(data, dotted, value)
    return validate_mapping(data)


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Load a scenario from a YAML file path, a YAML string, or a mapping.

    Parameters
    ----------
    source
        A path to a ``.yaml`` file, YAML text (a string containing a newline or a
        colon), or an already parsed mapping.

    Raises
    ------
    ScenarioError
        Listing every problem with its field path (and line for YAML).
    """
    if isinstance(source, Mapping):
        return validate_mapping(source)
    text = _read_text(source)
    data, lines = parse_yaml(text)
    return validate_mapping(data, lines)


def _read_text(source: str | Path) -> str:
    """The YAML text of ``source``: a path, or (a str with a newline or colon) YAML itself."""
    if isinstance(source, str):
        is_path = "\n" not in source and (
            source.lower().endswith((".yaml", ".yml"))
            or ":" not in source
            or Path(source).is_file()
        )
        if not is_path or source == "":
            return source
    path = Path(source)
    if not path.is_file():
        raise ScenarioError([f"(file): no scenario file at {str(path)!r}"])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([f"(file): {path} is larger than {MAX_FILE_BYTES} bytes"])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([f"(file): {path} is not UTF-8 text (binary file?)"]) from None


def default_scenario() -> Scenario:
    """The embedded Liuyuan Rd / Longshan Middle Rd am-peak scenario (assumed numbers)."""
    text = resources.files("uturn_sim").joinpath("data", DEFAULT_SCENARIO_FILE).read_text("utf-8")
    return load_scenario(text)


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario (every default filled in) as YAML text."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def scenario_schema() -> str:
    """The JSON Schema of a scenario file, as indented JSON text."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "uturn_sim scenario"
    return json.dumps(schema, indent=2) + "\n"
