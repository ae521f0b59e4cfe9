"""Every setting of `scapyrpc serve` and `scapyrpc worker`, written once.

Each field says its default and its help; the command line is built from these
dataclasses (`add_options`, `from_options`), and the broker, its core, the pool
and the workers take the parts they need as they are — nothing is copied field
by field. Fields marked `flag=False` are tuning constants a test may change but
a command line does not offer.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .cpus import usable_cpus

MiB = 1024 * 1024


def option(default: Any = dataclasses.MISSING, help: str = "", *, flags: tuple[str, ...] = (),
           metavar: str | None = None, flag: bool = True, default_factory: Callable[[], Any] | None = None,
           shown: str | None = None) -> Any:
    """A configuration field: its default, its help, and how the command line spells it."""
    meta = {"help": help, "flags": flags, "metavar": metavar, "flag": flag, "shown": shown}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Limits:
    """What a worker refuses to build or read (API.md section 9)."""

    max_payload_bytes: int = option(1 * MiB, "largest generated payload (BYTES generators)")
    max_pcap_bytes: int = option(64 * MiB, "largest pcap accepted by read_pcap")
    max_pcap_packets: int = option(100_000, "most packets read from one pcap")


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker serves and when it retires (local pool workers and `scapyrpc worker`)."""

    max_requests_per_worker: int = option(0, "recycle a worker after it served N requests (0: never)")
    max_worker_rss_mb: int = option(0, "recycle a worker whose memory grew past MB after a request (0: never)",
                                    metavar="MB")
    max_worker_memory_mb: int = option(1024, "address space a worker may use (Scapy and its caches take about "
                                             "280 MB): a request that needs more is answered 'out of memory' "
                                             "and the worker is recycled (0: no limit)", metavar="MB")
    limits: Limits = field(default_factory=Limits)
    test_methods: bool = option(False, argparse.SUPPRESS)


@dataclass(frozen=True)
class BrokerConfig:
    """The broker's bounds and timings; its core (`scheduler.py`) reads them as they are."""

    request_timeout: float = option(10.0, "seconds a request may wait for a worker, and then run", metavar="S")
    max_queue: int = option(1000, "requests waiting for a worker; when full, the heaviest client's newest "
                                  "request makes room for a lighter client's, else 'server busy'")
    max_queued_bytes: int = option(256 * MiB, "bytes of requests waiting for a worker, in total")
    max_request_bytes: int = option(16 * MiB, "largest request, envelope frames included")
    max_frames: int = option(8, "frames per request message (a REQ client sends 3 with the routing id); "
                                "a message with more is dropped unanswered and logged once per peer")
    max_client_backlog_bytes: int = option(64 * MiB, "bytes of large replies (64 KiB and up) a client has not "
                                                     "read yet; past it its replies are dropped and logged")
    max_backlog_bytes: int = option(512 * MiB, "bytes of large replies not yet read, all clients together")
    max_connections: int = option(0, "client connections before new ones are refused at the listening socket "
                                     "(0: the file-descriptor limit less a reserve)")
    allow_remote_shutdown: bool = option(False, "honour shut_down from peers beyond this host (loopback and "
                                                "ipc peers always may)")
    # tuning constants: not on the command line
    prefetch_window: float = option(0.05, "a busy worker is handed its next request early only while "
                                          "its current one is this young (s)", flag=False)
    heartbeat_interval: float = option(1.0, "seconds between heartbeats, both ways", flag=False)
    heartbeat_liveness: int = option(3, "missed heartbeats before a worker counts as gone", flag=False)
    exit_grace: float = option(0.5, "seconds a dead worker's last reply may still be crossing the sockets", flag=False)
    startup_timeout: float = option(60.0, "seconds a local worker may take to say READY", flag=False)
    drain_timeout: float | None = option(None, "graceful-stop bound (default: request_timeout + 1 s)", flag=False)
    terminate_timeout: float = option(3.0, "seconds between SIGTERM and SIGKILL of workers at stop", flag=False)
    tick: float = option(0.05, "seconds between deadline sweeps: how late a deadline reply may be", flag=False)


@dataclass(frozen=True)
class CurveConfig:
    """CurveZMQ on the broker's sockets (`keys.py`); off unless the server has a secret key."""

    curve_secret_key: str | None = option(None, "the server's NAME.key_secret (from `scapyrpc keygen`): clients "
                                                "must use CurveZMQ with its public key", metavar="FILE", shown="")
    curve_clients: str | None = option(None, "admit only clients whose NAME.key files are in DIR",
                                       metavar="DIR", shown="any client that speaks CurveZMQ")
    curve_workers: str | None = option(None, "admit only workers whose NAME.key files are in DIR (required with "
                                             "--curve-secret-key and a tcp --backend)", metavar="DIR", shown="")


@dataclass(frozen=True)
class HttpConfig:
    """The HTTP gateway and browser editor (`http_gateway.py`), off unless given a port."""

    http: int | None = option(None, "serve the browser editor, POST /rpc and a WebSocket on PORT (0: any free port)",
                              metavar="PORT", shown="off")
    http_bind: str = option("127.0.0.1", "address for --http", metavar="ADDR")
    http_token: str | None = option(None, "token every HTTP request must carry (required beyond loopback)",
                                    metavar="TOKEN", shown="")
    max_inflight_per_socket: int = option(64, "a WebSocket is not read further while this many replies are owed",
                                          flag=False)


@dataclass(frozen=True)
class ServerConfig:
    """Everything `scapyrpc serve` (and `ScapyServer`) can set."""

    port: int = option(4507, "port to listen on (-s is the seed's spelling; 0: any free port)",
                       flags=("-p", "--scapy-port", "-s"), metavar="PORT")
    bind: str = option("*", "address to listen on (*: all interfaces)", metavar="ADDR")
    workers: int = option(help="local worker processes (0: remote workers only)", default_factory=usable_cpus,
                          shown="the CPUs this process may use")
    backend: str | None = option(None, "endpoint workers connect to, e.g. tcp://*:4508 to let workers on other "
                                       "hosts join (default: a private ipc:// endpoint)", metavar="ENDPOINT", shown="")
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    curve: CurveConfig = field(default_factory=CurveConfig)
    banner: bool = option(True, "print the start-up banner", flag=False)

    @property
    def frontend(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind and not self.bind.startswith("[") else self.bind
        return f"tcp://{host}:{self.port or '*'}"


@dataclass(frozen=True)
class RemoteWorkerConfig:
    """Everything `scapyrpc worker` can set."""

    connect: str = option(help="the broker's worker endpoint, e.g. tcp://host:4508", metavar="ENDPOINT")
    curve_server_key: str | None = option(None, "the broker's NAME.key: join it over CurveZMQ", metavar="FILE",
                                          shown="")
    curve_secret_key: str | None = option(None, "this worker's NAME.key_secret (its NAME.key must be in the "
                                                "broker's --curve-workers)", metavar="FILE", shown="")
    worker: WorkerConfig = field(default_factory=WorkerConfig)


# ---- the command line, from the dataclasses ----------------------------------------------------


def _typed_fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls)]


def _leaves(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any]]:
    """(destination, field, type) of every plain field, nested configurations flattened
    (`broker.max_queue` becomes `broker__max_queue`)."""
    for f, kind in _typed_fields(cls):
        if dataclasses.is_dataclass(kind):
            yield from _leaves(kind, f"{prefix}{f.name}__")
        else:
            yield prefix + f.name, f, kind


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _plain(kind: Any) -> Any:
    """`float` for `float | None`."""
    real = [a for a in typing.get_args(kind) if a is not type(None)]
    return real[0] if len(real) == 1 else kind


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """One option per field of `cls` (nested ones flattened), its default shown in the help."""
    for dest, f, kind in _leaves(cls):
        meta = f.metadata
        if not meta.get("flag", True):
            continue
        flags = meta.get("flags") or ("--" + f.name.replace("_", "-"),)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        help_text = meta.get("help", "")
        if help_text != argparse.SUPPRESS and not required and kind is not bool and meta.get("shown") != "":
            help_text = f"{help_text} (default: {meta.get('shown') or _shown(f.name, _default(f))})"
        if kind is bool:
            parser.add_argument(*flags, dest=dest, action="store_true", help=help_text)
            continue
        plain = _plain(kind)
        metavar = meta.get("metavar") or ("BYTES" if f.name.endswith("_bytes") else _METAVARS.get(plain, "VALUE"))
        parser.add_argument(*flags, dest=dest, type=plain, metavar=metavar, required=required,
                            default=dataclasses.MISSING, help=help_text)


_METAVARS = {int: "N", float: "S", str: "TEXT"}


def _shown(name: str, value: Any) -> str:
    if name.endswith("_bytes") and isinstance(value, int) and value and value % MiB == 0:
        return f"{value // MiB} MiB"
    return str(value)


def from_options(cls: type, args: argparse.Namespace, prefix: str = "") -> Any:
    """The configuration `cls` that the parsed command line describes (defaults where it is silent)."""
    values = vars(args)
    kwargs = {}
    for f, kind in _typed_fields(cls):
        if dataclasses.is_dataclass(kind):
            kwargs[f.name] = from_options(kind, args, f"{prefix}{f.name}__")
        elif values.get(prefix + f.name, dataclasses.MISSING) is not dataclasses.MISSING:
            kwargs[f.name] = values[prefix + f.name]
    return cls(**kwargs)


def from_mapping(cls: type, values: dict[str, Any]) -> Any:
    """The configuration `cls` from nested dicts such as `dataclasses.asdict` makes."""
    kwargs = {}
    for f, kind in _typed_fields(cls):
        if f.name in values:
            value = values[f.name]
            kwargs[f.name] = from_mapping(kind, value) if dataclasses.is_dataclass(kind) else value
    return cls(**kwargs)
