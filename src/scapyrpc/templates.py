"""Packet templates shipped as package data (first version: none)."""

from __future__ import annotations

from .errors import ServiceError


def list_templates() -> list:
    return []


def get_template(template: dict) -> str:
    raise ServiceError("unknown template")


def warm_up() -> None:
    return None
