"""Every setting of `scapyrpc serve` and `scapyrpc worker`, written once.

Each field says its default, its help and the values it accepts; the command
line is built from these dataclasses (`add_options`, `from_values`), so are the
environment variables and the TOML file (`config.sources`), and the broker, its
core, the pool and the workers take the parts they need as they are — nothing
is copied field by field. A setting's name is its field's name with dashes
(`max-queue`), which is also its long option. Fields marked `flag=False` are
tuning constants a test may change but a command line does not offer.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scapyrpc.pool.cpus import usable_cpus
from scapyrpc.wire import endpoints, frames

__all__ = [
    "BrokerConfig",
    "CurveConfig",
    "HttpConfig",
    "Limits",
    "LogConfig",
    "MetricsConfig",
    "MiB",
    "RemoteWorkerConfig",
    "ServerConfig",
    "WorkerConfig",
    "add_options",
    "default",
    "from_mapping",
    "from_values",
    "leaves",
    "name",
    "plain",
    "required",
    "shown",
]

MiB = 1024 * 1024
GiB = 1024 * MiB


def option(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    flags: tuple[str, ...] = (),
    metavar: str | None = None,
    flag: bool = True,
    default_factory: Callable[[], Any] | None = None,
    shown: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
    alias: tuple[tuple[str, ...], Any, str] | None = None,
    zero: str | None = None,
) -> Any:
    """A configuration field: its default, its help, how the command line spells it (`flags`, which
    must include `--NAME`; `alias`: (flags, value, help) of a shorthand that sets one value), what
    it accepts (`minimum`/`maximum` inclusive, `positive`: above 0, `choices`; `zero`: what 0 means
    when 0 is allowed below `minimum`), and whether its value is a `secret` that printouts hide.
    Every number has a `maximum`: a value that passes at start must not break the server later."""
    meta = {
        "help": help,
        "flags": flags,
        "metavar": metavar,
        "flag": flag,
        "shown": shown,
        "minimum": minimum,
        "maximum": maximum,
        "positive": positive,
        "choices": choices,
        "secret": secret,
        "alias": alias,
        "zero": zero,
    }
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


MIN_WORKER_MEMORY_MB = 256  # a worker with less address space cannot import Scapy: it would die starting, forever


@dataclass(frozen=True)
class Limits:
    """What a worker refuses to build or read (docs/api.md, "Limits")."""

    max_payload_bytes: int = option(
        1 * MiB, "largest generated payload (BYTES generators)", minimum=0, maximum=256 * MiB
    )
    max_pcap_bytes: int = option(64 * MiB, "largest pcap accepted by read_pcap", minimum=0, maximum=4 * GiB)
    max_pcap_packets: int = option(100_000, "most packets read from one pcap", minimum=0, maximum=10_000_000)
    max_simulated_packets: int = option(
        100_000,
        "most packets simulate_vm generates in one request (the work must fit the request deadline)",
        minimum=0,
        maximum=1_000_000,
    )


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker serves and when it retires (local pool workers and `scapyrpc worker`)."""

    max_requests_per_worker: int = option(
        0, "recycle a worker after it served N requests (0: never)", minimum=0, maximum=2**31
    )
    max_worker_rss_mb: int = option(
        0,
        "recycle a worker whose memory grew past MB after a request (0: never)",
        metavar="MB",
        minimum=0,
        maximum=1024 * 1024,
    )
    max_worker_memory_mb: int = option(
        1024,
        "address space a worker may use (a worker needs about 256 MB to "
        "start): a request that needs more is answered 'out of memory' "
        "and the worker is recycled (0: no limit)",
        metavar="MB",
        minimum=MIN_WORKER_MEMORY_MB,
        zero="no limit",
        maximum=1024 * 1024,
    )
    limits: Limits = field(default_factory=Limits)
    test_methods: bool = option(False, argparse.SUPPRESS)


@dataclass(frozen=True)
class BrokerConfig:
    """The broker's bounds and timings; its core (`broker.core`) reads them as they are."""

    request_timeout: float = option(
        10.0, "seconds a request may wait for a worker, and then run", metavar="S", positive=True, maximum=3600
    )
    max_queue: int = option(
        1000,
        "requests waiting for a worker; when full, the heaviest client's newest "
        "request makes room for a lighter client's, else 'server busy'",
        minimum=0,
        maximum=1_000_000,
    )
    max_queued_bytes: int = option(
        256 * MiB, "bytes of requests waiting for a worker, in total", minimum=0, maximum=64 * GiB
    )
    max_request_bytes: int = option(
        16 * MiB, "largest request, envelope frames included", positive=True, maximum=1 * GiB
    )
    max_frames: int = option(
        8,
        "frames per request message (a REQ client sends 3 with the routing id); "
        "a message with more is dropped unanswered and logged once per peer",
        minimum=2,
        maximum=1024,
    )
    max_client_backlog_bytes: int = option(
        64 * MiB,
        "bytes of large replies (64 KiB and up) a client has not read yet; past it its replies are dropped and logged",
        minimum=0,
        maximum=64 * GiB,
    )
    max_backlog_bytes: int = option(
        512 * MiB, "bytes of large replies not yet read, all clients together", minimum=0, maximum=64 * GiB
    )
    max_connections: int = option(
        4096,
        "client connections before new ones are refused at the listening "
        "socket, at most the file-descriptor limit less a reserve (0: that "
        "limit); libzmq's cost per connection grows with their number",
        minimum=0,
        maximum=1 << 20,
    )
    allow_remote_shutdown: bool = option(
        False, "honour shut_down from peers beyond this host (loopback and ipc peers always may)"
    )
    reply_cache_mb: int = option(
        64,
        "memory for replies the broker gives itself: answers a worker marks as fixed for its "
        "version (get_version, get_definitions, ...), kept per request and worker version, least "
        "recently used dropped first (0: off)",
        metavar="MB",
        minimum=0,
        maximum=64 * 1024,
    )
    # tuning constants: not on the command line
    prefetch_window: float = option(
        0.05, "a busy worker is handed its next request early only while its current one is this young (s)", flag=False
    )
    prefetch_cheap: float = option(
        0.01,
        "... and only when its current request and the next are of methods that ran at most this long "
        "lately, send to reply (s; inf: whatever they are): what a newcomer may wait beyond the rest of "
        "one running request",
        flag=False,
    )
    fair_share_halflife: float = option(
        10.0, "seconds after which a client's worker time counts half, when the queue picks who is next", flag=False
    )
    heartbeat_interval: float = option(
        frames.HEARTBEAT_INTERVAL,
        "seconds between the broker's heartbeats, and "
        "the unit liveness counts in (workers beat at the wire's interval)",
        flag=False,
    )
    heartbeat_liveness: int = option(
        frames.HEARTBEAT_LIVENESS, "missed heartbeats before a worker counts as gone", flag=False
    )
    exit_grace: float = option(0.5, "seconds a dead worker's last reply may still be crossing the sockets", flag=False)
    startup_timeout: float = option(60.0, "seconds a local worker may take to say READY", flag=False)
    drain_timeout: float | None = option(None, "graceful-stop bound (default: request_timeout + 1 s)", flag=False)
    terminate_timeout: float = option(3.0, "seconds between SIGTERM and SIGKILL of workers at stop", flag=False)
    tick: float = option(0.05, "seconds between deadline sweeps: how late a deadline reply may be", flag=False)


@dataclass(frozen=True)
class CurveConfig:
    """CurveZMQ on the broker's sockets (`keys.py`); off unless the server has a secret key."""

    curve_secret_key: str | None = option(
        None,
        "the server's NAME.key_secret (from `scapyrpc keygen`): clients must use CurveZMQ with its public key",
        metavar="FILE",
        shown="",
    )
    curve_clients: str | None = option(
        None,
        "admit only clients whose NAME.key files are in DIR",
        metavar="DIR",
        shown="any client that speaks CurveZMQ",
    )
    curve_workers: str | None = option(
        None,
        "admit only workers whose NAME.key files are in DIR (required with --curve-secret-key and a tcp --backend)",
        metavar="DIR",
        shown="",
    )


@dataclass(frozen=True)
class HttpConfig:
    """The HTTP gateway and browser editor (`gateway.app`), off unless given a port."""

    http: int | None = option(
        None,
        "serve the browser editor, POST /rpc and a WebSocket on PORT (0: any free port)",
        metavar="PORT",
        shown="off",
        minimum=0,
        maximum=65535,
    )
    http_bind: str = option("127.0.0.1", "address for --http", metavar="ADDR")
    http_token: str | None = option(
        None,
        "token every HTTP request must carry (required beyond loopback; at least "
        "16 characters); prefer --http-token-file, which keeps it off the command "
        "line",
        metavar="TOKEN",
        shown="",
        secret=True,
    )
    http_token_file: str | None = option(None, "read --http-token from FILE (its first line)", metavar="FILE", shown="")
    http_max_connections: int = option(
        256,
        "HTTP and WebSocket connections before new ones are refused at the "
        "listening socket (their descriptors come out of the same budget as "
        "--max-connections)",
        minimum=1,
        maximum=65536,
    )
    http_max_held_bytes: int = option(
        256 * MiB,
        "bytes the HTTP side may hold for all its clients together: "
        "request bodies being received and replies not yet sent; past it "
        "new requests get 503",
        minimum=MiB,
        maximum=64 * 1024 * MiB,
    )
    http_max_message_bytes: int = option(
        1 * MiB,
        "largest WebSocket message (larger requests go to POST /rpc, as the editor sends them)",
        minimum=64 * 1024,
        maximum=1024 * MiB,
    )
    http_idle_timeout: float = option(
        15.0,
        "seconds an idle keep-alive connection stays open, and a new one may take to send its request headers",
        metavar="S",
        positive=True,
        maximum=3600,
    )
    http_body_timeout: float = option(
        60.0, "seconds a request body may take to arrive", metavar="S", positive=True, maximum=3600
    )
    http_send_timeout: float = option(
        60.0,
        "seconds a client may take to read a reply before its connection is closed",
        metavar="S",
        positive=True,
        maximum=3600,
    )
    max_inflight_per_socket: int = option(
        64, "a WebSocket is not read further while this many replies are owed", flag=False
    )


LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class LogConfig:
    """What is logged and where (`logs.py`); the broker passes it on to its workers."""

    log_level: str = option(
        "warning",
        "warning: problems only; info: also one line per request (method, id, "
        "duration, outcome, worker) and worker events; debug: also request and "
        "reply bodies, truncated",
        choices=LOG_LEVELS,
        alias=(("-v", "--verbose"), "debug", "same as --log-level debug"),
    )
    log_format: str = option("text", "text, or json: one JSON object per line", choices=("text", "json"))
    log_file: str | None = option(
        None,
        "also append logs to FILE (SIGHUP reopens it, for log rotation)",
        flags=("-l", "--log-file", "--log"),
        metavar="FILE",
        shown="",
    )


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus metrics of the broker (`metrics.py`), off unless given a port."""

    metrics_port: int | None = option(
        None,
        "serve Prometheus metrics at http://ADDR:PORT/metrics (0: any free port)",
        metavar="PORT",
        shown="off",
        minimum=0,
        maximum=65535,
    )
    metrics_bind: str = option("127.0.0.1", "address for --metrics-port", metavar="ADDR")


@dataclass(frozen=True)
class ServerConfig:
    """Everything `scapyrpc serve` (and `ScapyServer`) can set."""

    port: int = option(
        4507,
        "port to listen on (-s and --scapy-port are the seed's spellings; 0: any free port)",
        flags=("-p", "--port", "--scapy-port", "-s"),
        metavar="PORT",
        minimum=0,
        maximum=65535,
    )
    bind: str = option("*", "address to listen on (*: all interfaces)", metavar="ADDR")
    workers: int = option(
        help="local worker processes (0: remote workers only)",
        default_factory=usable_cpus,
        shown="the CPUs this process may use",
        minimum=0,
        maximum=1024,
    )
    backend: str | None = option(
        None,
        "endpoint workers connect to, e.g. tcp://*:4508 to let workers on other "
        "hosts join (default: a private ipc:// endpoint)",
        metavar="ENDPOINT",
        shown="",
    )
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    curve: CurveConfig = field(default_factory=CurveConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    banner: bool = option(True, "print the start-up banner", flag=False)

    @property
    def frontend(self) -> str:
        return endpoints.tcp(self.bind, self.port)


@dataclass(frozen=True)
class RemoteWorkerConfig:
    """Everything `scapyrpc worker` can set."""

    connect: str = option(help="the broker's worker endpoint, e.g. tcp://host:4508", metavar="ENDPOINT")
    curve_server_key: str | None = option(
        None, "the broker's NAME.key: join it over CurveZMQ", metavar="FILE", shown=""
    )
    curve_secret_key: str | None = option(
        None,
        "this worker's NAME.key_secret (its NAME.key must be in the broker's --curve-workers)",
        metavar="FILE",
        shown="",
    )
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    log: LogConfig = field(default_factory=LogConfig)


# ---- the command line, from the dataclasses ----------------------------------------------------


def _typed_fields(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls)]


def leaves(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field[Any], Any]]:
    """(destination, field, type) of every plain field, nested configurations flattened
    (`broker.max_queue` becomes `broker__max_queue`)."""
    for f, kind in _typed_fields(cls):
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            yield from leaves(kind, f"{prefix}{f.name}__")
        else:
            yield prefix + f.name, f, kind


def default(f: dataclasses.Field[Any]) -> Any:
    """A field's default value (its factory's, if it has one)."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def plain(kind: Any) -> Any:
    """`float` for `float | None`."""
    real = [a for a in typing.get_args(kind) if a is not type(None)]
    return real[0] if len(real) == 1 else kind


def name(f: dataclasses.Field[Any]) -> str:
    """A setting's name: its long option without the dashes (`max-queue`)."""
    return f.name.replace("_", "-")


def required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    """One option per field of `cls` (nested ones flattened), its default shown in the help.

    Nothing is required here and an option not given stays `dataclasses.MISSING`, so the
    other sources (`config.sources`) can fill it."""
    for dest, f, kind in leaves(cls):
        meta = f.metadata
        if not meta.get("flag", True):
            continue
        flags = meta.get("flags") or ("--" + name(f),)
        assert "--" + name(f) in flags, f"{f.name}: its flags must include --{name(f)}"
        help_text = meta.get("help", "")
        if help_text != argparse.SUPPRESS and not required(f) and meta.get("shown") != "":
            bound = f"; at most {shown(f, meta['maximum'])}" if meta.get("maximum") is not None else ""
            help_text = f"{help_text} (default: {meta.get('shown') or shown(f, default(f))}{bound})"
        if meta.get("alias"):
            alias_flags, value, alias_help = meta["alias"]
            parser.add_argument(
                *alias_flags, dest=dest, action="store_const", const=value, default=dataclasses.MISSING, help=alias_help
            )
        if kind is bool:  # --x and --no-x, so a flag can undo what a variable or the file set
            switch = parser.add_argument(
                *flags, dest=dest, action=argparse.BooleanOptionalAction, default=dataclasses.MISSING
            )
            switch.help = help_text  # set afterwards: the action would append its MISSING default
            continue
        metavar = meta.get("metavar")
        if metavar is None and not meta.get("choices"):  # choices show themselves: {text,json}
            metavar = "BYTES" if f.name.endswith("_bytes") else _METAVARS.get(plain(kind), "VALUE")
        parser.add_argument(
            *flags,
            dest=dest,
            type=plain(kind),
            metavar=metavar,
            choices=meta.get("choices"),
            default=dataclasses.MISSING,
            help=help_text,
        )


_METAVARS = {int: "N", float: "S", str: "TEXT"}


def shown(f: dataclasses.Field[Any], value: Any) -> str:
    """How help shows a value: sizes in MiB where they are whole, booleans as yes/no."""
    if f.name.endswith("_bytes") and isinstance(value, int) and value and value % MiB == 0:
        return f"{value // MiB} MiB"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def from_values(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    """The configuration `cls` from flattened values (`broker__max_queue`; MISSING or absent: the default)."""
    kwargs = {}
    for f, kind in _typed_fields(cls):
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            kwargs[f.name] = from_values(kind, values, f"{prefix}{f.name}__")
        elif values.get(prefix + f.name, dataclasses.MISSING) is not dataclasses.MISSING:
            kwargs[f.name] = values[prefix + f.name]
    return cls(**kwargs)


def from_mapping(cls: type, values: dict[str, Any]) -> Any:
    """The configuration `cls` from nested dicts such as `dataclasses.asdict` makes."""
    kwargs = {}
    for f, kind in _typed_fields(cls):
        if f.name in values:
            value = values[f.name]
            is_config = isinstance(kind, type) and dataclasses.is_dataclass(kind)
            kwargs[f.name] = from_mapping(kind, value) if is_config else value
    return cls(**kwargs)
