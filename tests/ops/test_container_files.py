"""docker/Dockerfile, docker/compose.yaml and constraints.txt, checked without a container engine:
the files the image is built from exist, the runtime dependencies are pinned, compose says what
operators rely on (init, a worker without the broker's healthcheck, scaling), and every command
they run is one scapyrpc understands."""

from __future__ import annotations

import shlex
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not pinned with =="
            found[canonicalize_name(name)] = version
    return found


def runtime_requirements(dist_name: str = "scapyrpc") -> list[Requirement]:
    """The requirements that apply here (markers evaluated, no extras)."""
    found = []
    for text in distribution(dist_name).requires or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            found.append(req)
    return found


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def accepted_by_scapyrpc(args: list[str]) -> None:
    """Every option in `args` is one the subcommand's help lists."""
    help_text = subprocess.run(
        [sys.executable, "-m", "scapyrpc", args[0], "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for option in (a for a in args[1:] if a.startswith("-")):
        assert f"{option} " in help_text or f"{option}," in help_text, f"`scapyrpc {args[0]}` has no {option}"


# ---- constraints.txt ------------------------------------------------------------------------------


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    for req in runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not pinned in constraints.txt (run `make constraints`)"
        assert req.specifier.contains(pinned[name], prereleases=True), f"{req.name}=={pinned[name]} is not {req}"
    assert "scapyrpc" not in pinned


def test_the_whole_runtime_closure_is_pinned_at_the_installed_versions() -> None:
    """The test venv is installed with -c constraints.txt, so what the tests ran on is what the image gets."""
    pinned, seen, todo = pins(), set(), [Requirement("scapyrpc")]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        if name != "scapyrpc":
            assert name in pinned, f"{req.name} (needed at run time) is not in constraints.txt"
            assert distribution(req.name).version == pinned[name], f"{req.name}: installed != pinned"
        todo += runtime_requirements(req.name)
    assert set(pinned) == seen - {"scapyrpc"}, "constraints.txt pins packages scapyrpc does not need"


# ---- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_sources_exist_and_are_not_ignored() -> None:
    for op, args in instructions():
        if op == "COPY":
            assert not args.startswith("--from"), "copying from the build stage leaves the wheels in a layer"
            for source in shlex.split(args)[:-1]:
                assert (ROOT / source).exists(), source
                assert subprocess.run(["git", "check-ignore", "-q", source], cwd=ROOT).returncode == 1, source


def test_dockerfile_installs_pinned_wheels_from_the_build_stage_without_a_layer_of_them() -> None:
    runs = [args for op, args in instructions() if op == "RUN"]
    assert any("pip wheel" in r and "--constraint constraints.txt" in r for r in runs)
    [install] = [r for r in runs if "pip install" in r]
    assert "--mount=type=bind,from=build,source=/wheels" in install
    assert "--no-index" in install and "--constraint" in install and "--no-cache-dir" in install
    assert not any("rm -rf /wheels" in r for r in runs)


def test_dockerfile_runs_unprivileged_with_a_ping_healthcheck() -> None:
    ops = dict(instructions())  # the last of each
    assert ops["USER"] == "scapyrpc"
    assert ops["HEALTHCHECK"].split(" CMD ", 1)[1].startswith('["scapyrpc", "ping"')
    assert ops["ENTRYPOINT"] == '["scapyrpc"]'
    accepted_by_scapyrpc(yaml.safe_load(ops["CMD"]))  # a JSON array is YAML too
    accepted_by_scapyrpc(yaml.safe_load(ops["HEALTHCHECK"].split(" CMD ", 1)[1])[1:])


# ---- compose.yaml -------------------------------------------------------------------------------


def test_compose_services_init_and_healthchecks() -> None:
    services = compose()["services"]
    assert set(services) == {"scapyrpc", "worker"}
    for name, service in services.items():
        assert service["init"] is True, f"{name}: without init, PID 1 must handle every signal itself"
        assert service["stop_signal"] == "SIGTERM"
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert services["scapyrpc"]["healthcheck"]["test"][:3] == ["CMD", "scapyrpc", "ping"]
    assert services["worker"]["healthcheck"] == {"disable": True}  # the image's ping would probe the worker


def test_compose_worker_scales_and_reaches_the_broker_backend() -> None:
    services = compose()["services"]
    worker, broker = services["worker"], services["scapyrpc"]
    for fixed in ("container_name", "ports", "hostname"):
        assert fixed not in worker, f"worker has {fixed}: `--scale worker=N` needs instances that differ"
    assert worker.get("deploy", {}).get("replicas", 1) == 1
    backend = broker["command"][broker["command"].index("--backend") + 1]
    connect = worker["command"][worker["command"].index("--connect") + 1]
    assert backend.rsplit(":", 1)[1] == connect.rsplit(":", 1)[1]
    assert connect.startswith("tcp://scapyrpc:")  # the broker's service name on the compose network
    assert "4507:4507" in broker["ports"]


@pytest.mark.parametrize("service", ["scapyrpc", "worker"])
def test_compose_commands_are_scapyrpc_commands(service: str) -> None:
    accepted_by_scapyrpc(compose()["services"][service]["command"])
