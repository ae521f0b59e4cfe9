"""A capture is a packet list (issue 25, item 1), in a real browser: opening a pcap lists every packet
(read_pcap_summaries) above the editor, a row selected by click or by the next/previous keys is the
packet edited, an edited packet keeps its document when another is shown and its row is marked, and
"Save all packets as pcap" writes every packet, the edited one rebuilt and the others as read. A
capture of tens of thousands of packets opens over POST /rpc with only a window of rows in the page,
and its last packet is reached; the figures of benchmarks/README.md (file chosen -> list shown, the
summaries call in the page and over the wire) are measured, printed and kept, never asserted."""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
import struct
import time
import urllib.request
from pathlib import Path

from editor_browser import (  # noqa: F401 (fixtures)
    CAPTURES,
    ROOT,
    browser,
    editor_url,
    expect,
    has_class,
    menu,
    open_capture,
    page,
    raw_records,
    select_packet,
    set_field,
    tab_state,
)

RETRANSMIT = CAPTURES / "tcp_retransmit.pcap"
MAX_ROWS_IN_PAGE = 60  # the rows in view and a few either side, whatever the capture's size
STORED = "JSON.parse(sessionStorage.getItem('scapyrpc-editor') || 'null')"  # the tabs as persist.js stored them
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # as write_pcap writes it


def write_records(path: Path, records: list[tuple[int, int, int, bytes]]) -> None:
    path.write_bytes(
        PCAP_HEADER
        + b"".join(
            struct.pack("<IIII", sec, frac, len(frame), wirelen) + frame for sec, frac, wirelen, frame in records
        )
    )


def saved_records(page, tmp_path: Path, name: str = "saved.pcap") -> list[tuple[int, int, int, bytes]]:  # noqa: ANN001
    with page.expect_download(timeout=60000) as download:
        menu(page, "file-menu", "Save all packets as pcap")
    path = tmp_path / name
    download.value.save_as(path)
    return raw_records(path)


def rows_in_page(page) -> int:  # noqa: ANN001
    return page.locator("#packet-list-rows .packet-row").count()


def shown(page) -> int:  # noqa: ANN001
    return tab_state(page, "pcap.value.shown")


def wait_shown(page, index: int) -> None:  # noqa: ANN001
    """Row `index` is selected and its packet is the document."""
    expect(page.locator(f"#pcap-packet-{index}")).to_have_attribute("aria-selected", "true")
    page.wait_for_function(
        "(i) => window.scapyrpcEditor.tabs.value[window.scapyrpcEditor.active.value].pcap.value.shown === i", arg=index
    )


def shows_file_bytes(page, frame: bytes) -> bool:  # noqa: ANN001
    return tab_state(page, "result.value.binary") == base64.b64encode(frame).decode()


# ---- the retransmission capture: rows, selection, keys ------------------------------------------


def test_a_capture_opens_as_a_list_of_its_packets(page) -> None:  # noqa: ANN001
    """Every packet of the file is a row (number, time, addresses, protocol, length, ports and flags),
    the first one shown; the page holds only the rows in view."""
    original = raw_records(RETRANSMIT)
    open_capture(page, RETRANSMIT)
    expect(page.locator("#packet-list-status")).to_have_text(f"tcp_retransmit.pcap: packet 1 of {len(original)}")
    first = page.locator("#pcap-packet-0")
    expect(first).to_have_attribute("aria-selected", "true")
    assert first.locator(".packet-address").all_inner_texts() == ["192.0.2.1", "192.0.2.2"]
    expect(first.locator(".packet-protocol")).to_have_text("TCP")
    expect(first.locator(".packet-time")).to_have_text("0.000000")
    expect(first.locator(".packet-length")).to_have_text(str(len(original[0][3])))
    expect(first.locator(".packet-summary")).to_contain_text("→ 8080 [SYN] Seq=")
    expect(page.locator("#pcap-packet-1 .packet-summary")).to_contain_text("8080 → ")
    expect(page.locator("#pcap-packet-1 .packet-summary")).to_contain_text("[SYN, ACK]")
    second = original[1][0] - original[0][0] + (original[1][1] - original[0][1]) / 1e6
    expect(page.locator("#pcap-packet-1 .packet-time")).to_have_text(f"{second:.6f}")
    assert shows_file_bytes(page, original[0][3])
    expect(page.locator("#breadcrumb")).to_contain_text("Ether › IP › TCP")
    assert 0 < rows_in_page(page) < MAX_ROWS_IN_PAGE < len(original)
    expect(page.locator("#menu-save-pcap-all")).to_be_enabled()


def test_rows_are_selected_by_click_and_by_the_next_and_previous_keys(page) -> None:  # noqa: ANN001
    original = raw_records(RETRANSMIT)
    open_capture(page, RETRANSMIT)
    page.click("#pcap-packet-5")
    wait_shown(page, 5)
    assert shows_file_bytes(page, original[5][3])
    expect(page.locator("#pcap-packet-0")).to_have_attribute("aria-selected", "false")

    page.locator("#hex-view").focus()  # j/k anywhere but in a text field
    page.keyboard.press("j")
    wait_shown(page, 6)
    page.keyboard.press("j")
    wait_shown(page, 7)
    page.keyboard.press("k")
    wait_shown(page, 6)
    assert shows_file_bytes(page, original[6][3])

    box = page.locator("#append-protocol-combobox")  # in a text field, j is a letter ...
    box.focus()
    page.keyboard.press("j")
    expect(box).to_have_value("j")
    assert shown(page) == 6
    page.keyboard.press("Alt+ArrowDown")  # ... and Alt+Down/Alt+Up move
    wait_shown(page, 7)
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    wait_shown(page, 5)
    box.fill("")

    page.click("#packet-next-button")
    wait_shown(page, 6)
    page.click("#packet-previous-button")
    wait_shown(page, 5)

    rows = page.locator("#packet-list-rows")  # in the list: arrows, Page Down, End and Home
    rows.focus()
    page.keyboard.press("ArrowDown")
    wait_shown(page, 6)
    page.keyboard.press("ArrowUp")
    wait_shown(page, 5)
    page.keyboard.press("PageDown")
    wait_shown(page, tab_state(page, "pcap.value.index"))
    assert shown(page) > 5
    page.keyboard.press("End")
    last = len(original) - 1
    wait_shown(page, last)
    expect(page.locator(f"#pcap-packet-{last}")).to_be_in_viewport()
    expect(page.locator("#packet-list-status")).to_contain_text(f"packet {last + 1} of {len(original)}")
    expect(page.locator("#packet-next-button")).to_be_disabled()
    assert shows_file_bytes(page, original[last][3])
    assert rows_in_page(page) < MAX_ROWS_IN_PAGE
    page.keyboard.press("Home")
    wait_shown(page, 0)
    expect(page.locator("#pcap-packet-0")).to_be_in_viewport()
    assert shows_file_bytes(page, original[0][3])


def test_holding_the_next_key_ends_on_the_last_packet_asked_for(page) -> None:  # noqa: ANN001
    """Presses faster than packets are dissected: the list moves at once, the editor follows and
    ends on the row selected last, with its own bytes."""
    original = raw_records(RETRANSMIT)
    open_capture(page, RETRANSMIT)
    page.locator("#hex-view").focus()
    for _ in range(25):
        page.keyboard.press("j")
    wait_shown(page, 25)
    assert shows_file_bytes(page, original[25][3])


def test_the_packet_keys_are_in_the_shortcut_table_and_its_help(page) -> None:  # noqa: ANN001
    """The next/previous packet keys are rows of keys.js's table: the `?` help lists them with the
    others, and the buttons say them."""
    open_capture(page, RETRANSMIT)
    page.locator("#hex-view").focus()
    page.keyboard.press("?")
    help_box = page.locator("#help-overlay")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Capture")
    next_row = help_box.locator("tr", has_text="Next packet of the capture")
    expect(next_row).to_contain_text("Alt+↓")
    expect(next_row).to_contain_text("J")
    expect(help_box.locator("tr", has_text="Previous packet of the capture")).to_contain_text("Alt+↑")
    page.keyboard.press("Escape")
    expect(help_box).to_have_count(0)
    expect(page.locator("#packet-next-button")).to_have_attribute("title", "Next packet (Alt+↓ or j)")
    page.keyboard.press("Alt+ArrowDown")  # the focus is back in the hex view: the key steps
    wait_shown(page, 1)
    page.click("#new-tab-button")  # a tab without a capture: the keys do nothing there
    page.locator("#hex-view").focus()
    page.keyboard.press("j")
    expect(page.locator("#packet-list")).to_have_count(0)
    page.click("#doc-tab-0")
    wait_shown(page, 1)


# ---- edits: kept per packet, marked, saved ------------------------------------------------------


def first_data_segment(records: list[tuple[int, int, int, bytes]]) -> int:
    from scapy.layers.inet import TCP
    from scapy.layers.l2 import Ether

    return next(i for i, r in enumerate(records) if len(Ether(r[3])[TCP].payload) > 1000)


def test_an_edit_is_kept_across_packets_marked_and_saved_alone(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The TCP window of a 1514-byte data segment is edited: its row is marked, the edit (and its undo
    history) is there again after other packets were shown, and the saved capture differs from the
    file in that packet's window and checksum only, every record with its time."""
    original = raw_records(RETRANSMIT)
    index = first_data_segment(original)
    open_capture(page, RETRANSMIT)
    select_packet(page, index)
    page.click("#Ether-IP-TCP-toggle")
    window = page.locator("#Ether-IP-TCP-window")
    new_window = 1234 if window.input_value() != "1234" else 4321
    set_field(page, "#Ether-IP-TCP-window", str(new_window))
    expect(window).to_have_value(str(new_window))
    row = page.locator(f"#pcap-packet-{index}")
    expect(row).to_have_class(has_class("edited"))
    expect(row.locator(".packet-mark")).to_contain_text("edited")
    expect(page.locator("#packet-list-status")).to_contain_text("1 edited")

    page.locator("#hex-view").focus()
    page.keyboard.press("j")
    wait_shown(page, index + 1)
    assert shows_file_bytes(page, original[index + 1][3])
    expect(row).to_have_class(has_class("edited"))  # still marked while another packet is shown
    expect(page.locator(f"#pcap-packet-{index + 1}")).not_to_have_class(has_class("edited"))
    page.keyboard.press("j")
    wait_shown(page, index + 2)
    page.keyboard.press("k")
    page.keyboard.press("k")
    wait_shown(page, index)
    expect(page.locator("#Ether-IP-TCP-window")).to_have_value(str(new_window))  # the edit, and its layer open
    assert not shows_file_bytes(page, original[index][3])

    page.keyboard.press("Control+z")  # the packet's own undo history came back with it
    expect(page.locator("#Ether-IP-TCP-window")).not_to_have_value(str(new_window))
    expect(row).not_to_have_class(has_class("edited"))
    assert shows_file_bytes(page, original[index][3])
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#Ether-IP-TCP-window")).to_have_value(str(new_window))
    expect(row).to_have_class(has_class("edited"))

    select_packet(page, 0)  # saved from another packet: the edited one is written as edited
    saved = saved_records(page, tmp_path)
    assert len(saved) == len(original)
    assert [r[:3] for r in saved] == [r[:3] for r in original]  # times and lengths kept
    assert [i for i, (a, b) in enumerate(zip(saved, original)) if a[3] != b[3]] == [index]
    before, after = original[index][3], saved[index][3]
    changed = {i for i, (a, b) in enumerate(zip(before, after)) if a != b}
    window_at, checksum_at = 14 + 20 + 14, 14 + 20 + 16
    assert changed and changed <= {window_at, window_at + 1, checksum_at, checksum_at + 1}
    assert int.from_bytes(after[window_at : window_at + 2], "big") == new_window


def test_a_new_document_closes_the_list_and_the_list_follows_its_tab(page) -> None:  # noqa: ANN001
    open_capture(page, RETRANSMIT)
    select_packet(page, 3)
    page.click("#new-tab-button")
    expect(page.locator("#packet-list")).to_have_count(0)
    page.click("#doc-tab-0")
    expect(page.locator("#pcap-packet-3")).to_have_attribute("aria-selected", "true")
    menu(page, "file-menu", "New")
    expect(page.locator("#packet-list")).to_have_count(0)
    expect(page.locator("section.layer")).to_have_count(1)


def test_replacing_a_capture_with_unsaved_edits_asks_first(page) -> None:  # noqa: ANN001
    """Undo brings back the packet shown, not the capture: File > New, a template or another file in
    place of a capture with edited packets not saved asks first; Cancel keeps everything."""
    original = raw_records(RETRANSMIT)
    index = first_data_segment(original)
    open_capture(page, RETRANSMIT)
    select_packet(page, index)
    page.click("#Ether-IP-TCP-toggle")
    set_field(page, "#Ether-IP-TCP-window", "4321")
    select_packet(page, 0)  # the edited packet is one of the others
    menu(page, "file-menu", "New")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("Replace tcp_retransmit.pcap?")
    expect(page.locator("#confirm-cancel-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator(f"#pcap-packet-{index}")).to_have_class(has_class("edited"))
    page.set_input_files("#open-file-input", str(CAPTURES / "vlan.pcap"))
    expect(dialog).to_contain_text("Its edited packets are not saved")
    page.click("#confirm-cancel-button")
    expect(page.locator("#packet-list-status")).to_contain_text("tcp_retransmit.pcap")
    page.locator("#hex-view").focus()
    page.keyboard.press("Alt+n")
    page.click("#confirm-discard-button")
    expect(page.locator("#packet-list")).to_have_count(0)
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("Untitled")
    open_capture(page, CAPTURES / "vlan.pcap")  # nothing edited: no question
    expect(dialog).to_have_count(0)
    expect(page.locator("#packet-list-status")).to_contain_text("vlan.pcap: packet 1 of")


def test_the_list_is_labelled_and_its_ids_follow_the_naming_rule(page) -> None:  # noqa: ANN001
    open_capture(page, CAPTURES / "vlan.pcap")
    expect(page.locator("#pcap-packet-0 .packet-summary")).to_contain_text("VLAN 100: Who has 198.18.100.2?")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(el => el.type !== 'file' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    assert page.locator("#packet-list-rows").get_attribute("aria-label") == "Packets of vlan.pcap"
    ids = page.evaluate("() => [...document.querySelectorAll('#packet-list [id]')].map(el => el.id)")
    kebab = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
    assert "packet-list-rows" in ids and "pcap-packet-0" in ids
    assert [i for i in ids if not kebab.fullmatch(i)] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_list_its_edits_and_their_history_survive_a_reload(page, tmp_path: Path) -> None:  # noqa: ANN001
    """A data segment's window edited, then another packet shown: the tab is unsaved. After a reload
    the list comes back with that packet shown and selected, the edited row marked, the tab unsaved;
    the edited packet shows its edit again with its undo history, and Ctrl+S saves the whole capture,
    the edited packet rebuilt and every other one as read, after which the tab is saved."""
    original = raw_records(RETRANSMIT)
    index = first_data_segment(original)
    open_capture(page, RETRANSMIT)
    unsaved = page.locator("#doc-tab-0 .unsaved-mark")
    expect(unsaved).to_have_count(0)
    select_packet(page, index)
    page.click("#Ether-IP-TCP-toggle")
    window = page.locator("#Ether-IP-TCP-window")
    new_window = 1234 if window.input_value() != "1234" else 4321
    set_field(page, "#Ether-IP-TCP-window", str(new_window))
    expect(window).to_have_value(str(new_window))
    expect(unsaved).to_have_count(1)
    other = index + 3
    select_packet(page, other)
    expect(unsaved).to_have_count(1)  # the edited packet is not shown, and still unsaved
    page.wait_for_function(f"() => {STORED}?.tabs?.[0]?.pcap?.shown === {other}")

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    status = page.locator("#packet-list-status")
    expect(status).to_have_text(f"tcp_retransmit.pcap: packet {other + 1} of {len(original)} · 1 edited")
    wait_shown(page, other)
    assert shows_file_bytes(page, original[other][3])
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("tcp_retransmit.pcap")
    expect(unsaved).to_have_count(1)
    expect(page.locator(f"#pcap-packet-{index}")).to_have_class(has_class("edited"))
    expect(page.locator(f"#pcap-packet-{other}")).not_to_have_class(has_class("edited"))

    page.locator("#hex-view").focus()
    for _ in range(3):
        page.keyboard.press("k")
    wait_shown(page, index)
    expect(page.locator("#Ether-IP-TCP-window")).to_have_value(str(new_window))  # built again from its document
    page.keyboard.press("Control+z")  # its own history came back with it
    expect(page.locator("#Ether-IP-TCP-window")).not_to_have_value(str(new_window))
    assert shows_file_bytes(page, original[index][3])
    expect(page.locator(f"#pcap-packet-{index}")).not_to_have_class(has_class("edited"))
    expect(unsaved).to_have_count(0)  # undone back to the packet as read: nothing left to save
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#Ether-IP-TCP-window")).to_have_value(str(new_window))
    expect(unsaved).to_have_count(1)

    page.locator("#hex-view").focus()
    with page.expect_download(timeout=60000) as download:
        page.keyboard.press("Control+s")  # a capture of several packets: saved whole
    path = tmp_path / "reloaded.pcap"
    download.value.save_as(path)
    saved = raw_records(path)
    assert [r[:3] for r in saved] == [r[:3] for r in original]
    assert [i for i, (a, b) in enumerate(zip(saved, original)) if a[3] != b[3]] == [index]
    window_at = 14 + 20 + 14
    assert int.from_bytes(saved[index][3][window_at : window_at + 2], "big") == new_window
    expect(unsaved).to_have_count(0)
    select_packet(page, 0)
    expect(unsaved).to_have_count(0)  # the edited packet, left, is saved too


def test_a_pcapng_capture_is_listed_edited_and_saved_with_its_times(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The first 40 packets of the retransmission capture written as pcapng (Scapy's wrpcapng): the
    list is the same, a packet shown has its bytes, and the capture saved (as pcap) after an edit
    has every packet's time and bytes, the edited one rebuilt."""
    from scapy.utils import rdpcap, wrpcapng

    original = raw_records(RETRANSMIT)[:40]
    index = first_data_segment(original)
    path = tmp_path / "retransmit.pcapng"
    wrpcapng(str(path), rdpcap(str(RETRANSMIT), count=40))
    assert path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"  # a section header block
    open_capture(page, path)
    expect(page.locator("#packet-list-status")).to_have_text("retransmit.pcapng: packet 1 of 40")
    expect(page.locator("#pcap-packet-1 .packet-summary")).to_contain_text("[SYN, ACK]")
    select_packet(page, index)
    assert shows_file_bytes(page, original[index][3])
    page.click("#Ether-IP-TCP-toggle")
    set_field(page, "#Ether-IP-TCP-window", "4321")
    expect(page.locator(f"#pcap-packet-{index}")).to_have_class(has_class("edited"))
    saved = saved_records(page, tmp_path)
    assert [r[:3] for r in saved] == [r[:3] for r in original]  # seconds, microseconds, lengths
    assert [i for i, (a, b) in enumerate(zip(saved, original)) if a[3] != b[3]] == [index]
    window_at = 14 + 20 + 14
    assert int.from_bytes(saved[index][3][window_at : window_at + 2], "big") == 4321


# ---- tens of thousands of packets ----------------------------------------------------------------


def large_capture(path: Path, count: int = 21_000) -> list[tuple[int, int, int, bytes]]:
    """`count` real frames of the corpus's Ethernet captures (not large.pcap's 64 KiB segments nor the
    fragments), the retransmission one once for every two of the others: ACKs and full segments,
    DNS, ARP, ICMP, IPv6, VLAN, VXLAN, TLS; about 480 bytes a frame, a millisecond apart."""
    others = [
        r[3]
        for p in sorted(CAPTURES.glob("*.pcap"))
        if p.name not in ("large.pcap", "sll.pcap", "fragments.pcap", "tcp_retransmit.pcap")
        for r in raw_records(p)
    ]
    cycle = others + [r[3] for r in raw_records(RETRANSMIT)] + others
    frames = [cycle[i % len(cycle)] for i in range(count)]
    records = [(1_700_000_000 + i // 1000, (i % 1000) * 1000, len(f), f) for i, f in enumerate(frames)]
    write_records(path, records)
    return records


def test_tens_of_thousands_of_packets_open_scroll_and_save(page, tmp_path: Path) -> None:  # noqa: ANN001
    """21,000 packets (about 10 MB): the file goes to the server over POST /rpc and the list over
    the same; the page holds a window of rows; the end is reached by scrolling and by End; the last
    packet is shown with its bytes; saved unedited, the capture is the same file (POST again). The
    list is more than the browser's storage takes: a reload keeps the packet shown (persist.js's
    budget), as a capture of one, and says so before."""
    path = tmp_path / "large-list.pcap"
    records = large_capture(path)
    size = path.stat().st_size
    assert 8_000_000 < size < 12_000_000  # base64 of it fits a request of 16 MiB
    with page.expect_response(lambda r: r.url.endswith("/rpc"), timeout=60000) as posted:
        page.set_input_files("#open-file-input", str(path))
    assert posted.value.status == 200 and posted.value.request.method == "POST"
    expect(page.locator("#packet-list-status")).to_contain_text(f"packet 1 of {len(records):,}", timeout=60000)
    replies = page.evaluate(
        "performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/rpc')).map((e) => e.decodedBodySize)"
    )
    assert max(replies) > size  # the packet list: every packet's bytes, and its line
    page.wait_for_function("() => window.scapyrpcEditor.tabs.value[0].pcap.value.shown === 0")
    assert rows_in_page(page) < MAX_ROWS_IN_PAGE
    expect(page.locator("#notice")).to_contain_text("not their undo history and the other packets of the captures")

    rows = page.locator("#packet-list-rows")
    rows.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")  # scrolled to the end by hand
    last = len(records) - 1
    expect(page.locator(f"#pcap-packet-{last}")).to_be_in_viewport()
    assert rows_in_page(page) < MAX_ROWS_IN_PAGE
    page.click(f"#pcap-packet-{last}")
    wait_shown(page, last)
    assert shows_file_bytes(page, records[last][3])
    expect(page.locator(f"#pcap-packet-{last} .packet-length")).to_have_text(str(len(records[last][3])))

    page.keyboard.press("Home")
    wait_shown(page, 0)
    page.keyboard.press("End")
    wait_shown(page, last)
    page.keyboard.press("k")
    wait_shown(page, last - 1)
    assert shows_file_bytes(page, records[last - 1][3])

    with page.expect_request(lambda r: r.url.endswith("/rpc") and r.method == "POST", timeout=60000):
        saved = saved_records(page, tmp_path)
    assert saved == records

    page.wait_for_function(
        f"""(b) => {{ const s = {STORED};
                    return s?.tabs?.[0]?.pcap?.shown === 0 && s.captures[0].length === 1
                           && s.captures[0][0].binary === b; }}""",
        arg=base64.b64encode(records[last - 1][3]).decode(),
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#packet-list-status")).to_have_text("large-list.pcap: packet 1 of 1")
    wait_shown(page, 0)
    assert shows_file_bytes(page, records[last - 1][3])


# ---- figures (benchmarks/README.md) --------------------------------------------------------------


def post_rpc(url: str, method: str, *params: object) -> tuple[object, float, int]:
    """One POST /rpc call from outside the browser: (result, seconds, reply bytes)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url.rstrip("/") + "/rpc", body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        reply = response.read()
    return json.loads(reply)["result"], time.perf_counter() - started, len(reply)


def test_figures_open_a_large_capture(browser, editor_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    """Measured, printed and kept for benchmarks/README.md; not asserted (no timing assertions)."""
    path = tmp_path / "large-list.pcap"
    records = large_capture(path)
    data = base64.b64encode(path.read_bytes()).decode()
    wire = []
    for _ in range(3):
        result, seconds, reply_bytes = post_rpc(editor_url, "read_pcap_summaries", data)
        assert len(result) == len(records)
        wire.append(seconds * 1000)
    opened, calls = [], []
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    for _ in range(3):
        page = context.new_page()
        page.goto(editor_url)
        page.wait_for_selector("body[data-ready=true]")
        page.set_input_files("#open-file-input", str(path))
        page.wait_for_function("() => performance.getEntriesByName('capture-opened').length > 0", timeout=60000)
        opened.append(page.evaluate("performance.getEntriesByName('capture-opened')[0].duration"))
        calls.append(page.evaluate("performance.getEntriesByName('capture-summaries')[0].duration"))
        page.close()
    context.close()
    figures = {
        "packets": len(records),
        "file_bytes": path.stat().st_size,
        "reply_bytes": reply_bytes,
        "file_chosen_to_list_shown_ms": {"median": round(statistics.median(opened)), "all": [round(t) for t in opened]},
        "summaries_call_in_page_ms": {"median": round(statistics.median(calls)), "all": [round(t) for t in calls]},
        "summaries_call_over_post_rpc_ms": {"median": round(statistics.median(wire)), "all": [round(t) for t in wire]},
    }
    print("\npacket list figures:", json.dumps(figures))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "packet_list.json").write_text(json.dumps(figures, indent=1))
    assert all(t > 0 for t in opened + calls + wire)


def hex_dump(frame: bytes) -> str:
    """`frame` as Wireshark's "Copy as Hex Dump" writes it."""
    lines = (f"{at:04x}   {' '.join(f'{b:02x}' for b in frame[at : at + 16])}" for at in range(0, len(frame), 16))
    return "\n".join(lines)


def test_figures_the_packet_list_and_the_paste_box(browser, editor_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    """The README's pictures of the editor: the retransmission capture as a packet list, a data
    segment selected with its window edited (its row marked, the stale checksum flagged), and the
    paste box holding a hex dump of a packet of the same capture. Written to EDITOR_PACKET_LIST_SCREENSHOT
    and EDITOR_PASTE_SCREENSHOT when set (docs/editor-packet-list.png, docs/editor-paste.png)."""
    original = raw_records(RETRANSMIT)
    index = first_data_segment(original)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(editor_url)
    page.wait_for_selector("body[data-ready=true]")
    open_capture(page, RETRANSMIT)
    select_packet(page, index)
    page.click("#Ether-IP-TCP-toggle")
    set_field(page, "#Ether-IP-TCP-window", "1234")
    expect(page.locator(f"#pcap-packet-{index}")).to_have_class(has_class("edited"))
    page.locator("#packet-list-rows").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    wait_shown(page, index)
    expect(page.locator("#Ether-IP-TCP-window")).to_have_value("1234")
    page.locator("#packet-list-rows").evaluate(f"(el) => {{ el.scrollTop = {max(0, index - 3) * 22}; }}")
    expect(page.locator(f"#pcap-packet-{index}")).to_be_in_viewport()
    shot = Path(os.environ.get("EDITOR_PACKET_LIST_SCREENSHOT", tmp_path / "editor-packet-list.png"))
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    menu(page, "file-menu", "Paste packet…")
    page.locator("#paste-text").fill(hex_dump(original[1][3]))
    shot = Path(os.environ.get("EDITOR_PASTE_SCREENSHOT", tmp_path / "editor-paste.png"))
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.click("#paste-open-button")  # the dump is a packet: it opens in a tab of its own
    expect(page.locator("#doc-tab-1")).to_have_attribute("aria-selected", "true")
    assert shows_file_bytes(page, original[1][3])
    context.close()
