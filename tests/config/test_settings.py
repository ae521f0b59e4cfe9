"""Settings from flags, SCAPYRPC_* variables and a TOML file (sources.py): precedence, --print-config, bad values."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scapyrpc.config import sources
from scapyrpc.config.options import RemoteWorkerConfig, ServerConfig


def parse(cls: type, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sources.add_arguments(parser, cls)
    return parser.parse_args(list(argv))


def resolve(*argv: str, env: dict[str, str] | None = None, cls: type = ServerConfig) -> sources.Resolved:
    return sources.resolve(cls, parse(cls, *argv), env or {}, "serve")


def scapyrpc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCAPYRPC_")}
    return subprocess.run(
        [sys.executable, "-m", "scapyrpc", *args], capture_output=True, text=True, timeout=60, env=clean | (env or {})
    )


@pytest.fixture
def toml(tmp_path: Path):
    def write(text: str) -> str:
        path = tmp_path / "scapyrpc.toml"
        path.write_text(text)
        return str(path)

    return write


def test_a_flag_wins_over_the_environment_which_wins_over_the_file(toml) -> None:
    path = toml(
        'max-queue = 10\nrequest_timeout = 3\nworkers = 5\nhttp-token = "from-file"\n'
        "allow-remote-shutdown = true\nmax-payload-bytes = 99\n"
    )
    env = {"SCAPYRPC_MAX_QUEUE": "20", "SCAPYRPC_REQUEST_TIMEOUT": "4.5", "SCAPYRPC_ALLOW_REMOTE_SHUTDOWN": "no"}
    got = resolve("--config", path, "--max-queue", "30", env=env)
    cfg = got.config
    assert cfg.broker.max_queue == 30 and got.sources["broker__max_queue"] == "flag"
    assert (
        cfg.broker.request_timeout == 4.5 and got.sources["broker__request_timeout"] == "env SCAPYRPC_REQUEST_TIMEOUT"
    )
    assert cfg.broker.allow_remote_shutdown is False  # "no" in the environment undoes the file's true
    assert cfg.workers == 5 and got.sources["workers"] == f"file {path}"
    assert cfg.worker.limits.max_payload_bytes == 99  # nested three deep, still one flat key
    assert (
        resolve(env={"SCAPYRPC_MAX_SIMULATED_PACKETS": "1000000"}).config.worker.limits.max_simulated_packets == 1000000
    )
    assert cfg.http.http_token == "from-file"
    assert cfg.bind == "*" and got.sources["bind"] == "default"
    assert resolve("--config", path, "--no-allow-remote-shutdown").config.broker.allow_remote_shutdown is False


def test_the_file_can_come_from_the_environment_and_a_flag_names_another(toml, tmp_path: Path) -> None:
    path = toml("max-queue = 7\n")
    other = tmp_path / "other.toml"
    other.write_text("max-queue = 8\n")
    assert resolve(env={"SCAPYRPC_CONFIG": path}).config.broker.max_queue == 7
    assert resolve("--config", str(other), env={"SCAPYRPC_CONFIG": path}).config.broker.max_queue == 8


@pytest.mark.parametrize(
    "text, value",
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_booleans_in_the_environment(text: str, value: bool) -> None:
    assert resolve(env={"SCAPYRPC_ALLOW_REMOTE_SHUTDOWN": text}).config.broker.allow_remote_shutdown is value


def test_an_empty_variable_is_unset_and_the_units_arguments_are_no_setting() -> None:
    got = resolve(env={"SCAPYRPC_MAX_QUEUE": "", "SCAPYRPC_ARGS": "--workers 9", "SCAPYRPC_CONFIG": ""})
    assert got.config.broker.max_queue == 1000 and got.config.workers != 9
    assert got.warnings == []
    assert resolve(env={"SCAPYRPC_MAX_QUEU": "5"}).warnings == ["SCAPYRPC_MAX_QUEU is not a scapyrpc setting; ignored"]
    assert resolve(env={"SCAPYRPC_CONNECT": "tcp://h:1"}).warnings == []  # the worker's: no warning for serve


def test_every_setting_has_its_variable_and_none_is_reserved() -> None:
    for cls in (ServerConfig, RemoteWorkerConfig):
        names = [s.env for s in sources.settings_of(cls)]
        assert len(names) == len(set(names))
        assert not set(names) & sources.NOT_SETTINGS
    assert "SCAPYRPC_CURVE_SECRET_KEY" in names  # the worker's, as the serve's


def test_the_worker_takes_its_endpoint_from_anywhere(toml) -> None:
    assert resolve(env={"SCAPYRPC_CONNECT": "tcp://a:1"}, cls=RemoteWorkerConfig).config.connect == "tcp://a:1"
    path = toml('connect = "tcp://b:2"\nlog-level = "info"\n')
    cfg = resolve("--config", path, cls=RemoteWorkerConfig).config
    assert (cfg.connect, cfg.log.log_level) == ("tcp://b:2", "info")
    with pytest.raises(sources.SettingsError, match="--connect is required"):
        resolve(cls=RemoteWorkerConfig)


def test_verbose_is_log_level_debug() -> None:
    assert resolve("-v").config.log.log_level == "debug"
    assert resolve("-v", "--log-level", "info").config.log.log_level == "info"
    assert resolve(env={"SCAPYRPC_LOG_LEVEL": "info"}).config.log.log_level == "info"


@pytest.mark.parametrize(
    "argv, env, file, message",
    [
        (["--workers", "-1"], {}, None, "--workers -1: must be 0 or more"),
        ([], {"SCAPYRPC_WORKERS": "two"}, None, "SCAPYRPC_WORKERS=two: not an integer"),
        ([], {"SCAPYRPC_REQUEST_TIMEOUT": "0"}, None, "SCAPYRPC_REQUEST_TIMEOUT=0: must be more than 0"),
        ([], {"SCAPYRPC_REQUEST_TIMEOUT": "nan"}, None, "SCAPYRPC_REQUEST_TIMEOUT=nan: must be a finite number"),
        ([], {"SCAPYRPC_PORT": "70000"}, None, "SCAPYRPC_PORT=70000: must be 65535 or less"),
        (["--max-simulated-packets", "1000001"], {}, None, "--max-simulated-packets 1000001: must be 1000000 or less"),
        ([], {"SCAPYRPC_ALLOW_REMOTE_SHUTDOWN": "maybe"}, None, "not a boolean (1/0, true/false, yes/no, on/off)"),
        ([], {"SCAPYRPC_LOG_FORMAT": "xml"}, None, "SCAPYRPC_LOG_FORMAT=xml: must be one of text, json"),
        ([], {}, 'max-queue = "10"', ': max-queue = "10": not an integer'),
        ([], {}, "max-queue = -5", ": max-queue = -5: must be 0 or more"),
        ([], {}, "max-queue = true", ": max-queue = true: not an integer"),
        ([], {}, "max_queu = 5", ": unknown key 'max_queu' (did you mean max-queue?)"),
        ([], {}, "[broker]\nmax-queue = 5", ": [broker]: settings are top-level keys, not tables"),
        ([], {}, "max-queue = 5\nmax_queue = 6", ": max-queue is given twice"),
        ([], {}, "max-queue = ", ": not valid TOML: "),
    ],
)
def test_bad_values_say_where_they_came_from(toml, argv: list[str], env: dict, file: str | None, message: str) -> None:
    if file is not None:
        argv = [*argv, "--config", toml(file)]
    with pytest.raises(sources.SettingsError) as raised:
        resolve(*argv, env=env)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_print_config_says_where_each_value_came_from(toml) -> None:
    path = toml('request-timeout = 2\nlog_format = "json"\nhttp-token = "s3cret"\n')
    out = scapyrpc(
        "serve",
        "--print-config",
        "--config",
        path,
        "-p",
        "4600",
        env={"SCAPYRPC_MAX_QUEUE": "50", "SCAPYRPC_ARGS": "--workers 3"},
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
    setting, source = zip(*(line.rsplit(" # ", 1) for line in out.stdout.splitlines()[2:]))
    origin = dict(zip((text.strip() for text in setting), source))
    assert origin["port = 4600"] == "flag"
    assert origin["max-queue = 50"] == "env SCAPYRPC_MAX_QUEUE"
    assert origin["request-timeout = 2.0"] == f"file {path}"
    assert origin['log-format = "json"'] == f"file {path}"
    assert origin['bind = "*"'] == "default"
    assert origin["# http-token = (set, not shown)"] == f"file {path}"
    assert origin["# http = (not set: off)"] == "default"
    assert "s3cret" not in out.stdout and "workers = 3" not in origin  # SCAPYRPC_ARGS is not read here


def test_print_config_is_a_file_config_reads_back(toml, tmp_path: Path) -> None:
    first = scapyrpc("serve", "--print-config", "--workers", "3", "--max-queue", "12", "--http", "8600")
    saved = tmp_path / "saved.toml"
    saved.write_text(first.stdout)
    again = scapyrpc("serve", "--print-config", "--config", str(saved))
    assert again.returncode == 0, again.stderr
    values = [line.split("#")[0].strip() for line in again.stdout.splitlines() if not line.startswith("#")]
    assert {"workers = 3", "max-queue = 12", "http = 8600"} <= set(values)


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["serve", "--max-queue", "-1"], {}, "scapyrpc serve: --max-queue -1: must be 0 or more"),
        (["serve", "--max-queue", "x"], {}, "scapyrpc serve: error: argument --max-queue: invalid int value: 'x'"),
        (["serve"], {"SCAPYRPC_MAX_QUEUE": "x"}, "scapyrpc serve: SCAPYRPC_MAX_QUEUE=x: not an integer"),
        (
            ["serve", "--config", "/nonexistent/scapyrpc.toml"],
            {},
            "scapyrpc serve: cannot read the config file /nonexistent/scapyrpc.toml: No such file or directory",
        ),
        (
            ["worker"],
            {},
            "scapyrpc worker: --connect is required (or SCAPYRPC_CONNECT, or connect in the --config file)",
        ),
    ],
)
def test_bad_values_exit_2_with_one_line(args: list[str], env: dict, message: str) -> None:
    out = scapyrpc(*args, env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(message), out.stderr


def test_the_readme_example_file_is_what_it_says(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme[readme.index("### Configure") :].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "scapyrpc.toml"
    path.write_text(textwrap.dedent(block))
    got = resolve("--config", str(path))
    cfg = got.config
    assert (cfg.workers, cfg.broker.request_timeout, cfg.broker.max_queue) == (4, 10.0, 500)
    assert (cfg.log.log_level, cfg.log.log_file, cfg.metrics.metrics_port) == (
        "info",
        "/var/log/scapyrpc/scapyrpc.log",
        9464,
    )
    assert set(got.sources.values()) == {"default", f"file {path}"}
