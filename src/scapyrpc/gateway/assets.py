"""The editor's static files (package data under `web/`), loaded and gzip-compressed once.

Files are served from this in-memory table by name, so no filesystem path is
ever built from a request; each has a strong ETag so browsers revalidate
cheaply instead of downloading again.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

__all__ = ["Asset", "load_assets"]

_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain",
}
_TEXT = ("text/", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None where compression would not help (images)
    etag: str
    content_type: str


def _asset(name: str, body: bytes) -> Asset:
    suffix = name[name.rfind(".") :] if "." in name else ""
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith(_TEXT):
        content_type += "; charset=utf-8" if content_type.startswith("text/") else ""
        gzipped: bytes | None = gzip.compress(body, compresslevel=9, mtime=0)
    else:
        gzipped = None
    return Asset(body, gzipped, f'"{hashlib.md5(body).hexdigest()}"', content_type)


def _walk(folder: Traversable, prefix: str = "") -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            files.update(_walk(entry, name + "/"))
        elif not entry.name.startswith("."):
            files[name] = entry.read_bytes()
    return files


def load_assets(folder: Traversable | None = None) -> dict[str, Asset]:
    """Every file under `folder` (default: the package's `web/`), by path relative to it."""
    root = folder if folder is not None else resources.files("scapyrpc.gateway") / "static"
    return {name: _asset(name, body) for name, body in _walk(root).items()}
