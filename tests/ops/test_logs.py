"""--log-level, --log-format json, -l FILE reopened on SIGHUP, and a -32096's traceback logged once with its id."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import orjson
import psutil
import zmq

from conftest import ServerProcess, wait_for, zmq_socket


def ask(srv: ServerProcess, method: str, *params: object, request_id: object) -> dict:
    sock = zmq_socket(zmq.REQ, srv.endpoint)
    try:
        sock.send(orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}))
        return orjson.loads(sock.recv())
    finally:
        sock.close()


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_lines_one_per_request_and_one_traceback_with_its_id(tmp_path: Path) -> None:
    log_file = tmp_path / "scapyrpc.log"
    srv = ServerProcess(
        "--log-level",
        "info",
        "--log-format",
        "json",
        "-l",
        str(log_file),
        "--test-methods",
        "--max-request-bytes",
        "500",
        workers=1,
    )
    try:
        [worker] = srv.worker_pids()
        assert "result" in ask(srv, "get_version", request_id="v-1")
        assert ask(srv, "test_raise", "BaseException", request_id="boom-7")["error"]["code"] == -32096
        assert "exceeds the limit" in ask(srv, "get_version", "x" * 600, request_id=9)["error"]["message"]
        assert wait_for(lambda: '"id": 9' in log_file.read_text(), 10)
    finally:
        srv.stop()
    lines = records(log_file)  # every line is one JSON object
    by_id = {(r.get("id"), r["message"].split()[0]): r for r in lines if "outcome" in r}
    ok = by_id[("v-1", "get_version")]
    assert (ok["level"], ok["logger"], ok["pid"], ok["outcome"], ok["worker"]) == (
        "info",
        "scapyrpc.broker",
        srv.pid,
        "ok",
        worker,
    )
    assert ok["duration_ms"] > 0 and ok["method"] == "get_version"
    assert by_id[("boom-7", "test_raise")]["outcome"] == "-32096"
    refused = by_id[(9, "-")]
    assert (refused["outcome"], refused["worker"], refused["method"]) == ("too_large", None, "-")
    tracebacks = [r for r in lines if "traceback" in r]
    assert len(tracebacks) == 1  # logged once, by the worker that ran it, with the request id
    [trace] = tracebacks
    assert (trace["pid"], trace["level"], trace["id"]) == (worker, "error", "boom-7")
    assert trace["message"] == 'unexpected error in test_raise, request id "boom-7"'
    assert "UnusualExit" in trace["traceback"]
    assert srv.stderr_text().count('"traceback": ') == 1  # the same record on stderr, once


def test_sighup_reopens_the_log_file_in_every_process(tmp_path: Path) -> None:
    """As logrotate does: move the file, signal; both the broker's and the workers' next lines go to a new file.
    SIGHUP to every process of the server (systemctl kill -s HUP) stops none of them."""
    log_file = tmp_path / "scapyrpc.log"
    srv = ServerProcess("--log-level", "info", "-l", str(log_file), "--test-methods", workers=1)
    try:
        [worker] = srv.worker_pids()
        assert "result" in ask(srv, "get_version", request_id="before")
        assert wait_for(lambda: 'id="before"' in log_file.read_text(), 10)
        rotated = log_file.rename(tmp_path / "scapyrpc.log.1")
        for proc in srv.tree():  # the broker, its zygote and its worker: all started by this test
            proc.send_signal(signal.SIGHUP)
        assert ask(srv, "test_pid", request_id="after")["result"] == worker  # the same worker, still serving
        assert ask(srv, "test_raise", "BaseException", request_id="boom")["error"]["code"] == -32096
        assert wait_for(lambda: log_file.exists() and 'id="boom"' in log_file.read_text(), 10)
        assert psutil.pid_exists(srv.pid) and srv.zygote_pids()
    finally:
        srv.stop()
    new, old = log_file.read_text(), rotated.read_text()
    assert 'id="after"' in new and 'test_pid id="after" ok' in new
    assert f'{worker} scapyrpc.worker ERROR unexpected error in test_raise, request id "boom"' in new
    assert 'id="before"' in old and "after" not in old and "boom" not in old


def test_warning_level_logs_no_request(server: ServerProcess) -> None:
    assert "result" in ask(server, "get_version", request_id="quiet")
    assert 'id="quiet"' not in server.stderr_text()
