"""Packet templates shipped as package data (`data/templates/**/*.trp`).

The folder is indexed once by `warm_up()`: template id (relative path without
`.trp`, `/`-separated) -> file text. A request is answered from that index
only, so no client text is ever joined into a filesystem path.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from scapyrpc.packets.errors import ServiceError

if TYPE_CHECKING:  # pragma: no cover
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["get_template", "list_templates", "warm_up"]

SUFFIX = ".trp"


@dataclass(frozen=True)
class _Template:
    text: str
    caption: str
    description: str


def warm_up() -> None:
    """Read and index every shipped template (idempotent)."""
    _templates()


@cache
def _templates() -> dict[str, _Template]:
    root = resources.files("scapyrpc.packets").joinpath("data/templates")  # one name: 3.10 joins one at a time
    return dict(sorted(_walk(root, "")))


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, _Template]]:
    found = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found += _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(SUFFIX):
            found.append((prefix + entry.name[: -len(SUFFIX)], _load(entry)))
    return found


def _load(entry: Traversable) -> _Template:
    text = entry.read_text(encoding="utf-8")
    metadata = json.loads(text).get("metadata") or {}
    return _Template(text, str(metadata.get("caption", "")), str(metadata.get("description", "")))


def list_templates() -> list[dict[str, Any]]:
    """`[{id, meta: {name, description}}]`, sorted by id."""
    return [{"id": tid, "meta": {"name": t.caption, "description": t.description}} for tid, t in _templates().items()]


def get_template(template: Any) -> str:
    """Base64 of the template document named by `{"id": ...}`."""
    if not isinstance(template, dict) or not isinstance(template.get("id"), str):
        raise ServiceError("template must be an object with a string 'id'")
    tid = template["id"]
    found = _templates().get(tid)
    if found is None:
        shown = tid if len(tid) <= 60 else tid[:57] + "..."
        raise ServiceError(f"unknown template '{shown}'")
    return base64.b64encode(found.text.encode("utf-8")).decode("ascii")
