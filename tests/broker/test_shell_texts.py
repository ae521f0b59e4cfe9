"""The broker's own replies read as they always did (clients and docs rely on the texts), and a
fresh broker's figures are all zero."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scapyrpc.broker.reasons import Refusal
from scapyrpc.broker.shell import Broker
from scapyrpc.config.options import BrokerConfig

BODY = b'{"jsonrpc":"2.0","id":1,"method":"build_pkt","params":[]}'


@pytest.fixture
def broker() -> Iterator[Broker]:
    broker = Broker(BrokerConfig(max_request_bytes=100), "tcp://127.0.0.1:0", "inproc://texts", 2)
    yield broker
    broker.front.close(linger=0)
    broker.back.close(linger=0)
    broker.ctx.term()


@pytest.mark.parametrize(
    ("reason", "detail", "text"),
    [
        (Refusal.BUSY, 0, "server busy, try again later"),
        (Refusal.TOO_LARGE, 101, "request of 101 bytes exceeds the limit of 100 bytes"),
        (Refusal.STOPPING, 0, "server is shutting down"),
        (Refusal.DEADLINE, 10.0, "request deadline of 10 s exceeded while handling build_pkt"),
        (Refusal.NO_WORKER, 2.5, "no worker became available within 2.5 s"),
        (Refusal.WORKER_LOST, 0, "worker lost while handling build_pkt"),
    ],
)
def test_refusal_messages(broker: Broker, reason: Refusal, detail: float, text: str) -> None:
    assert broker._message(reason, BODY, detail) == text


def test_labels_are_the_metrics_and_logs_names() -> None:
    assert [reason.label for reason in Refusal] == [
        "busy",
        "too_large",
        "stopping",
        "deadline",
        "no_worker",
        "worker_lost",
    ]


def test_a_fresh_broker_has_zero_figures(broker: Broker) -> None:
    figures = broker.figures()
    assert (figures.pool_size, figures.local, figures.remote, figures.in_flight, figures.queued) == (2, 0, 0, 0, 0)
    assert set(figures.refused) == set(Refusal) and not any(figures.refused.values())
    assert not figures.restarts and not figures.gone and figures.traffic.requests == 0
