"""Paste anything (issue 25, item 4), in a real browser: packets of the corpus written out as text by
the tools people copy them from (tcpdump, od, xxd, hexdump run here; Wireshark's Copy as Hex Dump,
Scapy's hexdump, C arrays and Python literals formatted as those programs do), pasted into the paste
box and onto the page, open in a new tab with exactly their bytes and the right first layer. Text that
is no packet is refused in the box with what was expected, and no tab opens. The parser alone
(js/paste.js) reads every packet of five captures in every format, in the browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache

import pytest

from editor_browser import (  # noqa: F401 (fixtures)
    CAPTURES,
    browser,
    editor_url,
    expect,
    menu,
    page,
    set_field,
    tab_state,
)

# ---- packets of the corpus, and the text tools make of them ------------------------------------


@cache
def frames(name: str) -> tuple[bytes, ...]:
    from scapy.utils import RawPcapReader

    reader = RawPcapReader(str(CAPTURES / name))
    try:
        return tuple(bytes(data) for data, _ in reader)
    finally:
        reader.close()


def first(name: str, wanted: Callable[[object], bool]) -> int:
    """The index of the first frame of a capture that Scapy's dissection satisfies `wanted` with."""
    from scapy.layers.l2 import Ether

    for i, frame in enumerate(frames(name)):
        if wanted(Ether(frame)):
            return i
    raise AssertionError(f"no such packet in {name}")


def dns_response_with_pointers(pkt) -> bool:  # noqa: ANN001
    from scapy.layers.dns import DNS
    from scapy.layers.inet import UDP

    return pkt.haslayer(UDP) and pkt.haslayer(DNS) and pkt[DNS].qr == 1 and b"\xc0\x0c" in bytes(pkt[UDP].payload)


def tcp_syn_with_options(pkt) -> bool:  # noqa: ANN001
    from scapy.layers.inet import TCP

    if not pkt.haslayer(TCP) or pkt[TCP].flags != "S":
        return False
    return {"MSS", "SAckOK", "Timestamp", "WScale"} <= {name for name, _ in pkt[TCP].options}


def ipv6_http_request(pkt) -> bool:  # noqa: ANN001
    from scapy.layers.inet import TCP

    return pkt.haslayer("IPv6") and pkt.haslayer(TCP) and bytes(pkt[TCP].payload).startswith(b"GET ")


def vlan_http_request(pkt) -> bool:  # noqa: ANN001
    from scapy.layers.inet import TCP

    return pkt.haslayer("Dot1Q") and pkt.haslayer(TCP) and bytes(pkt[TCP].payload).startswith(b"GET ")


def large_udp(pkt) -> bool:  # noqa: ANN001
    from scapy.layers.inet import IP, UDP

    return pkt.haslayer(IP) and pkt.haslayer(UDP) and len(pkt[UDP].payload) >= 1400


def need(tool: str) -> None:
    if not shutil.which(tool):
        pytest.skip(f"{tool} is not installed")


def tcpdump(name: str, flag: str, *more: str) -> list[str]:
    """`tcpdump -nn FLAG -r capture ...`, one text per packet: its summary lines, then its dump lines."""
    need("tcpdump")
    args = ["tcpdump", "-nn", flag, "-r", str(CAPTURES / name), *more]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    packets: list[list[str]] = []
    dump = True
    for line in out.splitlines():
        indented = line.startswith(("\t", " "))
        if not indented and dump:
            packets.append([])
        dump = indented
        packets[-1].append(line)
    return ["\n".join(p) + "\n" for p in packets]


@cache
def tcpdump_packets(name: str, flag: str) -> tuple[str, ...]:
    packets = tcpdump(name, flag)
    assert len(packets) == len(frames(name)), f"tcpdump printed {len(packets)} packets of {name}"
    return tuple(packets)


def tcpdump_c(name: str, index: int, flag: str) -> str:
    """`tcpdump FLAG -r capture -c N`: what it prints of packet N, the last."""
    return tcpdump(name, flag, "-c", str(index + 1))[-1]


def run(args: list[str], data: bytes) -> str:
    need(args[0])
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


def ascii_column(chunk: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)


def wireshark(frame: bytes, ascii: bool = True) -> str:
    """Wireshark's "Copy Bytes as Hex + ASCII Dump" (and "…as Hex Dump" without the ASCII), as its
    DataPrinter::hexTextDump writes them: "%04x  ", " %02x" per byte, 3 spaces, padding on the last line."""
    text = ""
    for offset in range(0, len(frame), 16):
        chunk = frame[offset : offset + 16]
        text += f"{offset:04x}  " + "".join(f" {b:02x}" for b in chunk)
        if ascii:
            text += "   " + "   " * (16 - len(chunk)) + ascii_column(chunk)
        text += "\n"
    return text


def scapy_hexdump(frame: bytes) -> str:
    from scapy.utils import hexdump

    return hexdump(frame, dump=True)


def c_array(frame: bytes) -> str:
    """Wireshark's packet as a C array (File > Export Packet Dissections > As C Arrays): 8 bytes a
    line, their ASCII in a comment."""
    lines = [f"/* Frame ({len(frame)} bytes) */", f"static const unsigned char pkt1[{len(frame)}] = {{"]
    for offset in range(0, len(frame), 8):
        chunk = frame[offset : offset + 8]
        comma = "," if offset + 8 < len(frame) else ""
        shown = ascii_column(chunk).replace("*", ".").replace("/", ".")
        lines.append(", ".join(f"0x{b:02x}" for b in chunk) + f"{comma} /* {shown} */")
    return "\n".join([*lines, "};"]) + "\n"


FORMATS: dict[str, Callable[[bytes], str]] = {
    "od": lambda f: run(["od", "-Ax", "-tx1"], f),
    "xxd": lambda f: run(["xxd"], f),
    "hexdump -C": lambda f: run(["hexdump", "-C"], f),
    "wireshark": wireshark,
    "wireshark hex only": lambda f: wireshark(f, ascii=False),
    "scapy hexdump": scapy_hexdump,
    "hex": bytes.hex,
    "hex spaced": lambda f: f.hex(" "),
    "hex colons": lambda f: f.hex(":").upper(),
    "xxd -p": lambda f: run(["xxd", "-p"], f),
    "0x bytes": lambda f: ", ".join(f"0x{b:02x}" for b in f),
    "base64": lambda f: base64.b64encode(f).decode(),
    "base64 wrapped": lambda f: base64.encodebytes(f).decode(),
    "c array": c_array,
    "python bytes": repr,
    "python fromhex": lambda f: f'bytes.fromhex("{f.hex(" ", 2)}")',
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ip_part(frame: bytes) -> tuple[bytes, str]:
    """What `tcpdump -x` prints of an Ethernet frame (no link header, 802.1Q tag included) and its layer."""
    at, ethertype = 12, int.from_bytes(frame[12:14], "big")
    while ethertype in (0x8100, 0x88A8):
        at += 4
        ethertype = int.from_bytes(frame[at : at + 2], "big")
    return frame[at + 2 :], {0x0800: "IP", 0x86DD: "IPv6"}.get(ethertype, "Ether")


# ---- acting on the page ------------------------------------------------------------------------


def tab_count(page) -> int:  # noqa: ANN001
    return page.evaluate("() => window.scapyrpcEditor.tabs.value.length")


def paste_in_box(page, text: str) -> None:  # noqa: ANN001
    menu(page, "file-menu", "Paste packet…")
    box = page.locator("#paste-text")
    expect(box).to_be_focused()
    box.fill(text)
    page.click("#paste-open-button")


def paste_on_page(page, text: str, target: str = "document.body") -> None:  # noqa: ANN001
    """A paste event on the page (at `target`, a JavaScript expression), as the browser sends one
    for Ctrl+V: the text in its clipboardData."""
    page.evaluate(
        f"""(text) => {{
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const paste = new ClipboardEvent("paste", {{clipboardData: data, bubbles: true, cancelable: true}});
            {target}.dispatchEvent(paste);
        }}""",
        text,
    )


def expect_packet_tab(page, tabs_before: int, frame: bytes, layer: str) -> None:  # noqa: ANN001
    """A new tab, active, that shows exactly `frame`, dissected from `layer`."""
    expect(page.locator(f"#doc-tab-{tabs_before}")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".hex-status")).to_contain_text(f"{len(frame)} bytes")
    assert tab_count(page) == tabs_before + 1
    assert tab_state(page, "result.value.binary") == b64(frame)
    assert tab_state(page, "doc.value.layers[0].id") == layer
    expect(page.locator("#paste-text")).to_have_count(0)
    expect(page.locator(f"#{layer}-pane")).to_have_count(1)


# ---- pasted real packets -----------------------------------------------------------------------

DNS = ("dns.pcap", dns_response_with_pointers)
SYN = ("tcp_http_v4.pcap", tcp_syn_with_options)
V6 = ("http_v6.pcap", ipv6_http_request)
VLAN = ("vlan.pcap", vlan_http_request)
BIG = ("udp.pcap", large_udp)

# (packet, how it is written, whether only its IP part is pasted)
PASTED = [
    (DNS, "tcpdump -xx", False),
    (DNS, "tcpdump -x", True),
    (DNS, "wireshark", False),
    (SYN, "tcpdump -XX", False),
    (SYN, "xxd", False),
    (SYN, "c array", True),
    (V6, "od", False),
    (V6, "tcpdump -X", True),
    (V6, "scapy hexdump", False),
    (VLAN, "hexdump -C", False),
    (VLAN, "python bytes", False),
    (BIG, "od", False),
    (BIG, "wireshark", False),
    (BIG, "base64 wrapped", True),
    (BIG, "hex spaced", False),
]


def pasted_text(packet: tuple[str, Callable], how: str, ip_only: bool) -> tuple[str, bytes, str]:
    """The text to paste, the bytes it stands for and the first layer they start with."""
    name, wanted = packet
    index = first(name, wanted)
    frame = frames(name)[index]
    body, layer = ip_part(frame) if ip_only else (frame, "Ether")
    if how.startswith("tcpdump"):
        assert ip_only == (how in ("tcpdump -x", "tcpdump -X"))
        return tcpdump_c(name, index, how.split()[1]), body, layer
    return FORMATS[how](body), body, layer


@pytest.mark.parametrize(
    ("packet", "how", "ip_only"),
    PASTED,
    ids=[f"{p[0].split('.')[0]}-{how.replace(' ', '')}{'-ip' if ip else ''}" for p, how, ip in PASTED],
)
def test_a_pasted_packet_opens_in_a_new_tab_with_its_bytes(page, packet, how: str, ip_only: bool) -> None:  # noqa: ANN001
    text, data, layer = pasted_text(packet, how, ip_only)
    before = tab_count(page)
    paste_in_box(page, text)
    expect_packet_tab(page, before, data, layer)
    expect(page.locator("#notice")).to_contain_text(f"Pasted {len(data)} bytes")


def test_tcpdump_output_of_several_packets_opens_the_first(page) -> None:  # noqa: ANN001
    text = "".join(tcpdump_packets("dns.pcap", "-xx")[4:7])
    paste_in_box(page, text)
    expect_packet_tab(page, 1, frames("dns.pcap")[4], "Ether")
    expect(page.locator("#notice")).to_contain_text("the first of 3 packets")


@pytest.mark.parametrize("how", ["wireshark", "tcpdump -x", "python bytes"])
def test_a_paste_onto_the_page_opens_a_new_tab(page, how: str) -> None:  # noqa: ANN001
    text, data, layer = pasted_text(DNS if how != "python bytes" else V6, how, how == "tcpdump -x")
    paste_on_page(page, text)
    expect_packet_tab(page, 1, data, layer)
    paste_on_page(page, text)  # again: one more tab
    expect_packet_tab(page, 2, data, layer)


def test_ctrl_v_on_the_page_pastes_from_the_clipboard(page, editor_url: str) -> None:  # noqa: ANN001
    """A real paste: the text is put on the clipboard, the page has the focus, Ctrl+V."""
    text, data, layer = pasted_text(V6, "od", False)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=editor_url.rstrip("/"))
    page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    page.locator("#breadcrumb").click()
    page.keyboard.press("Control+v")
    expect_packet_tab(page, 1, data, layer)


def test_a_paste_into_a_field_is_the_fields(page) -> None:  # noqa: ANN001
    """Text pasted into an input is typed there; no tab opens."""
    text, _, _ = pasted_text(DNS, "hex", False)
    field = page.locator("#append-protocol-combobox")
    field.focus()
    paste_on_page(page, text, "document.activeElement")
    page.wait_for_timeout(300)
    assert tab_count(page) == 1
    expect(page.locator("#paste-text")).to_have_count(0)


def test_a_pasted_ip_packet_is_edited_as_one(page) -> None:  # noqa: ANN001
    """An IP packet without link header is edited like a capture's packet: the TTL typed changes
    byte 8 of the bytes rebuilt from IP and nothing else (the checksum read is kept, as in a capture)."""
    text, data, _ = pasted_text(DNS, "tcpdump -x", True)
    paste_in_box(page, text)
    expect_packet_tab(page, 1, data, "IP")
    page.click("#IP-toggle")
    new_ttl = 3 if data[8] != 3 else 4
    set_field(page, "#IP-ttl", str(new_ttl))
    expect(page.locator("#hex-8")).to_have_text(f"{new_ttl:02x}")
    built = base64.b64decode(tab_state(page, "result.value.binary"))
    assert built == data[:8] + bytes([new_ttl]) + data[9:]


# ---- refused text ------------------------------------------------------------------------------


def corrupted_dump() -> str:
    """A real tcpdump -xx dump with one byte of its third line made non-hex."""
    text = tcpdump_c("tcp_http_v4.pcap", first("tcp_http_v4.pcap", tcp_syn_with_options), "-xx")
    lines = text.splitlines()
    dump_lines = [i for i, line in enumerate(lines) if line.lstrip().startswith("0x")]
    third = dump_lines[2]
    lines[third] = re.sub(r"(0x\w+:\s+)(\w\w)", r"\1z\2", lines[third], count=1)
    return "\n".join(lines) + "\n"


def dump_missing_a_line() -> str:
    lines = wireshark(frames("dns.pcap")[first(*DNS)]).splitlines()
    return "\n".join(lines[:2] + lines[3:]) + "\n"


BAD = {
    "random words": ("hello world, this is not a packet", 'line 1 is "hello world, this is not a packet"'),
    "odd-length hex": (frames("udp.pcap")[10].hex()[:-1], "an odd number"),
    "corrupted dump line": (corrupted_dump, "line 4"),
    "dump missing a line": (dump_missing_a_line, "holds 16 bytes where its offsets say 32"),
    "too short": ("45 00 00 14", "too short for a packet"),
    "bad python escape": ("b'E\\x00\\x0gT'", "\\x needs two hex digits"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_text_that_is_no_packet_is_refused_in_the_box(page, kind: str) -> None:  # noqa: ANN001
    text, said = BAD[kind]
    text = text() if callable(text) else text
    paste_in_box(page, text)
    error = page.locator("#paste-error")
    expect(error).to_contain_text("expected a hex dump (tcpdump -xx, Wireshark, od -Ax -tx1")
    expect(error).to_contain_text(said)
    expect(page.locator("#paste-text")).to_have_value(text)
    expect(page.locator("#paste-text")).to_have_attribute("aria-invalid", "true")
    assert tab_count(page) == 1
    page.fill("#paste-text", pasted_text(SYN, "xxd", False)[0])  # corrected, it opens
    page.click("#paste-open-button")
    expect_packet_tab(page, 1, frames(SYN[0])[first(*SYN)], "Ether")


def test_text_pasted_on_the_page_that_is_no_packet_opens_the_box_with_the_reason(page) -> None:  # noqa: ANN001
    paste_on_page(page, "GET / HTTP/1.1")
    expect(page.locator("#paste-error")).to_contain_text('line 1 is "GET / HTTP/1.1"')
    expect(page.locator("#paste-text")).to_have_value("GET / HTTP/1.1")
    assert tab_count(page) == 1
    page.click("#paste-cancel-button")
    expect(page.locator("#paste-text")).to_have_count(0)


def test_the_paste_box_is_labelled_and_named_by_the_rule(page) -> None:  # noqa: ANN001
    menu(page, "file-menu", "Paste packet…")
    page.fill("#paste-text", "nothing")
    page.click("#paste-open-button")
    expect(page.locator("#paste-error")).to_be_visible()
    controls = ".dialog input, .dialog textarea, .dialog button"
    unlabelled = page.evaluate(f"""() => [...document.querySelectorAll('{controls}')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    ids = page.evaluate(
        "() => [...document.querySelectorAll('.dialog [id], .dialog')].map(el => el.id).filter(Boolean)"
    )
    assert {"paste-text", "paste-error", "paste-open-button", "paste-cancel-button", "paste-title"} <= set(ids)
    assert [i for i in ids if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i)] == []
    page.keyboard.press("Escape")
    expect(page.locator("#paste-text")).to_have_count(0)


# ---- the parser alone, over hundreds of real packets -------------------------------------------

CORPUS = ("dns.pcap", "tcp_http_v4.pcap", "http_v6.pcap", "udp.pcap", "vlan.pcap")


def corpus_cases() -> list[dict]:
    cases = []
    for name in CORPUS:
        for flag in ("-xx", "-XX", "-x"):
            for i, text in enumerate(tcpdump_packets(name, flag)):
                data, layer = ip_part(frames(name)[i]) if flag == "-x" else (frames(name)[i], "Ether")
                if flag == "-x" and layer == "Ether":
                    continue  # ARP: tcpdump -x prints it without its link header, which is no packet alone
                cases.append({"name": f"{name} #{i} tcpdump {flag}", "text": text, "b64": b64(data), "layer": layer})
        for i, frame in enumerate(frames(name)):
            body, layer = ip_part(frame)
            for how, write in FORMATS.items():
                cases.append({"name": f"{name} #{i} {how}", "text": write(frame), "b64": b64(frame), "layer": "Ether"})
                if layer != "Ether" and how in ("wireshark", "od", "python bytes", "base64"):
                    cases.append(
                        {"name": f"{name} #{i} {how} of IP", "text": write(body), "b64": b64(body), "layer": layer}
                    )
    return cases


def test_the_parser_reads_every_corpus_packet_in_every_format(page) -> None:  # noqa: ANN001
    """js/paste.js on its own, in the browser: every packet of five captures (ARP, DNS, TCP with
    options, HTTP over IPv4, IPv6 and 802.1Q, UDP up to 1514 bytes) in 19 formats, each read back
    to its exact bytes and first layer."""
    for tool in ("tcpdump", "od", "xxd", "hexdump"):
        need(tool)
    cases = corpus_cases()
    packets = sum(len(frames(name)) for name in CORPUS)
    assert packets >= 120 and len(cases) >= packets * 19
    failures = page.evaluate(
        """async (cases) => {
            const { parsePacketText, firstLayer } = await import("/static/js/paste.js");
            const toBase64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
            const failures = [];
            for (const c of cases) {
                const read = parsePacketText(c.text);
                if (read.error) failures.push(`${c.name}: ${read.error}`);
                else if (toBase64(read.bytes) !== c.b64) failures.push(`${c.name}: other bytes (${read.format})`);
                else if (firstLayer(read.bytes) !== c.layer) failures.push(`${c.name}: from ${firstLayer(read.bytes)}`);
            }
            return failures;
        }""",
        cases,
    )
    assert failures == [], f"{len(failures)} of {len(cases)} failed: {failures[:10]}"


def test_the_parser_refuses_broken_dumps_of_corpus_packets(page) -> None:  # noqa: ANN001
    """Each dump of a few dozen packets, broken three ways (a byte made non-hex, a line dropped from
    the middle, a line doubled): every one is refused, never read as other bytes."""
    cases = []
    for name in ("dns.pcap", "http_v6.pcap"):
        for i, frame in enumerate(frames(name)):
            for how in ("od", "xxd", "hexdump -C", "wireshark", "scapy hexdump"):
                lines = FORMATS[how](frame).splitlines()
                data_lines = [k for k, line in enumerate(lines) if len(line.split()) > 2]
                if len(data_lines) < 3:
                    continue
                middle = data_lines[1]
                broken = lines.copy()
                broken[middle] = re.sub(r"^(\s*\S+\s+\S+\s+)\S\S", r"\1zz", broken[middle])
                cases.append({"name": f"{name} #{i} {how} non-hex", "text": "\n".join(broken)})
                cases.append(
                    {"name": f"{name} #{i} {how} dropped", "text": "\n".join(lines[:middle] + lines[middle + 1 :])}
                )
                cases.append(
                    {"name": f"{name} #{i} {how} doubled", "text": "\n".join(lines[: middle + 1] + lines[middle:])}
                )
    assert len(cases) >= 300
    read = page.evaluate(
        """async (cases) => {
            const { parsePacketText } = await import("/static/js/paste.js");
            return cases.filter((c) => !parsePacketText(c.text).error).map((c) => c.name);
        }""",
        cases,
    )
    assert read == []


def test_the_parsers_ambiguity_rules(page) -> None:  # noqa: ANN001
    """The rules written in js/paste.js, each on one input: which format a text is read as (or the
    error it gets), and how many bytes it gives."""
    frame = frames("udp.pcap")[10]
    body, _ = ip_part(frame)
    zeros = b"\x00\x00" + frame[2:]
    assert len(frame.hex()) % 4 == 0 and base64.b64decode(frame.hex())  # base64 could read it too
    checks = {
        frame.hex(): "plain hex",  # all hex digits: hex, never base64
        frame.hex()[:-1]: "an odd number",  # ... and an odd number of them is an error, not base64
        "internationalization": 'line 1 is "internationalization"',  # a word of one case is no base64
        b64(frame): "base64",
        zeros.hex(" ", -2): "plain hex",  # 0000 4300 ...: groups as wide as the first, not offset 0
        "0x" + body.hex(): "plain hex",
        wireshark(frame): "hex dump (Wireshark)",
        scapy_hexdump(frame): "hex dump (Scapy hexdump)",
        "unsigned char pkt[] = {" + ", ".join(str(b) for b in frame) + "};": "C byte array",
        f"pkt = bytearray({frame!r})": "Python bytes literal",
        '"' + "".join(f"\\x{b:02x}" for b in frame) + '"': "quoted string of escapes",
        frame[:13].hex(): "too short for a packet",
    }
    read = page.evaluate(
        """async (texts) => {
            const { parsePacketText } = await import("/static/js/paste.js");
            return texts.map((t) => parsePacketText(t)).map((r) => [r.format || r.error, r.bytes ? r.bytes.length : 0]);
        }""",
        list(checks),
    )
    for (text, want), (got, length) in zip(checks.items(), read):
        assert want in got, (text[:40], got)
        assert length in (0, len(frame), len(body)), (text[:40], got, length)
