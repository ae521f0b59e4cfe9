"""The console script works from an installed wheel in a fresh venv, not only from the source tree.

Built and installed as README's Operations section and the Dockerfile do it: `python -m build`,
then the wheel with the pinned dependencies of constraints.txt.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest

from scapyrpc.client import ScapyClient
from scapyrpc.testing import ManagedServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_console_script_from_wheel(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )
    wheel = next(dist.glob("scapyrpc-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = env_dir / "bin" / "pip"
    subprocess.run(
        [str(pip), "install", "--quiet", "--constraint", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
        timeout=600,
    )
    script = env_dir / "bin" / "scapyrpc"
    assert script.exists()
    srv = ManagedServer(
        command=[str(script), "serve", "-p", "0", "--bind", "127.0.0.1", "--workers", "1", "--http", "0"]
    )
    try:
        with ScapyClient(srv.endpoint, timeout_ms=20000) as cli:
            assert cli.get_version()["built_by"].startswith("scapyrpc ")
            templates = cli.get_templates()
            assert any(t["id"] == "IPv4/TCP" for t in templates)  # package data came with the wheel
            assert cli.build_pkt([{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}])["binary"]
            ping = subprocess.run([str(script), "ping", "-e", srv.endpoint], capture_output=True, text=True, timeout=60)
            assert ping.returncode == 0 and "API 1.02" in ping.stdout, ping.stderr  # the image's healthcheck
            editor = next(line.split(" ", 1)[1] for line in srv.banner if line.startswith("Editor: "))
            with urllib.request.urlopen(editor, timeout=20) as page:  # the browser editor came with the wheel
                assert b"/static/js/main.js" in page.read()
            with urllib.request.urlopen(editor + "static/vendor/preact.mjs", timeout=20) as module:
                assert module.status == 200
            cli.shut_down()
        assert srv.proc.wait(30) == 0
    finally:
        srv.stop()
