"""usable_cpus: affinity and cgroup v1/v2 CPU quotas, read from fake /proc and /sys trees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scapyrpc.pool.cpus import cgroup_cpu_quota, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))

V2_MOUNT = "31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
HYBRID_MOUNTS = (  # as on this kind of machine: v1 controllers, and v2 mounted beside them without cpu
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)


def fake_root(tmp_path: Path, cgroup: str, mountinfo: str, files: dict[str, str]) -> Path:
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text(cgroup)
    (tmp_path / "proc/self/mountinfo").write_text(mountinfo)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_v2_container_quota_is_rounded_up(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "0::/\n", V2_MOUNT, {"sys/fs/cgroup/cpu.max": "150000 100000\n"})
    assert cgroup_cpu_quota(root) == 1.5
    assert usable_cpus(root) == min(AFFINITY, 2)


def test_v2_parent_quota_applies_to_a_child_cgroup(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        "0::/system.slice/scapyrpc.service\n",
        V2_MOUNT,
        {
            "sys/fs/cgroup/system.slice/scapyrpc.service/cpu.max": "max 100000\n",
            "sys/fs/cgroup/system.slice/cpu.max": "50000 100000\n",
            "sys/fs/cgroup/cpu.max": "max 100000\n",
        },
    )
    assert cgroup_cpu_quota(root) == 0.5
    assert usable_cpus(root) == 1  # half a CPU still gets one worker


def test_v2_without_limit(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "0::/user.slice\n", V2_MOUNT, {"sys/fs/cgroup/user.slice/cpu.max": "max 100000\n"})
    assert cgroup_cpu_quota(root) is None
    assert usable_cpus(root) == AFFINITY


def test_v1_quota_in_a_hybrid_layout(tmp_path: Path) -> None:
    cgroup = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/docker/abc\n"
    root = fake_root(
        tmp_path,
        cgroup,
        HYBRID_MOUNTS,
        {
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "100000\n",
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/unified/docker/abc/cpu.stat": "usage_usec 0\n",
        },
    )
    assert cgroup_cpu_quota(root) == 1.0
    assert usable_cpus(root) == 1


def test_v1_mount_rooted_at_the_container_cgroup(tmp_path: Path) -> None:
    """Inside a container the v1 mount's root is the container's own cgroup."""
    mounts = "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    root = fake_root(
        tmp_path,
        "1:cpu:/docker/abc\n",
        mounts,
        {
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "300000\n",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
        },
    )
    assert cgroup_cpu_quota(root) == 3.0
    assert usable_cpus(root) == min(AFFINITY, 3)


def test_v1_without_limit(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        "1:cpu:/\n",
        HYBRID_MOUNTS.replace("cpu,cpuacct", "cpu"),
        {
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
        },
    )
    assert cgroup_cpu_quota(root) is None


def test_no_cgroup_files_means_affinity(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path) is None
    assert usable_cpus(tmp_path) == AFFINITY


def test_garbage_is_ignored(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "nonsense\n0::/\n", "short line\n" + V2_MOUNT, {"sys/fs/cgroup/cpu.max": "x y\n"})
    assert cgroup_cpu_quota(root) is None


def test_affinity_of_a_pinned_process() -> None:
    """A process pinned to one CPU (taskset, CPUAffinity=) gets one worker whatever the host has."""
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from scapyrpc.pool.cpus import usable_cpus; print(usable_cpus())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "1"
