"""Profile text: JSON and YAML written and read, bounded; Python recognised and refused.

YAML is read with PyYAML's safe loader only (libyaml's when present: it also refuses nesting
past its own limit), so a document can make nothing but plain data. What is read is then
walked once, within a depth and a node budget, before anything else looks at it: a YAML alias
is a shared reference, and a few of them can stand for more nodes than memory holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import yaml

from scapyrpc.packets.errors import ServiceError

FORMATS = ("python", "json", "yaml")
MAX_NESTING = 16  # levels of lists and objects; TRex's profiles need 7
MAX_NODES = 1_000_000  # values in a profile, counted as read (an alias as often as it is used)

PYTHON_REFUSED = (
    "Python profiles are code, and code sent here is never run: have TRex convert it, with "
    "`./stl-sim -f profile.py --json > profile.json` or "
    "`json.dump(STLProfile.load_py('profile.py').to_json(), open('profile.json', 'w'))`, "
    "and import that file"
)
_PYTHON = re.compile(r"^(from\s+[\w.]+\s+import\b|import\s+\w|def\s+\w+\s*\(|class\s+\w+\s*[(:])", re.MULTILINE)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(streams: list[dict[str, Any]], fmt: str) -> str:
    """TRex's stream list as JSON (indented as TRex's stl-sim prints it) or YAML."""
    if fmt == "json":
        return json.dumps(streams, indent=4) + "\n"
    text: str = yaml.dump(streams, Dumper=_SAFE_DUMPER, default_flow_style=False, sort_keys=False)
    return text


def looks_like_python(text: str) -> bool:
    return bool(_PYTHON.search(text))


def detect(text: str) -> str:
    """`python`, `json` (text that starts as a JSON array or object does) or `yaml`."""
    if looks_like_python(text):
        return "python"
    return "json" if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{") else "yaml"


def load(text: str, fmt: str) -> Any:
    """The data of a JSON or YAML profile; Python text is refused with how to convert it."""
    if fmt == "python" or looks_like_python(text):
        raise ServiceError(PYTHON_REFUSED)
    if fmt == "json":
        try:
            data = orjson.loads(text.lstrip("\ufeff"))
        except orjson.JSONDecodeError as exc:
            raise ServiceError(f"profile: not valid JSON: {exc}") from None
    else:
        try:
            data = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ServiceError(f"profile: not valid YAML: {exc.problem or exc.context}{where}") from None
        except yaml.YAMLError as exc:
            raise ServiceError(f"profile: not valid YAML: {str(exc).splitlines()[0]}") from None
    _check_shape(data)
    return data


def _check_shape(data: Any) -> None:
    """Nesting and node count within bounds, visiting each value as often as it is referred to."""
    stack = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ServiceError(f"profile: more than {MAX_NODES} values")
        if isinstance(value, (list, dict)):
            if depth > MAX_NESTING:
                raise ServiceError(f"profile: nested more than {MAX_NESTING} levels deep")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
