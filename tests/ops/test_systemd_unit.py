"""systemd/scapyrpc.service: valid for systemd-analyze, hardened, and installed the way README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "scapyrpc.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
MAX_EXPOSURE = 2.0


def directives(section: str) -> dict[str, list[str]]:
    """KEY -> every value it is given in [section] (systemd keys may repeat)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def exec_start() -> list[str]:
    return directives("Service")["ExecStart"][0].split()


@needs_analyze
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """No warning at all. verify insists that ExecStart's program exists, so the copy verified points at
    this venv's `scapyrpc` (the console script the install section puts at /opt/scapyrpc/venv/bin)."""
    here = Path(sys.executable).with_name("scapyrpc")
    assert here.exists(), "the scapyrpc console script is not installed in this venv"
    copy = tmp_path / "scapyrpc.service"
    copy.write_text(UNIT.read_text().replace(exec_start()[0], str(here)))
    out = subprocess.run([ANALYZE, "verify", str(copy)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout + out.stderr == "", out.stdout + out.stderr


@needs_analyze
def test_security_exposure_is_low() -> None:
    out = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(UNIT)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    match = re.search(r"Overall exposure level for scapyrpc\.service: ([\d.]+)", out.stdout)
    assert match, out.stdout[-2000:]
    assert float(match.group(1)) <= MAX_EXPOSURE, out.stdout


def test_notify_watchdog_logs_and_configuration() -> None:
    service = directives("Service")
    assert service["Type"] == ["notify"]
    assert int(service["WatchdogSec"][0]) > 0
    assert service["LogsDirectory"] == ["scapyrpc"]  # -l /var/log/scapyrpc/... is writable under ProtectSystem=strict
    assert service["ProtectSystem"] == ["strict"]
    assert service["EnvironmentFile"] == ["-/etc/scapyrpc/scapyrpc.env"]  # optional: starts without it
    assert exec_start()[1:] == ["serve", "$SCAPYRPC_ARGS"]
    assert "SCAPYRPC_ARGS=" in (ROOT / "systemd" / "scapyrpc.env").read_text()
    # SIGTERM to the broker alone (it drains, then stops its workers), SIGKILL to what is left at the end
    assert service["KillMode"] == ["mixed"] and service["KillSignal"] == ["SIGTERM"]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # reopens the log file


def test_the_example_environment_file_holds_valid_settings() -> None:
    """Every SCAPYRPC_* line of systemd/scapyrpc.env, uncommented, is a setting `serve` accepts."""
    lines = [line.lstrip("#") for line in (ROOT / "systemd" / "scapyrpc.env").read_text().splitlines()]
    env = dict(line.split("=", 1) for line in lines if line.startswith("SCAPYRPC_"))
    env.pop("SCAPYRPC_ARGS")
    env.pop("SCAPYRPC_CONFIG")
    assert len(env) >= 4
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCAPYRPC_")}
    out = subprocess.run(
        [sys.executable, "-m", "scapyrpc", "serve", "--print-config"],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
    for name in env:
        assert f"# env {name}\n" in out.stdout + "\n"


def test_address_families_zeromq_and_scapy_need_stay_allowed() -> None:
    families = directives("Service")["RestrictAddressFamilies"][0].split()
    assert sorted(families) == ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"]


def test_exec_start_is_where_the_readme_installs() -> None:
    program = exec_start()[0]
    assert program == "/opt/scapyrpc/venv/bin/scapyrpc"
    readme = (ROOT / "README.md").read_text()
    operations = readme[readme.index("## Operations") :]
    assert "python3 -m venv /opt/scapyrpc/venv" in operations
    assert "/opt/scapyrpc/venv/bin/pip install" in operations
    assert "cp systemd/scapyrpc.service /etc/systemd/system/" in operations
