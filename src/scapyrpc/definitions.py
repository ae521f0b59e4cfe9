"""Protocol metadata (first version: names only)."""

from __future__ import annotations

from scapy.packet import Packet

from .layers import registry

TREE = {"ALL": {"Ether": {"ARP": {}, "IP": {"TCP": {"RAW": "payload"}, "UDP": {"RAW": "payload"}}}}}


def get_definitions(def_filter: list | None) -> dict:
    reg = registry()
    names = def_filter if def_filter else list(reg)
    protocols = [{"id": n, "name": reg[n].name, "fields": [{"id": f.name, "name": f.name} for f in reg[n].fields_desc]}
                 for n in names if n in reg]
    return {"protocols": protocols}


def payload_classes(cls: type[Packet]) -> list[str]:
    return ["Raw"]


def get_tree() -> dict:
    return TREE


def get_all() -> dict:
    return {"db": {}, "fields": {}, "db_md5": "", "fields_md5": ""}


def check_update(db_md5: str, field_md5: str) -> bool:
    return True


def warm_up() -> None:
    registry()
