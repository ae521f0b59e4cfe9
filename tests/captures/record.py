#!/usr/bin/env python3
"""Record the pcap corpus in tests/captures from real programs.

Every packet is sent by a real program or by the kernel: curl and a Python
http.server, openssl s_server/s_client, dnsmasq and dig, ping, the kernel's
TCP stack and its ICMP errors.  The traffic runs between two throwaway
network namespaces joined by a veth pair (or on a namespace's own loopback),
and tcpdump writes classic pcap files.  Run as root: `make corpus`.

Where the kernel has no 802.1Q module, the tag is pushed and popped by the
kernel's own VLAN helpers, called from a two-instruction tc program; where it
has no GRE driver, tunnels.pcap holds VXLAN only.  Traffic loss for the
retransmission capture comes from an nftables drop rule, since the kernel may
have no netem qdisc.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import platform
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "scrpc"
NS_A, NS_B = f"{PREFIX}-a", f"{PREFIX}-b"
IF_A, IF_B = "va", "vb"
MAC_A, MAC_B = "02:53:43:00:00:0a", "02:53:43:00:00:0b"
V4_A, V4_B = "192.0.2.1", "192.0.2.2"
V6_A, V6_B = "fd00:1::1", "fd00:1::2"
GRE_A, GRE_B = "198.18.1.1", "198.18.1.2"
VXLAN_A, VXLAN_B = "198.18.42.1", "198.18.42.2"
VLAN_A, VLAN_B = "198.18.100.1", "198.18.100.2"
VLAN_ID = 100
VXLAN_VNI, VXLAN_PORT = 42, 4789
HTTP_PORT, TLS_PORT, UDP_PORT = 8080, 4433, 7000
CLOSED_PORT = 33434
DATA_SIZE = 200 * 1024
BIG_SIZE = 256 * 1024
LOSS_EVERY = 5
FRAGMENTED_PING = 4000
V4_AND_ULA = "not ip6 or ip6 net fd00:1::/64"

TOOLS = {
    "tcpdump": "tcpdump",
    "dnsmasq": "dnsmasq-base",
    "dig": "bind9-dnsutils",
    "ping": "iputils-ping",
    "ip": "iproute2",
    "tc": "iproute2",
    "ss": "iproute2",
    "openssl": "openssl",
    "curl": "curl",
    "ethtool": "ethtool",
    "nft": "nftables",
    "sysctl": "procps",
}


class RecordError(RuntimeError):
    """A step of the recording failed; the message says which."""


def ns_cmd(ns: str | None, args: Sequence[str]) -> list[str]:
    """The command line that runs `args` inside network namespace `ns` (or here when None)."""
    return ["ip", "netns", "exec", ns, *args] if ns else list(args)


def run(
    args: Sequence[str], ns: str | None = None, check: bool = True, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, raising RecordError with its output when `check` and it fails."""
    cmd = ns_cmd(ns, args)
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RecordError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def self_cmd(*args: str) -> list[str]:
    """The command line that runs one of this script's helpers with the same Python."""
    return [sys.executable, str(Path(__file__).resolve()), "helper", *args]


# ---------------------------------------------------------------- BPF

BPF_PROG_TYPE_SCHED_CLS = 3
BPF_PROG_LOAD = 5
BPF_OBJ_PIN = 6
BPF_SYSCALL = {"x86_64": 321, "aarch64": 280}

MOV_IMM, CALL, EXIT = 0xB7, 0x85, 0x95
FN_SKB_VLAN_PUSH, FN_SKB_VLAN_POP = 18, 19


@dataclass(frozen=True)
class Insn:
    """One eBPF instruction; a string `off` names the label to jump to."""

    code: int
    dst: int = 0
    src: int = 0
    off: int | str = 0
    imm: int = 0


def assemble(program: Sequence[Insn | str]) -> bytes:
    """Encode instructions, resolving label names (the strings in `program`) to jump offsets."""
    labels: dict[str, int] = {}
    insns: list[Insn] = []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(insns)
        else:
            insns.append(item)
    code = b""
    for pc, ins in enumerate(insns):
        off = labels[ins.off] - pc - 1 if isinstance(ins.off, str) else ins.off
        code += struct.pack("<BBhi", ins.code, (ins.src << 4) | ins.dst, off, ins.imm)
    return code


def le32(raw: bytes) -> int:
    """Four wire bytes as the signed immediate that stores them unchanged on a little-endian stack."""
    return struct.unpack("<i", raw)[0]


def vlan_push_program(vlan_id: int) -> bytes:
    """tc program: tag every frame with an 802.1Q header carrying `vlan_id`."""
    return assemble(
        [
            Insn(MOV_IMM, 2, imm=le32(b"\x81\x00\x00\x00")),
            Insn(MOV_IMM, 3, imm=vlan_id),
            Insn(CALL, imm=FN_SKB_VLAN_PUSH),
            Insn(MOV_IMM, 0, imm=0),
            Insn(EXIT),
        ]
    )


def vlan_pop_program() -> bytes:
    """tc program: remove the 802.1Q tag from every received frame."""
    return assemble(
        [
            Insn(CALL, imm=FN_SKB_VLAN_POP),
            Insn(MOV_IMM, 0, imm=0),
            Insn(EXIT),
        ]
    )


def bpf(cmd: int, attr: bytes) -> int:
    """The bpf(2) system call; raises OSError on failure."""
    nr = BPF_SYSCALL.get(platform.machine())
    if nr is None:
        raise RecordError(f"the BPF fallback knows no bpf(2) number for {platform.machine()}")
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(attr, 128)
    ret = libc.syscall(nr, cmd, buf, len(buf))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def pin_program(prog_type: int, code: bytes, path: Path) -> None:
    """Load a BPF program into the kernel and pin it at `path` (on a bpffs mount)."""
    insns = ctypes.create_string_buffer(code, len(code))
    license_ = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 16)
    attr = struct.pack(
        "<IIQQIIQII16sII",
        prog_type,
        len(code) // 8,
        ctypes.addressof(insns),
        ctypes.addressof(license_),
        1,
        len(log),
        ctypes.addressof(log),
        0,
        0,
        path.name[:15].encode(),
        0,
        0,
    )
    try:
        fd = bpf(BPF_PROG_LOAD, attr)
    except OSError as exc:
        raise RecordError(f"BPF program {path.name} rejected: {exc}\n{log.value.decode(errors='replace')}") from exc
    try:
        target = ctypes.create_string_buffer(str(path).encode())
        bpf(BPF_OBJ_PIN, struct.pack("<QII", ctypes.addressof(target), fd, 0))
    finally:
        os.close(fd)


# ---------------------------------------------------------------- namespaces and processes


@dataclass
class Lab:
    """Two namespaces joined by a veth pair, the processes started in them, and a scratch directory."""

    workdir: Path
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def sh(
        self, ns: str, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside namespace `ns`."""
        return run(args, ns=ns, check=check, input=input, timeout=timeout)

    def start(self, ns: str, name: str, *args: str, stderr_pipe: bool = False) -> subprocess.Popen[bytes]:
        """Start a background process in `ns`, logging to the workdir; it is stopped with the lab."""
        with open(self.workdir / f"{name}.log", "wb") as log:  # the child keeps its own copy
            proc = subprocess.Popen(
                ns_cmd(ns, args), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.PIPE if stderr_pipe else log
            )
        self.procs.append((name, proc))
        return proc

    def wait_listening(self, ns: str, proto: str, port: int, timeout: float = 10) -> None:
        """Wait until a socket in `ns` listens on `port` (proto 't' or 'u'), without sending traffic."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.sh(ns, "ss", f"-Hln{proto}").stdout
            if any(line.split()[3].endswith(f":{port}") for line in out.splitlines() if len(line.split()) > 3):
                return
            self.check_alive()
            time.sleep(0.05)
        raise RecordError(f"nothing listens on {proto}/{port} in {ns} after {timeout}s")

    def check_alive(self) -> None:
        """Raise if a background process has already died."""
        for name, proc in self.procs:
            if proc.poll() not in (None, 0):
                log = (self.workdir / f"{name}.log").read_text(errors="replace")[-800:]
                raise RecordError(f"{name} exited {proc.returncode}: {log}")

    def stop_all(self) -> None:
        """Stop every process this lab started, by pid, newest first."""
        for _name, proc in reversed(self.procs):
            stop_process(proc)
        self.procs.clear()


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal one process by pid and reap it, killing it when it does not exit in time."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stderr:
        proc.stderr.close()


def delete_namespace(ns: str) -> None:
    """Kill what still runs in `ns` (by the pids the kernel lists for it) and delete it with its links."""
    pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    run(["ip", "netns", "del", ns], check=False)


def leftover_namespaces() -> list[str]:
    """Namespaces with this script's prefix, left by an earlier run that was killed."""
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(f"{PREFIX}-")]


def namespace_sysctls(the_lab: Lab, ns: str) -> None:
    """Kernel settings for one namespace: the TCP options on, IPv6 on, no reverse-path or ICMP rate limits."""
    the_lab.sh(
        ns,
        "sysctl",
        "-qw",
        "net.ipv4.tcp_timestamps=1",
        "net.ipv4.tcp_sack=1",
        "net.ipv4.tcp_window_scaling=1",
        "net.ipv6.conf.all.disable_ipv6=0",
        "net.ipv6.conf.default.disable_ipv6=0",
        "net.ipv6.conf.all.accept_ra=0",
        "net.ipv6.conf.default.accept_ra=0",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
        "net.ipv4.icmp_ratelimit=0",
        "net.ipv6.icmp.ratelimit=0",
    )


@contextlib.contextmanager
def lab(workdir: Path, ipv6: bool = True) -> Iterator[Lab]:
    """Create NS_A and NS_B joined by veth IF_A/IF_B with fixed MACs and addresses; remove them on exit."""
    the_lab = Lab(workdir)
    try:
        for ns in (NS_A, NS_B):
            run(["ip", "netns", "add", ns])
            the_lab.sh(ns, "ip", "link", "set", "lo", "up")
            namespace_sysctls(the_lab, ns)
        run(
            [
                "ip",
                "link",
                "add",
                IF_A,
                "address",
                MAC_A,
                "netns",
                NS_A,
                "type",
                "veth",
                "peer",
                "name",
                IF_B,
                "address",
                MAC_B,
                "netns",
                NS_B,
            ]
        )
        for ns, dev, v4, v6 in ((NS_A, IF_A, V4_A, V6_A), (NS_B, IF_B, V4_B, V6_B)):
            the_lab.sh(
                ns,
                "ethtool",
                "-K",
                dev,
                "tx",
                "off",
                "tso",
                "off",
                "gso",
                "off",
                "gro",
                "off",
                "rxvlan",
                "off",
                "txvlan",
                "off",
                check=False,
            )
            if not ipv6:
                the_lab.sh(ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
            the_lab.sh(ns, "ip", "addr", "add", f"{v4}/24", "dev", dev)
            if ipv6:
                the_lab.sh(ns, "ip", "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            the_lab.sh(ns, "ip", "link", "set", dev, "up")
        if ipv6:
            wait_ipv6_settled(the_lab)
        yield the_lab
    finally:
        the_lab.stop_all()
        for ns in (NS_A, NS_B):
            delete_namespace(ns)


def wait_ipv6_settled(the_lab: Lab, timeout: float = 10) -> None:
    """Wait until no address in either namespace is tentative, so neighbour discovery is answered at once."""
    deadline = time.monotonic() + timeout
    while any(the_lab.sh(ns, "ip", "-6", "addr", "show", "tentative").stdout.strip() for ns in (NS_A, NS_B)):
        if time.monotonic() > deadline:
            raise RecordError(f"IPv6 addresses still tentative after {timeout}s")
        time.sleep(0.1)


def kernel_has(the_lab: Lab, *link_args: str) -> bool:
    """Whether `ip link add probe0 ...` succeeds in NS_A (the probe link is removed again)."""
    ok = the_lab.sh(NS_A, "ip", "link", "add", *link_args, check=False).returncode == 0
    if ok:
        the_lab.sh(NS_A, "ip", "link", "del", "probe0", check=False)
    return ok


@contextlib.contextmanager
def bpffs(workdir: Path) -> Iterator[Path]:
    """A bpffs mount in the workdir for pinned programs; unmounted on exit."""
    path = workdir / "bpffs"
    path.mkdir()
    run(["mount", "-t", "bpf", "bpf", str(path)])
    try:
        yield path
    finally:
        run(["umount", str(path)], check=False)


# ---------------------------------------------------------------- capturing


@contextlib.contextmanager
def capture(
    the_lab: Lab, out: Path, ns: str, iface: str, bpf_filter: str | None, count: int | None = None
) -> Iterator[None]:
    """Run tcpdump (full packets, classic pcap) around the body; stop it by pid afterwards."""
    args = ["tcpdump", "-i", iface, "-s", "0", "-w", str(out), "-U", "--immediate-mode", "-Z", "root", "-n"]
    if count:
        args += ["-c", str(count)]
    if bpf_filter:
        args.append(bpf_filter)
    proc = the_lab.start(ns, f"tcpdump-{out.stem}", *args, stderr_pipe=True)
    said = wait_for_line(proc, "listening on", timeout=10)
    if "listening on" not in said:
        stop_process(proc)
        raise RecordError(f"tcpdump on {ns}/{iface} did not start: {said.strip() or 'no output'}")
    yield
    time.sleep(0.5)
    stop_process(proc, signal.SIGINT)


def wait_for_line(proc: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    """Read proc's stderr until it contains `marker`, closes, or `timeout` passes; return what was read."""
    assert proc.stderr is not None
    fd, said, deadline = proc.stderr.fileno(), b"", time.monotonic() + timeout
    while marker.encode() not in said:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            break
        said += chunk
    return said.decode(errors="replace")


def http_server(the_lab: Lab, ns: str, address: str, docroot: Path) -> None:
    """Start the HTTP/1.1 server helper on address:HTTP_PORT and wait until it listens."""
    the_lab.start(ns, f"httpd-{address}", *self_cmd("httpd", address, str(HTTP_PORT), str(docroot)))
    the_lab.wait_listening(ns, "t", HTTP_PORT)


def curl(the_lab: Lab, ns: str, *args: str, check: bool = True) -> None:
    """Run curl quietly with a short timeout."""
    the_lab.sh(ns, "curl", "-sS", "--max-time", "20", "-o", "/dev/null", *args, check=check)


def url(address: str, path: str, port: int = HTTP_PORT) -> str:
    """An http URL for an IPv4 or IPv6 address."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/{path}"


def make_docroot(workdir: Path) -> Path:
    """The files the HTTP servers offer: a small page, data.bin (DATA_SIZE) and big.bin (BIG_SIZE)."""
    root = workdir / "www"
    root.mkdir(exist_ok=True)
    (root / "index.html").write_text(
        "<!doctype html>\n<html><head><title>scapyrpc corpus</title></head>\n"
        "<body><p>Recorded by tests/captures/record.py.</p></body></html>\n"
    )
    (root / "data.bin").write_bytes(pseudo_random(DATA_SIZE))
    (root / "big.bin").write_bytes(pseudo_random(BIG_SIZE))
    return root


def pseudo_random(size: int) -> bytes:
    """`size` bytes that look random (so nothing compresses them) and are the same every run."""
    blocks = -(-size // hashlib.sha256().digest_size)
    return b"".join(hashlib.sha256(n.to_bytes(8, "big")).digest() for n in range(blocks))[:size]


# ---------------------------------------------------------------- the captures


def record_tcp_http_v4(workdir: Path, out: Path) -> None:
    """HTTP/1.1 GET + POST on one connection, a connection reset with SO_LINGER 0, and a refused connect."""
    with lab(workdir, ipv6=False) as the_lab:
        http_server(the_lab, NS_B, V4_B, make_docroot(workdir))
        with capture(the_lab, out, NS_A, IF_A, "not ip6"):
            curl(
                the_lab,
                NS_A,
                url(V4_B, "index.html"),
                "--next",
                "-sS",
                "-o",
                "/dev/null",
                "-H",
                "Content-Type: application/x-www-form-urlencoded",
                "--data",
                "name=scapyrpc&kind=corpus&format=pcap",
                url(V4_B, "submit"),
            )
            the_lab.sh(NS_A, *self_cmd("reset", V4_B, str(HTTP_PORT)))
            curl(the_lab, NS_A, url(V4_B, "", port=HTTP_PORT + 1), check=False)


def record_tcp_retransmit(workdir: Path, out: Path) -> None:
    """A download of data.bin where the client's nftables rule drops one full-size segment in LOSS_EVERY."""
    with lab(workdir, ipv6=False) as the_lab:
        http_server(the_lab, NS_B, V4_B, make_docroot(workdir))
        the_lab.sh(
            NS_A,
            "nft",
            "-f",
            "-",
            input=(
                "table inet corpus_loss {\n"
                "  chain prerouting {\n"
                "    type filter hook prerouting priority -300; policy accept;\n"
                f"    tcp sport {HTTP_PORT} meta length > 1000 numgen inc mod {LOSS_EVERY} == 0 drop\n"
                "  }\n"
                "}\n"
            ),
        )
        with capture(the_lab, out, NS_A, IF_A, f"tcp port {HTTP_PORT}"):
            curl(the_lab, NS_A, url(V4_B, "data.bin"))


def record_http_v6(workdir: Path, out: Path) -> None:
    """HTTP over IPv6, starting from empty neighbour caches so the capture opens with NS/NA."""
    with lab(workdir) as the_lab:
        http_server(the_lab, NS_B, V6_B, make_docroot(workdir))
        with capture(the_lab, out, NS_A, IF_A, "ip6 net fd00:1::/64"):
            curl(the_lab, NS_A, "-g", url(V6_B, "index.html"))
            curl(the_lab, NS_A, "-g", "--data", "ipv6=yes", url(V6_B, "submit"))


def record_tls(workdir: Path, out: Path) -> None:
    """openssl s_server (echoing reversed lines) and one s_client each for TLS 1.2 and TLS 1.3."""
    with lab(workdir, ipv6=False) as the_lab:
        key, cert = workdir / "key.pem", workdir / "cert.pem"
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "2",
                "-subj",
                "/CN=tls.corp.test",
                "-addext",
                "subjectAltName=DNS:tls.corp.test",
            ]
        )
        the_lab.start(
            NS_B,
            "s_server",
            "openssl",
            "s_server",
            "-accept",
            str(TLS_PORT),
            "-cert",
            str(cert),
            "-key",
            str(key),
            "-naccept",
            "2",
            "-rev",
        )
        the_lab.wait_listening(NS_B, "t", TLS_PORT)
        with capture(the_lab, out, NS_A, IF_A, "not ip6"):
            for version in ("-tls1_2", "-tls1_3"):
                tls_client(the_lab, version, f"hello over TLS ({version[1:]})\n")


def tls_client(the_lab: Lab, version: str, line: str) -> None:
    """One s_client session: handshake, send a line, read the echo, close with close_notify."""
    client = subprocess.Popen(
        ns_cmd(
            NS_A, ["openssl", "s_client", "-connect", f"{V4_B}:{TLS_PORT}", "-servername", "tls.corp.test", version]
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert client.stdin is not None
        time.sleep(0.5)
        client.stdin.write(line.encode())
        client.stdin.flush()
        time.sleep(0.5)
        client.stdin.close()
        client.wait(timeout=10)
    finally:
        stop_process(client)


DNS_RECORDS = (
    "--host-record=www.corp.test,192.0.2.80,2001:db8::80",
    "--host-record=mail.corp.test,192.0.2.25",
    "--host-record=pool.corp.test,192.0.2.81",
    "--host-record=pool.corp.test,192.0.2.82",
    "--cname=web.corp.test,www.corp.test",
    "--mx-host=corp.test,mail.corp.test,10",
    "--txt-record=corp.test,v=spf1 mx -all",
    "--txt-record=info.corp.test,recorded by scapyrpc,for the pcap corpus",
)

DIG_QUERIES = (
    ("www.corp.test", "A"),
    ("www.corp.test", "AAAA"),
    ("web.corp.test", "A"),
    ("pool.corp.test", "A"),
    ("corp.test", "MX"),
    ("corp.test", "TXT"),
    ("info.corp.test", "TXT"),
    ("nope.corp.test", "A"),
)


def record_dns(workdir: Path, out: Path) -> None:
    """dig against dnsmasq answering from local records: several types, an NXDOMAIN, a PTR, one over TCP."""
    with lab(workdir, ipv6=False) as the_lab:
        the_lab.start(
            NS_B,
            "dnsmasq",
            "dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            f"--listen-address={V4_B}",
            "--pid-file=",
            "--user=root",
            "--group=root",
            "--local=/corp.test/",
            "--local=/2.0.192.in-addr.arpa/",
            *DNS_RECORDS,
        )
        the_lab.wait_listening(NS_B, "u", 53)
        the_lab.wait_listening(NS_B, "t", 53)
        dig = ["dig", f"@{V4_B}", "+tries=1", "+time=3"]
        with capture(the_lab, out, NS_A, IF_A, "not ip6"):
            for name, rtype in DIG_QUERIES:
                the_lab.sh(NS_A, *dig, name, rtype)
            the_lab.sh(NS_A, *dig, "-x", "192.0.2.80")
            the_lab.sh(NS_A, *dig, "+tcp", "www.corp.test", "A")


def record_icmp(workdir: Path, out: Path) -> None:
    """ping and ping -6, and a UDP datagram to a closed port in each family (kernel port unreachable)."""
    with lab(workdir) as the_lab, capture(the_lab, out, NS_A, IF_A, V4_AND_ULA):
        the_lab.sh(NS_A, "ping", "-c", "3", "-i", "0.2", V4_B)
        the_lab.sh(NS_A, *self_cmd("udp-send", V4_B, str(CLOSED_PORT), "--no-reply", "5"))
        the_lab.sh(NS_A, "ping", "-6", "-c", "3", "-i", "0.2", V6_B)
        the_lab.sh(NS_A, *self_cmd("udp-send", V6_B, str(CLOSED_PORT), "--no-reply", "5"))


def record_fragments(workdir: Path, out: Path) -> None:
    """Pings of FRAGMENTED_PING bytes across the veth's Ethernet MTU, fragmented by the IPv4 and IPv6 stacks."""
    with lab(workdir) as the_lab, capture(the_lab, out, NS_A, IF_A, V4_AND_ULA):
        the_lab.sh(NS_A, "ping", "-c", "2", "-i", "0.2", "-s", str(FRAGMENTED_PING), "-M", "dont", V4_B)
        the_lab.sh(NS_A, "ping", "-6", "-c", "2", "-i", "0.2", "-s", str(FRAGMENTED_PING), V6_B)


def record_large(workdir: Path, out: Path) -> None:
    """A download of big.bin on a namespace's loopback, whose MTU lets TCP segments reach the IP maximum."""
    with lab(workdir, ipv6=False) as the_lab:
        the_lab.sh(
            NS_A, "sysctl", "-qw", "net.ipv4.tcp_wmem=4096 1048576 4194304", "net.ipv4.tcp_rmem=4096 1048576 6291456"
        )
        http_server(the_lab, NS_A, "127.0.0.1", make_docroot(workdir))
        with capture(the_lab, out, NS_A, "lo", f"tcp port {HTTP_PORT}", count=40):
            curl(the_lab, NS_A, url("127.0.0.1", "big.bin"))


def record_vlan(workdir: Path, out: Path) -> None:
    """ARP, ping and an HTTP GET on VLAN_ID, captured on the parent veth so frames carry the tag."""
    with lab(workdir, ipv6=False) as the_lab, bpffs(workdir) as fs:
        if kernel_has(the_lab, "link", IF_A, "name", "probe0", "type", "vlan", "id", str(VLAN_ID)):
            vlan_native(the_lab)
        else:
            vlan_bpf(the_lab, fs)
        http_server(the_lab, NS_B, VLAN_B, make_docroot(workdir))
        with capture(the_lab, out, NS_A, IF_A, None):
            the_lab.sh(NS_A, "ping", "-c", "3", "-i", "0.2", VLAN_B)
            curl(the_lab, NS_A, url(VLAN_B, "index.html"))


def vlan_native(the_lab: Lab) -> None:
    """VLAN sub-interfaces IF.VLAN_ID on both veth ends."""
    for ns, dev, address in ((NS_A, IF_A, VLAN_A), (NS_B, IF_B, VLAN_B)):
        sub = f"{dev}.{VLAN_ID}"
        the_lab.sh(ns, "ip", "link", "add", "link", dev, "name", sub, "type", "vlan", "id", str(VLAN_ID))
        the_lab.sh(ns, "sysctl", "-qw", f"net.ipv6.conf.{sub}.disable_ipv6=1")
        the_lab.sh(ns, "ip", "addr", "add", f"{address}/24", "dev", sub)
        the_lab.sh(ns, "ip", "link", "set", sub, "up")


def vlan_bpf(the_lab: Lab, fs: Path) -> None:
    """No 802.1Q module: both veth ends tag on egress and untag on ingress with tc BPF programs."""
    pin_program(BPF_PROG_TYPE_SCHED_CLS, vlan_push_program(VLAN_ID), fs / "vlan_push")
    pin_program(BPF_PROG_TYPE_SCHED_CLS, vlan_pop_program(), fs / "vlan_pop")
    for ns, dev, address in ((NS_A, IF_A, VLAN_A), (NS_B, IF_B, VLAN_B)):
        the_lab.sh(ns, "tc", "qdisc", "add", "dev", dev, "clsact")
        the_lab.sh(ns, "tc", "filter", "add", "dev", dev, "egress", "bpf", "da", "pinned", str(fs / "vlan_push"))
        the_lab.sh(ns, "tc", "filter", "add", "dev", dev, "ingress", "bpf", "da", "pinned", str(fs / "vlan_pop"))
        the_lab.sh(ns, "ip", "addr", "flush", "dev", dev)
        the_lab.sh(ns, "ip", "addr", "add", f"{address}/24", "dev", dev)


def record_tunnels(workdir: Path, out: Path) -> None:
    """Pings through a VXLAN, and through a GRE tunnel where the kernel has GRE, captured on the
    underlay veth. (Without the kernel's GRE driver there is no GRE: its header is never made here.)"""
    with lab(workdir, ipv6=False) as the_lab:
        gre = kernel_has(the_lab, "probe0", "type", "gre", "local", V4_A, "remote", V4_B)
        if gre:
            gre_native(the_lab)
        else:
            print("  this kernel has no GRE driver: tunnels.pcap holds VXLAN only", flush=True)
        vxlan(the_lab)
        with capture(the_lab, out, NS_A, IF_A, "not ip6"):
            if gre:
                the_lab.sh(NS_A, "ping", "-c", "3", "-i", "0.2", GRE_B)
            the_lab.sh(NS_A, "ping", "-c", "3", "-i", "0.2", VXLAN_B)


def gre_native(the_lab: Lab) -> None:
    """GRE devices gre1 on both sides with the overlay addresses."""
    for ns, local, remote, address, peer in ((NS_A, V4_A, V4_B, GRE_A, GRE_B), (NS_B, V4_B, V4_A, GRE_B, GRE_A)):
        the_lab.sh(ns, "ip", "link", "add", "gre1", "type", "gre", "local", local, "remote", remote, "ttl", "64")
        the_lab.sh(ns, "sysctl", "-qw", "net.ipv6.conf.gre1.disable_ipv6=1")
        the_lab.sh(ns, "ip", "addr", "add", address, "peer", peer, "dev", "gre1")
        the_lab.sh(ns, "ip", "link", "set", "gre1", "up")


def vxlan(the_lab: Lab) -> None:
    """VXLAN devices (VXLAN_VNI, UDP VXLAN_PORT) over the veth underlay on both sides."""
    for ns, dev, local, remote, address, mac in (
        (NS_A, IF_A, V4_A, V4_B, VXLAN_A, "02:53:43:00:2a:0a"),
        (NS_B, IF_B, V4_B, V4_A, VXLAN_B, "02:53:43:00:2a:0b"),
    ):
        vx = f"vx{VXLAN_VNI}"
        the_lab.sh(
            ns,
            "ip",
            "link",
            "add",
            vx,
            "address",
            mac,
            "type",
            "vxlan",
            "id",
            str(VXLAN_VNI),
            "dstport",
            str(VXLAN_PORT),
            "local",
            local,
            "remote",
            remote,
            "dev",
            dev,
        )
        the_lab.sh(ns, "sysctl", "-qw", f"net.ipv6.conf.{vx}.disable_ipv6=1")
        the_lab.sh(ns, "ip", "addr", "add", f"{address}/24", "dev", vx)
        the_lab.sh(ns, "ip", "link", "set", vx, "up")


def record_udp(workdir: Path, out: Path) -> None:
    """UDP datagrams of several sizes, a zero-length one among them, echoed back, over IPv4 and IPv6."""
    with lab(workdir) as the_lab:
        the_lab.start(NS_B, "udp-echo", *self_cmd("udp-echo", V4_B, V6_B, str(UDP_PORT)))
        the_lab.wait_listening(NS_B, "u", UDP_PORT)
        with capture(the_lab, out, NS_A, IF_A, V4_AND_ULA):
            the_lab.sh(NS_A, *self_cmd("udp-send", V4_B, str(UDP_PORT), "0", "1", "18", "512", "1472"))
            the_lab.sh(NS_A, *self_cmd("udp-send", V6_B, str(UDP_PORT), "0", "64", "1452"))


def record_sll(workdir: Path, out: Path) -> None:
    """ping and ping -6 captured with `tcpdump -i any`, whose link type is Linux cooked capture."""
    with lab(workdir) as the_lab, capture(the_lab, out, NS_A, "any", V4_AND_ULA):
        the_lab.sh(NS_A, "ping", "-c", "3", "-i", "0.2", V4_B)
        the_lab.sh(NS_A, "ping", "-6", "-c", "2", "-i", "0.2", V6_B)


# ---------------------------------------------------------------- helpers run inside the namespaces


def helper_httpd(address: str, port: str, docroot: str) -> None:
    """Serve docroot over HTTP/1.1 (keep-alive); a POST is answered with the size of its body."""
    import functools
    import http.server
    import json

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            reply = json.dumps({"received": len(body)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

    Server((address, int(port)), functools.partial(Handler, directory=docroot)).serve_forever()


def helper_reset(address: str, port: str) -> None:
    """Send a GET, read the first bytes of the reply, then close with SO_LINGER 0: the kernel sends RST."""
    with socket.create_connection((address, int(port)), timeout=5) as sock:
        sock.sendall(f"GET /index.html HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
        sock.recv(4096)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def helper_udp_echo(v4: str, v6: str, port: str) -> None:
    """Echo every datagram on v4:port and [v6]:port back to its sender until stopped."""
    socks = []
    for family, address in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((address, int(port)))
        socks.append(sock)
    while True:
        for sock in select.select(socks, [], [])[0]:
            data, peer = sock.recvfrom(65535)
            sock.sendto(data, peer)


def helper_udp_send(address: str, port: str, *sizes: str) -> None:
    """Send one datagram of each size and wait for its echo (unless --no-reply comes first)."""
    want_reply = sizes[:1] != ("--no-reply",)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        for size in sizes[0 if want_reply else 1 :]:
            sock.sendto(pseudo_random(int(size)), (address, int(port)))
            if want_reply:
                sock.recvfrom(65535)
            else:
                time.sleep(0.2)


HELPERS: dict[str, Callable[..., None]] = {
    "httpd": helper_httpd,
    "reset": helper_reset,
    "udp-echo": helper_udp_echo,
    "udp-send": helper_udp_send,
}


# ---------------------------------------------------------------- reading the results back

LINKTYPE_ETHERNET, LINKTYPE_SLL, LINKTYPE_SLL2 = 1, 113, 276


@dataclass
class Pcap:
    """A classic pcap file: its link type and its packets' captured bytes."""

    linktype: int
    packets: list[bytes]


def read_pcap(path: Path) -> Pcap:
    """Parse a classic pcap file (either byte order, micro- or nanosecond magic)."""
    data = path.read_bytes()
    magics = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
    order = magics.get(data[:4])
    if order is None:
        raise RecordError(f"{path.name} is not a classic pcap file")
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    packets, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack(order + "I", data[pos + 8 : pos + 12])[0]
        packets.append(data[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    return Pcap(linktype, packets)


@dataclass
class Summary:
    """What the self-checks look at in one packet."""

    vlan: bool = False
    ethertype: int = 0
    proto: int = -1
    l4: bytes = b""
    fragment: bool = False
    src: bytes = b""


def decode(linktype: int, frame: bytes) -> Summary:
    """Find the VLAN tag, network protocol and transport bytes of one captured frame."""
    info = Summary()
    if linktype == LINKTYPE_ETHERNET:
        pos, info.ethertype = 14, int.from_bytes(frame[12:14], "big")
        while info.ethertype in (0x8100, 0x88A8) and len(frame) >= pos + 4:
            info.vlan, info.ethertype, pos = True, int.from_bytes(frame[pos + 2 : pos + 4], "big"), pos + 4
    elif linktype == LINKTYPE_SLL:
        pos, info.ethertype = 16, int.from_bytes(frame[14:16], "big")
    elif linktype == LINKTYPE_SLL2:
        pos, info.ethertype = 20, int.from_bytes(frame[0:2], "big")
    else:
        return info
    l3 = frame[pos:]
    if info.ethertype == 0x0800 and len(l3) >= 20:
        ihl = (l3[0] & 0x0F) * 4
        info.proto, info.l4, info.src = l3[9], l3[ihl:], l3[12:16]
        info.fragment = bool(int.from_bytes(l3[6:8], "big") & 0x3FFF)
    elif info.ethertype == 0x86DD and len(l3) >= 40:
        nh, pos6, info.src = l3[6], 40, l3[8:24]
        while nh in (0, 43, 44, 60) and len(l3) >= pos6 + 8:
            info.fragment |= nh == 44
            nh, pos6 = l3[pos6], pos6 + (8 if nh == 44 else (l3[pos6 + 1] + 1) * 8)
        info.proto, info.l4 = nh, l3[pos6:]
    return info


def tcp_option_kinds(l4: bytes) -> set[int]:
    """The option kinds in a TCP header."""
    end, pos, kinds = (l4[12] >> 4) * 4, 20, set()
    while pos < min(end, len(l4)):
        kind = l4[pos]
        if kind == 0:
            break
        kinds.add(kind)
        pos += 1 if kind == 1 else max(l4[pos + 1], 2) if pos + 1 < len(l4) else 1
    return kinds


def dns_answer_compressed(payload: bytes) -> bool:
    """Whether a DNS response's first answer names its owner with a compression pointer."""
    if len(payload) < 12 or not int.from_bytes(payload[6:8], "big"):
        return False
    pos = 12
    while pos < len(payload) and payload[pos] != 0:
        pos += payload[pos] + 1
    pos += 5
    return pos < len(payload) and payload[pos] & 0xC0 == 0xC0


def tcp(pkts: list[Summary]) -> list[Summary]:
    """The TCP packets."""
    return [p for p in pkts if p.proto == socket.IPPROTO_TCP and len(p.l4) >= 20]


def ports(pkt: Summary) -> tuple[int, int]:
    """The source and destination port of a TCP or UDP packet."""
    return int.from_bytes(pkt.l4[0:2], "big"), int.from_bytes(pkt.l4[2:4], "big")


def udp_port(pkts: list[Summary], port: int) -> list[Summary]:
    """The UDP packets to or from `port`."""
    return [p for p in pkts if p.proto == socket.IPPROTO_UDP and len(p.l4) >= 8 and port in ports(p)]


def retransmitted(pkts: list[Summary]) -> bool:
    """Whether some TCP data segment (same sender, sequence number and length) appears twice."""
    seen: set[tuple[bytes, bytes, int]] = set()
    for p in tcp(pkts):
        key = (p.src, p.l4[4:8], len(p.l4) - (p.l4[12] >> 4) * 4)
        if key[2] > 0 and key in seen:
            return True
        seen.add(key)
    return False


def icmp_types(pkts: list[Summary], proto: int) -> set[int]:
    """The message types present for ICMP or ICMPv6 (given as the IP protocol number)."""
    return {p.l4[0] for p in pkts if p.proto == proto and p.l4}


def tcp_payload(s: Summary) -> bytes:
    """The data bytes of a TCP segment."""
    return s.l4[(s.l4[12] >> 4) * 4 :]


def tcp_options_seen(pkts: list[Summary]) -> set[int]:
    """Every TCP option kind used in the capture."""
    return set().union(*(tcp_option_kinds(s.l4) for s in tcp(pkts)))


def dns_responses(pkts: list[Summary]) -> list[bytes]:
    """The DNS messages sent over UDP with the response bit set."""
    return [s.l4[8:] for s in udp_port(pkts, 53) if len(s.l4) >= 20 and s.l4[10] & 0x80]


CHECKS: dict[str, Callable[[Pcap, list[Summary]], list[tuple[str, bool]]]] = {
    "tcp_http_v4.pcap": lambda cap, p: [
        ("timestamps, SACK-permitted and window scale options", {3, 4, 8} <= tcp_options_seen(p)),
        ("a FIN", any(s.l4[13] & 0x01 for s in tcp(p))),
        ("an RST", any(s.l4[13] & 0x04 for s in tcp(p))),
        ("a POST", any(tcp_payload(s).startswith(b"POST ") for s in tcp(p))),
    ],
    "tcp_retransmit.pcap": lambda cap, p: [
        ("SACK blocks", 5 in tcp_options_seen(p)),
        ("a retransmitted segment", retransmitted(p)),
    ],
    "http_v6.pcap": lambda cap, p: [
        ("neighbour solicitation and advertisement", {135, 136} <= icmp_types(p, 58)),
        ("TCP over IPv6", any(s.ethertype == 0x86DD for s in tcp(p))),
    ],
    "tls.pcap": lambda cap, p: [
        ("two ClientHellos", sum(tcp_payload(s)[:1] + tcp_payload(s)[5:6] == b"\x16\x01" for s in tcp(p)) == 2),
        ("application data records", any(tcp_payload(s)[:1] == b"\x17" for s in tcp(p))),
    ],
    "dns.pcap": lambda cap, p: [
        ("compressed names in answers", any(dns_answer_compressed(m) for m in dns_responses(p))),
        ("an NXDOMAIN", any(m[3] & 0x0F == 3 for m in dns_responses(p))),
        ("DNS over TCP", any(53 in ports(s) for s in tcp(p))),
    ],
    "icmp.pcap": lambda cap, p: [
        ("ICMP echo and port unreachable", {0, 3, 8} <= icmp_types(p, 1)),
        ("ICMPv6 echo and port unreachable", {1, 128, 129} <= icmp_types(p, 58)),
    ],
    "fragments.pcap": lambda cap, p: [
        ("IPv4 fragments", any(s.fragment and s.ethertype == 0x0800 for s in p)),
        ("IPv6 fragments", any(s.fragment and s.ethertype == 0x86DD for s in p)),
    ],
    "large.pcap": lambda cap, p: [
        ("at least 3 packets over 48000 bytes", sum(len(pkt) > 48000 for pkt in cap.packets) >= 3),
    ],
    "vlan.pcap": lambda cap, p: [
        ("802.1Q tags", any(s.vlan for s in p)),
    ],
    "tunnels.pcap": lambda cap, p: [
        ("VXLAN", bool(udp_port(p, VXLAN_PORT))),
    ],
    "udp.pcap": lambda cap, p: [
        ("a zero-length datagram", any(s.proto == socket.IPPROTO_UDP and len(s.l4) == 8 for s in p)),
        ("UDP over IPv6", any(s.proto == socket.IPPROTO_UDP and s.ethertype == 0x86DD for s in p)),
    ],
    "sll.pcap": lambda cap, p: [
        ("a Linux cooked link type", cap.linktype in (LINKTYPE_SLL, LINKTYPE_SLL2)),
    ],
}

RECORDERS: dict[str, Callable[[Path, Path], None]] = {
    "tcp_http_v4.pcap": record_tcp_http_v4,
    "tcp_retransmit.pcap": record_tcp_retransmit,
    "http_v6.pcap": record_http_v6,
    "tls.pcap": record_tls,
    "dns.pcap": record_dns,
    "icmp.pcap": record_icmp,
    "fragments.pcap": record_fragments,
    "large.pcap": record_large,
    "vlan.pcap": record_vlan,
    "tunnels.pcap": record_tunnels,
    "udp.pcap": record_udp,
    "sll.pcap": record_sll,
}


def check_capture(path: Path) -> list[str]:
    """The failed self-checks of one recorded file (empty when all pass)."""
    cap = read_pcap(path)
    if not cap.packets:
        return ["no packets"]
    summaries = [decode(cap.linktype, pkt) for pkt in cap.packets]
    return [what for what, ok in CHECKS[path.name](cap, summaries) if not ok]


# ---------------------------------------------------------------- main


def preflight() -> None:
    """Exit with a clear message unless we are root and every tool is installed."""
    if os.geteuid() != 0:
        print("record.py: run as root (it creates network namespaces and runs tcpdump)", file=sys.stderr)
        sys.exit(2)
    tools = [tool for tool in TOOLS if shutil.which(tool) is None]
    if tools:
        packages = " ".join(sorted({TOOLS[tool] for tool in tools}))
        print(
            f"record.py: missing {', '.join(tools)}; install them with: apt-get install -y {packages}", file=sys.stderr
        )
        sys.exit(2)


def record_all(workdir: Path, names: Sequence[str]) -> list[Path]:
    """Record every named capture into workdir and self-check it; raise RecordError on a failed check."""
    results = []
    for name in names:
        out, scratch = workdir / "out" / name, workdir / name.removesuffix(".pcap")
        scratch.mkdir()
        print(f"recording {name}", flush=True)
        RECORDERS[name](scratch, out)
        failed = check_capture(out)
        if failed:
            raise RecordError(f"{name}: missing {'; '.join(failed)}")
        results.append(out)
    return results


def print_summary(paths: Sequence[Path]) -> None:
    """One line per file (packets, bytes, link type) and the total size."""
    total = 0
    print(f"\n{'file':<22}{'packets':>8}{'bytes':>10}  link type")
    for path in paths:
        cap, size = read_pcap(path), path.stat().st_size
        total += size
        print(f"{path.name:<22}{len(cap.packets):>8}{size:>10}  {cap.linktype}")
    print(f"{'total':<22}{'':>8}{total:>10}")


def main(argv: Sequence[str]) -> int:
    """Record the corpus (or, with `helper NAME ARGS`, run one helper inside a namespace)."""
    if argv[:1] == ["helper"]:
        HELPERS[argv[1]](*argv[2:])
        return 0
    names = list(argv) or list(RECORDERS)
    unknown = [n for n in names if n not in RECORDERS]
    if unknown:
        sys.exit(f"record.py: unknown capture {', '.join(unknown)}; known: {', '.join(RECORDERS)}")
    preflight()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    for ns in leftover_namespaces():
        delete_namespace(ns)
    workdir = Path(tempfile.mkdtemp(prefix="scapyrpc-corpus-"))
    try:
        (workdir / "out").mkdir()
        paths = record_all(workdir, names)
        for path in paths:
            staged = HERE / f".{path.name}.new"
            shutil.copyfile(path, staged)
            os.replace(staged, HERE / path.name)
        print_summary([HERE / p.name for p in paths])
        return 0
    except (RecordError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"record.py: {exc}", file=sys.stderr)
        return 1
    finally:
        for ns in leftover_namespaces():
            delete_namespace(ns)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
