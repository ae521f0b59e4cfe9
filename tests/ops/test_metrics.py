"""--metrics-port: after a known mix of requests, every counter and histogram count is exact."""

from __future__ import annotations

import urllib.error
import urllib.request

import orjson
import pytest
import zmq
from prometheus_client.parser import text_string_to_metric_families

from conftest import GUI_HANDLER, ServerProcess, wait_for, zmq_socket


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """sample name and sorted labels -> value."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def request(method: str, *params: object, request_id: object = 1) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)})


@pytest.fixture(scope="module")
def metered() -> ServerProcess:
    # one worker and no queue: a request that finds the worker busy is refused at once ('server busy')
    srv = ServerProcess("--metrics-port", "0", "--test-methods", "--max-queue", "0", workers=1)
    yield srv
    srv.stop()


def metrics_url(srv: ServerProcess) -> str:
    [line] = [line for line in srv.banner if line.startswith("Metrics: ")]
    return line.split(" ", 1)[1]


def test_counters_and_histograms_are_exact(metered: ServerProcess) -> None:
    url = metrics_url(metered)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/metrics")
    mix = [request("get_version")] * 3 + [
        request("build_pkt", GUI_HANDLER, [{"id": "Ehter"}]),  # -32098 unknown protocol
        request("build_pkt", GUI_HANDLER, [{"id": "IP", "fields": [{"id": "ttl", "value": "x"}]}]),  # -32098
        request(
            "build_pkt",
            GUI_HANDLER,
            [{"id": "Ether", "fields": [{"id": "type", "value": {"vtype": "EXPRESSION", "expr": "1 +"}}]}],
        ),  # -32097 syntax error
        request("build_pkt", GUI_HANDLER, "not a model", "and", "more"),  # -32603 invalid params
        request("no_such_method"),  # -32601, counted as method "unknown"
        b"{not json",  # -32700, method "invalid"
    ]
    sent = received = 0
    replies = []
    client = zmq_socket(zmq.REQ, metered.endpoint)
    sleeper = zmq_socket(zmq.REQ, metered.endpoint)
    try:
        for body in mix:
            client.send(body)
            replies.append(client.recv())
            sent += len(body)
        codes = [orjson.loads(reply).get("error", {}).get("code", 0) for reply in replies]
        assert codes == [0, 0, 0, -32098, -32098, -32097, -32603, -32601, -32700]
        received = sum(map(len, replies))
        slow = request("test_sleep", 0.6)
        sleeper.send(slow)  # holds the only worker...
        assert wait_for(lambda: scrape(url)[("scapyrpc_requests_in_flight", ())] == 1, 30)
        busy = request("test_pid", request_id="refused")
        client.send(busy)  # ...so this one is refused by the broker
        refusal = client.recv()
        assert orjson.loads(refusal)["error"]["message"] == "Scapy Server: server busy, try again later"
        answer = sleeper.recv()
        assert orjson.loads(answer)["result"] > 0
        sent += len(slow) + len(busy)
        received += len(refusal) + len(answer)
    finally:
        client.close()
        sleeper.close()

    m = scrape(url)
    requests = {labels: value for (name, labels), value in m.items() if name == "scapyrpc_requests_total"}
    assert requests == {
        (("method", "get_version"), ("outcome", "ok")): 1,  # the other two came from the reply cache
        (("method", "build_pkt"), ("outcome", "-32098")): 2,
        (("method", "build_pkt"), ("outcome", "-32097")): 1,
        (("method", "build_pkt"), ("outcome", "-32603")): 1,
        (("method", "unknown"), ("outcome", "-32601")): 1,
        (("method", "invalid"), ("outcome", "-32700")): 1,
        (("method", "test_sleep"), ("outcome", "ok")): 1,
    }
    counts = {
        dict(labels)["method"]: value
        for (name, labels), value in m.items()
        if name == "scapyrpc_request_duration_seconds_count"
    }
    assert counts == {"get_version": 1, "build_pkt": 4, "unknown": 1, "invalid": 1, "test_sleep": 1}
    for method, count in counts.items():
        assert m[("scapyrpc_request_duration_seconds_bucket", (("le", "+Inf"), ("method", method)))] == count
        assert m[("scapyrpc_request_duration_seconds_sum", (("method", method),))] > 0
    # the sleeper took at least 0.6 s from acceptance to reply: nothing in the buckets below
    assert m[("scapyrpc_request_duration_seconds_bucket", (("le", "0.5"), ("method", "test_sleep")))] == 0
    refused = {dict(labels)["reason"]: value for (name, labels), value in m.items() if name == "scapyrpc_refused_total"}
    assert refused == {"busy": 1, "too_large": 0, "stopping": 0, "deadline": 0, "no_worker": 0, "worker_lost": 0}
    assert m[("scapyrpc_received_requests_total", ())] == len(mix) + 2
    assert m[("scapyrpc_received_bytes_total", ())] == sent
    assert m[("scapyrpc_sent_bytes_total", ())] == received
    assert m[("scapyrpc_requests_in_flight", ())] == 0
    assert m[("scapyrpc_queued_requests", ())] == 0
    assert m[("scapyrpc_workers", (("location", "local"),))] == 1
    assert m[("scapyrpc_workers", (("location", "remote"),))] == 0
    assert m[("scapyrpc_reply_cache_hits_total", (("method", "get_version"),))] == 2
    assert m[("scapyrpc_reply_cache_misses_total", (("method", "get_version"),))] == 1
    assert m[("scapyrpc_reply_cache_entries", ())] == 1
    assert 0 < m[("scapyrpc_reply_cache_bytes", ())] < 1000
    assert m[("scapyrpc_reply_cache_evictions_total", ())] == 0
    assert m[("process_open_fds", ())] > 0  # the broker's own process figures come along


def test_worker_restarts_and_losses_are_counted_by_reason(metered: ServerProcess) -> None:
    url = metrics_url(metered)
    before = scrape(url)
    client = zmq_socket(zmq.REQ, metered.endpoint)
    try:
        client.send(request("test_raise", "MemoryError"))  # answered 'out of memory'; the worker retires
        assert orjson.loads(client.recv())["error"]["code"] == -32098
    finally:
        client.close()
    restarted = ("scapyrpc_worker_restarts_total", (("reason", "retired"),))
    gone = ("scapyrpc_workers_gone_total", (("location", "local"), ("reason", "retired")))  # after its exit grace
    assert wait_for(lambda: scrape(url).get(restarted, 0) == before.get(restarted, 0) + 1, 30)
    assert wait_for(lambda: scrape(url).get(gone, 0) == before.get(gone, 0) + 1, 30)
    assert wait_for(lambda: scrape(url)[("scapyrpc_workers", (("location", "local"),))] == 1, 30)


def test_the_metrics_port_is_bounded_and_answers_only_loopback_names(metered: ServerProcess) -> None:
    """40 idle connections to the metrics port: at most 16 are held (the rest are dropped or closed
    at once), no thread is started for them, and a rebound name gets 421."""
    import socket
    import time

    import psutil

    url = metrics_url(metered)
    port = int(url.split(":")[2].split("/")[0])
    broker = psutil.Process(metered.pid)
    threads = broker.num_threads()
    socks = [socket.create_connection(("127.0.0.1", port), timeout=2) for _ in range(16)]
    extra = []
    for _ in range(24):
        try:
            extra.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        except OSError:
            pass
    time.sleep(0.5)
    assert broker.num_threads() <= threads
    open_now = 0
    for sock in socks + extra:
        sock.setblocking(False)
        try:
            open_now += sock.recv(1) != b""
        except BlockingIOError:
            open_now += 1
        except OSError:
            pass
    assert open_now <= 16
    for sock in socks + extra:
        sock.close()
    assert wait_for(lambda: _scrapes(url), 10)  # the door opens again once they are gone
    request = urllib.request.Request(url, headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 421


def _scrapes(url: str) -> bool:
    try:
        return bool(scrape(url))
    except OSError:
        return False
