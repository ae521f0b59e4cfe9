"""The editor for all-day use, in a real browser: stale computed fields flagged with the value Scapy
computes and fixed in one click, a Field Engine tab that reads well, and the small things (messages,
the hex caret, offsets, Padding, layer names, flags, tab names). Packets come from the corpus
(tests/captures), each opened as a one-packet capture so that it is shown with its file's bytes."""

from __future__ import annotations

import struct
from pathlib import Path

from editor_browser import (  # noqa: F401 (fixtures)
    CAPTURES,
    append_layer,
    browser,
    editor_url,
    expect,
    has_class,
    new_tcp_packet,
    page,
    set_field,
    shown_bytes,
    tab_state,
)


def corpus_frame(name: str, index: int) -> bytes:
    from scapy.utils import RawPcapReader

    with RawPcapReader(str(CAPTURES / name)) as reader:
        for i, (frame, _) in enumerate(reader):
            if i == index:
                return frame
    raise AssertionError(f"{name} has no packet {index}")


def open_frame(page, tmp_path: Path, frame: bytes, name: str = "one.pcap") -> None:  # noqa: ANN001
    """Open `frame` as a one-packet Ethernet capture: it is shown as the file has it."""
    path = tmp_path / name
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    path.write_bytes(header + struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
    page.set_input_files("#open-file-input", str(path))
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text(name)
    assert shown_bytes(page) == frame


def scapy_fixed(frame: bytes, **changes: object) -> bytes:
    """`frame` with `changes` to its IP header and the IP checksum Scapy computes for them."""
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether

    pkt = Ether(frame)
    for key, value in changes.items():
        setattr(pkt[IP], key, value)
    del pkt[IP].chksum
    return bytes(pkt)


# ---- stale computed fields ------------------------------------------------------------------


def test_an_edited_capture_packet_flags_its_stale_checksum_and_fixes_it(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The HTTP POST of tcp_http_v4.pcap (TCP with timestamps): TTL 64 -> 10 keeps the file's IP
    checksum, which is flagged with the one Scapy computes; one click puts it in."""
    frame = corpus_frame("tcp_http_v4.pcap", 5)
    open_frame(page, tmp_path, frame)
    expect(page.locator("#field-legend")).to_contain_text("stale")
    expect(page.locator(".fields .field-value-stale")).to_have_count(0)  # the file's values are right
    expect(page.locator("#recalculate-button")).to_have_text("Recalculate")
    page.click("#Ether-IP-toggle")  # a capture's packet opens with its last layer only expanded
    set_field(page, "#Ether-IP-ttl", "10")
    right = scapy_fixed(frame, ttl=10)
    want = f"0x{int.from_bytes(right[24:26], 'big'):04x}"
    expect(page.locator("#Ether-IP-chksum")).to_have_class(has_class("field-value-stale"))
    expect(page.locator("#Ether-IP-chksum-stale")).to_contain_text(want)
    expect(page.locator("#recalculate-button")).to_have_text("Recalculate (1 stale)")
    assert page.locator(".fields .field-value-stale").count() == 1  # TTL is not in the TCP pseudo-header
    assert shown_bytes(page)[24:26] == frame[24:26]  # kept until fixed
    page.click("#Ether-IP-chksum-fix")
    expect(page.locator(".fields .field-value-stale")).to_have_count(0)
    assert shown_bytes(page) == right


def test_bytes_typed_in_the_hex_view_flag_lengths_and_checksums_and_recalculate_keeps_addresses(
    page, tmp_path: Path
) -> None:  # noqa: ANN001
    """An 18-byte UDP datagram of udp.pcap: a byte of its payload typed in the hex view makes the UDP
    checksum stale; Recalculate fixes it and leaves the capture's addresses as they were."""
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether

    frame = next(f for f in (corpus_frame("udp.pcap", i) for i in range(12)) if len(f) == 60)
    open_frame(page, tmp_path, frame)
    page.click("#hex-50")
    page.locator("#hex-view").press("f")
    page.locator("#hex-view").press("f")
    expect(page.locator("#Ether-IP-UDP-chksum")).to_have_class(has_class("field-value-stale"))
    edited = bytearray(frame)
    edited[50] = 0xFF
    pkt = Ether(bytes(edited))
    del pkt[UDP].chksum
    expected = bytes(pkt)
    want = f"0x{int.from_bytes(expected[40:42], 'big'):04x}"
    expect(page.locator("#Ether-IP-UDP-chksum-stale")).to_contain_text(want)
    page.click("#recalculate-button")
    expect(page.locator(".fields .field-value-stale")).to_have_count(0)
    assert shown_bytes(page) == expected
    assert shown_bytes(page)[:14] == frame[:14] and shown_bytes(page)[26:34] == frame[26:34]  # MACs, IPs


# ---- the Field Engine tab -------------------------------------------------------------------


def test_the_field_engine_tab_reads_well_and_says_errors_at_their_instruction(page) -> None:  # noqa: ANN001
    new_tcp_packet(page)
    page.click("#Ether-IP-TCP-sport-menu")
    page.click("text=Field engine: Simple variable")
    expect(page.locator("#fe-compiled")).to_contain_text("write_flow_var")
    fixup = page.locator("label[for='fe-1-offset_fixup']")
    expect(fixup).to_have_text("Offset fix-up (bytes)")
    expect(fixup).to_have_attribute("title", "offset_fixup")
    expect(page.locator("label[for='fe-1-add_val']")).to_have_text("Add to the value")
    expect(page.locator("#fe-1-is_big option:checked")).to_have_text("Big-endian (network order)")
    values = page.locator(".fe-tab input").evaluate_all("(inputs) => inputs.map((i) => i.value)")
    assert not [v for v in values if v in ("None", "Not defined")], values
    expect(page.locator("#fe-0-value_list")).to_have_attribute("placeholder", "none")
    title = page.locator("#fe-1 h3").inner_text()
    assert title.startswith("Write a variable into the packet") and "STLVmWrFlowVar" in title and "1." not in title

    set_field(page, "#fe-1-pkt_offset", "TCP.sportx")
    expect(page.locator("#fe-1-error")).to_contain_text("TCP has no field 'sportx'")
    expect(page.locator("#fe-1")).to_have_class(has_class("has-error"))
    expect(page.locator("#fe-error")).to_contain_text("Instruction 2 (STLVmWrFlowVar)")
    expect(page.locator("#fe-0-error")).to_have_count(0)
    set_field(page, "#fe-1-pkt_offset", "TCP.sport")
    expect(page.locator("#fe-1-error")).to_have_count(0)
    expect(page.locator("#fe-error")).to_have_count(0)

    page.select_option("#append-instruction-select", "STLVmFlowVar")  # no name yet: required, said there
    page.click("#append-instruction-button")
    expect(page.locator("#fe-2-name")).to_have_value("")
    expect(page.locator("#fe-2-name")).to_have_attribute("placeholder", "required")
    expect(page.locator("#fe-2-error")).to_contain_text("missing required parameter 'name'")


# ---- the small things -----------------------------------------------------------------------


def test_a_message_is_cleared_by_the_next_success(page, tmp_path: Path) -> None:  # noqa: ANN001
    page.fill("#append-protocol-combobox", "NoSuchLayer")
    page.click("#append-protocol-button")
    expect(page.locator("#append-error")).to_contain_text("unknown protocol")
    bad = tmp_path / "broken.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1 not a capture")
    page.set_input_files("#open-file-input", str(bad))
    expect(page.locator("#notice")).to_contain_text("Cannot open broken.pcap")
    set_field(page, "#Ether-type", "0x86dd")
    expect(page.locator("#append-error")).to_have_count(0)
    expect(page.locator("#notice")).to_have_text("")


def test_the_hex_highlight_follows_the_caret_and_offsets_read_alike(page) -> None:  # noqa: ANN001
    new_tcp_packet(page)
    page.click("#hex-22")
    expect(page.locator(".field-row.selected")).to_have_attribute("data-field", "Ether-IP-ttl")
    expect(page.locator(".hex-status")).to_contain_text("selected: 0016 (1 byte)")
    row = page.locator(".field-row[data-field='Ether-IP-ttl'] .field-position")
    expect(row).to_have_text("0016-0016 [0001]")  # the same hex offset in the row and the status
    page.locator("#hex-view").press("0")
    page.locator("#hex-view").press("a")
    expect(page.locator("#Ether-IP-ttl")).to_have_value("10")
    expect(page.locator(".field-row.selected")).to_have_attribute("data-field", "Ether-IP-proto")  # byte 23
    page.click("#Ether-IP-options")  # empty: a zero-length field after the fixed header
    expect(page.locator(".hex-status")).to_contain_text("selected: 0022 (0 bytes)")
    expect(page.locator(".field-row[data-field='Ether-IP-options'] .field-position")).to_have_text("0022 [0000]")


def test_padding_is_shown_and_coded_as_padding(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The ARP reply of tcp_http_v4.pcap (42 bytes on the veth) padded to Ethernet's 60, as a NIC
    sends it: its last layer is Padding, in the pane, the document and the Scapy code."""
    arp = corpus_frame("tcp_http_v4.pcap", 1)
    assert len(arp) == 42
    frame = arp + bytes(18)
    open_frame(page, tmp_path, frame)
    layers = [layer["id"] for layer in tab_state(page, "doc.value.layers")]
    assert layers == ["Ether", "ARP", "Padding"], layers
    expect(page.locator("#Ether-ARP-Padding-toggle")).to_contain_text("Padding")
    expect(page.locator("#Ether-ARP-Padding-note")).to_have_count(0)
    page.click("#action-menu > summary")
    page.click("#menu-copy-scapy")
    code = page.locator("#scapy-code").input_value()
    assert code.startswith("Ether(") and "/ARP(" in code and "/Padding(load=" in code and "Raw(" not in code, code
    page.click("#close-dialog-button")
    page.click("#Ether-ARP-toggle")
    set_field(page, "#Ether-ARP-psrc", "192.0.2.9")  # rebuilt from the document: the padding stays
    expect(page.locator("#Ether-ARP-psrc")).to_have_value("192.0.2.9")
    assert len(shown_bytes(page)) == 60 and shown_bytes(page)[42:] == bytes(18)
    assert [layer["id"] for layer in tab_state(page, "doc.value.layers")] == ["Ether", "ARP", "Padding"]


def test_layer_names_ignore_case_and_unknown_ones_get_suggestions(page) -> None:  # noqa: ANN001
    page.fill("#append-protocol-combobox", "ip")
    page.click("#append-protocol-button")
    expect(page.locator("section.layer")).to_have_count(2)
    expect(page.locator("#Ether-IP-toggle")).to_be_visible()
    page.fill("#append-protocol-combobox", "tcpp")
    page.click("#append-protocol-button")
    expect(page.locator("#append-error")).to_contain_text("did you mean")
    expect(page.locator("#append-error")).to_contain_text("TCP")


def test_a_layer_that_cannot_follow_says_so(page) -> None:  # noqa: ANN001
    new_tcp_packet(page)
    append_layer(page, "Ether")
    note = page.locator("#Ether-IP-TCP-Ether-note")
    expect(note).to_contain_text("cannot follow TCP")
    expect(note).to_contain_text("read back as Raw")
    expect(page.locator("#Ether-IP-note")).to_have_count(0)


def test_ip_flags_are_readable(page) -> None:  # noqa: ANN001
    append_layer(page, "IP")
    expect(page.locator("#Ether-IP-flags")).to_have_value("0")  # no empty box at 0
    df = page.locator("label.bit-label", has_text="Don't fragment")
    expect(df).to_have_count(1)
    df.locator("input").check()
    expect(page.locator("#Ether-IP-flags")).to_have_value("DF")
    assert shown_bytes(page)[20] == 0x40


def test_tab_names_follow_the_document_through_undo(page) -> None:  # noqa: ANN001
    def template(folder: str, item: str) -> None:
        page.click("#templates-menu > summary")
        page.click(f"#templates-menu summary:text-is('{folder}')")
        page.click(f"[data-template='{folder}/{item}']")

    template("IPv4", "UDP")
    tab = page.locator("#doc-tab-0 .tab-name")
    expect(tab).to_have_text("IPv4/UDP")
    template("IPv6", "UDP")
    expect(tab).to_have_text("IPv6/UDP")  # the two UDP templates are told apart
    set_field(page, "#Ether-IPv6-hlim", "7")
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-IPv6-hlim")).not_to_have_value("7")
    expect(tab).to_have_text("IPv6/UDP")
    page.locator("body").click()
    page.keyboard.press("Control+z")
    expect(tab).to_have_text("IPv4/UDP")
    page.keyboard.press("Control+z")
    expect(tab).to_have_text("Untitled")
    page.keyboard.press("Control+Shift+z")
    expect(tab).to_have_text("IPv4/UDP")


def test_undo_pressed_while_an_edit_is_being_built_undoes_that_edit(page) -> None:  # noqa: ANN001
    """Enter then Ctrl+Z at once, as fast typists do: the undo waits for the edit, then takes it
    back, and redo brings it again (the undo is never applied before the edit it follows)."""
    new_tcp_packet(page)
    ttl = page.locator("#Ether-IP-ttl")
    before = ttl.input_value()
    for _ in range(3):
        ttl.click()
        ttl.fill("7")
        page.keyboard.press("Enter")
        page.keyboard.press("Control+z")
        expect(ttl).to_have_value(before)
        page.keyboard.press("Control+Shift+z")
        expect(ttl).to_have_value("7")
        page.keyboard.press("Control+z")
        expect(ttl).to_have_value(before)
    assert shown_bytes(page)[22] == int(before)
