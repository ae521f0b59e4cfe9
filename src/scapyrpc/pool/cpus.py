"""How many CPUs this process may really use: the default number of local workers.

`os.cpu_count()` counts the host's CPUs. A process may be pinned to fewer
(sched affinity: taskset, cpusets, systemd `CPUAffinity=`) or held to a CPU
quota by its cgroup (`docker run --cpus`, systemd `CPUQuota=`, Kubernetes
limits); workers beyond that only time-slice one another and cost memory.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["cgroup_cpu_quota", "usable_cpus"]


def usable_cpus(root: Path = Path("/")) -> int:
    """CPUs this process may use: its affinity, capped by any cgroup CPU quota rounded up; at least 1.

    `root` is where /proc and /sys are found (tests point it at fake files).
    """
    count = _affinity()
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def cgroup_cpu_quota(root: Path = Path("/")) -> float | None:
    """The tightest CPU quota, in CPUs, on this process's cgroup or any parent (v1 or v2); None if none."""
    membership = _read(root / "proc/self/cgroup")
    mountinfo = _read(root / "proc/self/mountinfo")
    if membership is None or mountinfo is None:
        return None
    mounts = _cgroup_mounts(mountinfo)
    quotas: list[float] = []
    for line in membership.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            kind, reader = "cgroup2", _v2_quota
        elif "cpu" in controllers.split(","):
            kind, reader = "cpu", _v1_quota
        else:
            continue
        for mount_root, mount_point in mounts.get(kind, []):
            for directory in _up_to_mount(root, mount_root, mount_point, path):
                quota = reader(directory)
                if quota is not None:
                    quotas.append(quota)
    return min(quotas) if quotas else None


def _cgroup_mounts(mountinfo: str) -> dict[str, list[tuple[str, str]]]:
    """'cgroup2' and 'cpu' (the v1 hierarchy holding the cpu controller) -> [(mount root, mount point)]."""
    mounts: dict[str, list[tuple[str, str]]] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if sep < 5 or len(fields) < sep + 4:
            continue
        fstype, super_options = fields[sep + 1], fields[sep + 3].split(",")
        entry = (_unescape(fields[3]), _unescape(fields[4]))
        if fstype == "cgroup2":
            mounts.setdefault("cgroup2", []).append(entry)
        elif fstype == "cgroup" and "cpu" in super_options:
            mounts.setdefault("cpu", []).append(entry)
    return mounts


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040 ...)."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def _up_to_mount(root: Path, mount_root: str, mount_point: str, path: str) -> list[Path]:
    """The cgroup's directory under the mount, then each parent up to the mount point."""
    top = root / mount_point.lstrip("/")
    inside = path == mount_root or path.startswith(mount_root.rstrip("/") + "/")
    relative = path[len(mount_root) :] if inside else ""  # else: the mount shows our cgroup itself
    directories = [top]
    for part in (p for p in relative.split("/") if p):
        directories.append(directories[-1] / part)
    return directories[::-1]


def _v2_quota(directory: Path) -> float | None:
    """cpu.max: "max 100000" (no limit) or "150000 100000" (1.5 CPUs)."""
    text = _read(directory / "cpu.max")
    if text is None:
        return None
    quota, _, period = text.strip().partition(" ")
    return _ratio(quota, period or "100000")


def _v1_quota(directory: Path) -> float | None:
    """cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us."""
    quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return _ratio(quota.strip(), period.strip())


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:  # "max"
        return None
    return q / p if q > 0 and p > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
