"""The Field Engine tab's stream preview and pre-flight warnings, in a real browser: the packets TRex
will send (simulate_vm) listed by the fields that vary, the selected packet's changed bytes marked,
the preview saved as a pcap, and each warning shown under the instruction it is about. Checked
against Scapy's reading of the saved file, on a hand-made packet and on packets of the corpus."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from editor_browser import (  # noqa: F401 (fixtures)
    CAPTURES,
    browser,
    editor_url,
    expect,
    has_class,
    new_tcp_packet,
    open_capture,
    page,
    select_packet,
    set_field,
)


def saved_preview(page, tmp_path: Path) -> list[bytes]:  # noqa: ANN001
    from scapy.utils import RawPcapReader

    with page.expect_download() as download:
        page.click("#preview-save-button")
    assert download.value.suggested_filename.endswith("-preview.pcap")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with RawPcapReader(str(path)) as reader:
        return [frame for frame, _ in reader]


def changed_offsets(page) -> set[int]:  # noqa: ANN001
    ids = page.locator("#preview-bytes .hex-byte.changed").evaluate_all("(cells) => cells.map((c) => c.id)")
    return {int(i.rsplit("-", 1)[1]) for i in ids}


def ipv4_checksum_ok(header: bytes) -> bool:
    total = sum(int.from_bytes(header[i : i + 2], "big") for i in range(0, len(header), 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def test_warnings_under_their_instruction_then_preview_select_and_save(page, tmp_path: Path) -> None:  # noqa: ANN001
    new_tcp_packet(page)
    set_field(page, "#Ether-IP-src", "16.0.0.1")
    page.click("#Ether-IP-src-menu")
    page.click("text=Field engine: Simple variable")
    # the write into IP.src has no checksum fix: said under the write, not under the variable
    expect(page.locator("#fe-1-warnings")).to_contain_text("IPv4 header")
    expect(page.locator("#fe-1-warnings")).to_contain_text("checksum will be wrong")
    expect(page.locator("#fe-0-warnings")).to_have_count(0)
    page.select_option("#append-instruction-select", "STLVmFixIpv4")
    page.click("#append-instruction-button")
    set_field(page, "#fe-2-offset", "IP")
    expect(page.locator("#fe-compiled")).to_contain_text("fix_checksum_ipv4")
    expect(page.locator("#fe-1-warnings")).not_to_contain_text("IPv4 header")  # fixed now
    expect(page.locator("#fe-1-warnings")).to_contain_text("TCP checksum")  # the pseudo-header still is not

    page.click("#preview-button")
    rows = page.locator("#preview-table tbody tr")
    expect(rows).to_have_count(16)
    headers = page.locator("#preview-table thead th").all_inner_texts()
    assert "IP src" in headers and "IP chksum" in headers, headers
    src_column = headers.index("IP src")
    shown = [rows.nth(i).locator("td").nth(src_column).inner_text() for i in range(16)]
    assert shown == [str(ipaddress.IPv4Address("16.0.0.1") + i) for i in range(16)]

    frames = saved_preview(page, tmp_path)
    assert len(frames) == 16
    assert [str(ipaddress.IPv4Address(f[26:30])) for f in frames] == shown
    assert all(ipv4_checksum_ok(f[14:34]) for f in frames)  # STLVmFixIpv4 ran on every packet

    expect(page.locator("#preview-row-0")).to_have_class(has_class("selected"))
    assert changed_offsets(page) == set()  # packet 0 against itself
    page.click("#preview-row-5")
    expect(page.locator("#preview-row-5")).to_have_class(has_class("selected"))
    expect(page.locator("#preview-byte-29")).to_have_class(has_class("changed"))
    assert changed_offsets(page) == {i for i, (a, b) in enumerate(zip(frames[0], frames[5])) if a != b}
    page.locator("#preview-row-7").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#preview-row-7")).to_have_class(has_class("selected"))

    page.click("#view-packet")
    set_field(page, "#Ether-IP-ttl", "9")  # the document changes: the preview says it is stale
    page.click("#view-fe")
    expect(page.locator("#preview-stale")).to_be_visible()
    page.click("#preview-button")
    expect(page.locator("#preview-stale")).to_have_count(0)
    assert saved_preview(page, tmp_path)[0][22] == 9


def test_a_thousand_packet_preview_of_a_real_udp_datagram(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The 1472-byte UDP datagram of the corpus, its source port varied over 1000 packets: every row
    shown, the ports cycling as Scapy reads them from the saved preview, the payload untouched."""
    from scapy.utils import RawPcapReader

    source = CAPTURES / "udp.pcap"
    with RawPcapReader(str(source)) as reader:
        frames = [frame for frame, _ in reader]
    index = max(range(len(frames)), key=lambda i: len(frames[i]) if frames[i][12:14] == b"\x08\x00" else 0)
    original = frames[index]
    open_capture(page, source)
    select_packet(page, index)
    expect(page.locator(".hex-status")).to_contain_text(f"{len(original)} bytes")
    page.click("#Ether-IP-UDP-toggle")
    page.click("#Ether-IP-UDP-sport-menu")
    page.click("text=Field engine: Simple variable")
    expect(page.locator("#fe-compiled")).to_contain_text("write_flow_var")
    page.fill("#preview-count", "1000")
    page.locator("#preview-count").press("Tab")
    expect(page.locator("#preview-table tbody tr")).to_have_count(1000, timeout=30000)
    expect(page.locator("#preview-more-button")).to_have_count(0)  # at the most the editor asks for

    sent = saved_preview(page, tmp_path)
    assert len(sent) == 1000
    ports = [int.from_bytes(f[34:36], "big") for f in sent]
    header = page.locator("#preview-table thead th").all_inner_texts()
    column = header.index("UDP sport")
    assert page.locator("#preview-row-999 td").nth(column).inner_text() == str(ports[999])
    assert len(set(ports)) > 1 and all(0 <= p <= 0xFFFF for p in ports)
    assert all(len(f) == len(original) and f[42:] == original[42:] for f in sent)  # payload as in the file
