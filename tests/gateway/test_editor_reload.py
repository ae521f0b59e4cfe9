"""Nothing lost on reload, in a real browser (issue 25, item 6): every tab comes back after a reload with
its document, undo and redo history, name, view and saved state (persist.js, the browser's session
storage); a capture's or a pasted packet with its exact bytes, and the rest of its capture; tabs too large
for the storage give up their history first, then the other packets of their captures, as the toolbar
says, and no error. Unsaved tabs are marked, closing one asks first, and so does leaving the page."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

from editor_browser import (  # noqa: F401 (fixtures)
    CAPTURES,
    ROOT,
    append_layer,
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
    shown_bytes,
    tab_state,
    template,
)

SRC_TEMPLATES = ROOT / "src" / "scapyrpc" / "packets" / "data" / "templates"


def open_capture_packet(page, name: str, index: int) -> None:  # noqa: ANN001
    open_capture(page, CAPTURES / name)
    select_packet(page, index)
    expect(page.locator(".doc-tab.active .tab-name")).to_have_text(name)


def tabs(page) -> list[dict]:  # noqa: ANN001
    """Each tab as a reload must bring it back."""
    return page.evaluate("""() => window.scapyrpcEditor.tabs.value.map((t) => ({
        name: t.name.value, view: t.view.value, doc: JSON.stringify(t.doc.value),
        past: t.past.map((d) => JSON.stringify(d)), future: t.future.map((d) => JSON.stringify(d)),
        saved: t.saved.value === t.doc.value, binary: t.result.value && t.result.value.binary,
        capture: t.pcap.value && [t.pcap.value.rows.length, t.pcap.value.index]}))""")


def active(page) -> int:  # noqa: ANN001
    return page.evaluate("() => window.scapyrpcEditor.active.value")


def reload(page) -> list[str]:  # noqa: ANN001
    """Reload the page, leaving it when it asks; the types of the dialogs it showed."""
    dialogs: list[str] = []

    def leave(dialog) -> None:  # noqa: ANN001
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", leave)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.remove_listener("dialog", leave)
    return dialogs


def unsaved_marks(page) -> list[bool]:  # noqa: ANN001
    return page.locator(".doc-tab").evaluate_all("(tabs) => tabs.map((t) => !!t.querySelector('.unsaved-mark'))")


# ---- every tab with its history ---------------------------------------------------------------


def test_every_tab_with_its_history_survives_a_reload(page) -> None:  # noqa: ANN001
    """Three tabs: IPv4/TCP edited twice (unsaved), IPv6/UDP edited and undone (saved again, with a
    redo step) shown in the Field Engine view, and a DNS answer of dns.pcap (a packet of a capture has
    its own history, empty until it is edited); the second is active."""
    template(page, "IPv4", "TCP")
    set_field(page, "#Ether-IP-ttl", "33")
    expect(page.locator("#hex-22")).to_have_text("21")  # built
    set_field(page, "#Ether-IP-TCP-dport", "8080")
    expect(page.locator("#Ether-IP-TCP-dport")).to_have_value("http_alt")
    page.click("#new-tab-button")
    template(page, "IPv6", "UDP")
    set_field(page, "#Ether-IPv6-hlim", "5")
    expect(page.locator("#hex-21")).to_have_text("05")
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-IPv6-hlim")).to_have_value("64")
    page.click("#Ether-IPv6-toggle")  # collapsed
    page.click("#view-fe")
    page.click("#new-tab-button")
    open_capture_packet(page, "dns.pcap", 3)
    page.click("#doc-tab-1")
    expect(page.locator("#view-fe")).to_have_attribute("aria-selected", "true")
    assert unsaved_marks(page) == [True, False, False]
    before = tabs(page)
    assert [len(t["past"]) for t in before] == [3, 1, 0] and [len(t["future"]) for t in before] == [0, 1, 0]

    assert reload(page) == ["beforeunload"]  # the first tab is unsaved

    after = tabs(page)
    assert after == before
    assert active(page) == 1
    assert unsaved_marks(page) == [True, False, False]
    expect(page.locator(".doc-tab .tab-name")).to_have_text(["IPv4/TCP", "IPv6/UDP", "dns.pcap"])
    expect(page.locator("#view-fe")).to_have_attribute("aria-selected", "true")
    page.click("#view-packet")
    expect(page.locator("#Ether-IPv6-fields")).to_be_hidden()
    page.click("#Ether-IPv6-toggle")
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Shift+z")  # the redo step came back
    expect(page.locator("#Ether-IPv6-hlim")).to_have_value("5")
    expect(page.locator("#doc-tab-1 .unsaved-mark")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-IPv6-hlim")).to_have_value("64")
    expect(page.locator("#doc-tab-1 .unsaved-mark")).to_have_count(0)  # saved again, as before the reload
    page.click("#doc-tab-0")
    expect(page.locator("#Ether-IP-ttl")).to_have_value("33")
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-IP-TCP-dport")).to_have_value("http")
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-IP-ttl")).to_have_value("64")
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(0)  # the template as loaded
    page.keyboard.press("Control+z")
    expect(page.locator("section.layer")).to_have_count(1)  # before the template: the first new document
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("Untitled")  # the name follows the document
    page.click("#doc-tab-2")
    assert shown_bytes(page) == raw_records(CAPTURES / "dns.pcap")[3][3]


def test_a_capture_packet_keeps_the_bytes_of_its_file_and_its_capture_over_a_reload(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The SYN of large.pcap, captured on loopback with its TCP checksum not filled in: Scapy would
    build another checksum, but the reload shows the file's bytes (the checksum flagged stale), and
    Ctrl+S after the reload still saves the whole capture as read."""
    from scapy.layers.inet import TCP
    from scapy.layers.l2 import Ether

    source = CAPTURES / "large.pcap"
    original = raw_records(source)
    frame = original[0][3]
    rebuilt = Ether(frame)
    del rebuilt[TCP].chksum
    assert bytes(rebuilt) != frame  # the file's bytes are not what a rebuild gives
    open_capture_packet(page, "large.pcap", 0)
    assert shown_bytes(page) == frame
    expect(page.locator("#Ether-IP-TCP-chksum")).to_have_class(has_class("field-value-stale"))

    assert reload(page) == []  # nothing unsaved: nothing asked

    assert shown_bytes(page) == frame
    expect(page.locator(".doc-tab .tab-name")).to_have_text(["large.pcap"])
    expect(page.locator("#Ether-IP-TCP-chksum")).to_have_class(has_class("field-value-stale"))
    assert tab_state(page, "pcap.value.rows.length") == len(original)
    expect(page.locator("#menu-save-pcap-all")).to_be_enabled()
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    with page.expect_download() as download:
        page.keyboard.press("Control+s")
    path = tmp_path / "saved.pcap"
    download.value.save_as(path)
    assert raw_records(path) == original


def test_a_pasted_ip_packet_keeps_its_bytes_over_a_reload(page) -> None:  # noqa: ANN001
    """The HTTP GET of large.pcap without its Ethernet header, pasted as plain hex: an IPv4 packet
    whose TCP checksum (loopback, not filled in) is not what Scapy builds, shown as pasted before and
    after a reload, dissected from IP."""
    frame = raw_records(CAPTURES / "large.pcap")[3][3]
    packet = frame[14:]
    assert b"GET /" in packet
    menu(page, "file-menu", "Paste packet…")
    page.fill("#paste-text", packet.hex(" "))
    page.click("#paste-open-button")
    expect(page.locator(".doc-tab.active .tab-name")).to_have_text("Pasted IP")
    assert shown_bytes(page) == packet
    expect(page.locator("#IP-TCP-chksum")).to_have_class(has_class("field-value-stale"))

    reload(page)

    expect(page.locator(".doc-tab .tab-name")).to_have_text(["Untitled", "Pasted IP"])
    assert active(page) == 1
    assert shown_bytes(page) == packet
    assert tab_state(page, "doc.value.layers.map((l) => l.id)") == ["IP", "TCP", "Raw"]
    expect(page.locator("#IP-TCP-chksum")).to_have_class(has_class("field-value-stale"))


def test_many_tabs_from_every_capture_survive_a_reload(page) -> None:  # noqa: ANN001
    """One tab per capture of the corpus (a packet of each, the big frames of large.pcap among them),
    the last but one active: all come back with their names and bytes."""
    names = sorted(p.name for p in CAPTURES.glob("*.pcap"))
    wanted = {}
    for i, name in enumerate(names):
        if i:
            page.keyboard.press("Alt+t")
            expect(page.locator(".doc-tab")).to_have_count(i + 1)
        records = raw_records(CAPTURES / name)
        index = max(range(len(records)), key=lambda r: len(records[r][3]))  # its largest packet
        open_capture_packet(page, name, index)
        wanted[name] = base64.b64encode(records[index][3]).decode()
    page.click(f"#doc-tab-{len(names) - 2}")
    before = tabs(page)
    assert [t["binary"] for t in before] == list(wanted.values())

    reload(page)

    assert tabs(page) == before
    assert active(page) == len(names) - 2
    expect(page.locator(".doc-tab .tab-name")).to_have_text(list(wanted))
    expect(page.locator("#notice")).to_have_text("")


def test_a_big_payload_gives_up_its_history_first_and_keeps_the_document(page, tmp_path: Path) -> None:  # noqa: ANN001
    """A 400 KB Raw payload (a file's bytes) and many edits after it: too much history for the
    browser's storage. The toolbar says what a reload will not bring back; the reload brings the
    document and the history that fitted, which still undoes."""
    payload = os.urandom(400 * 1024)
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    append_layer(page, "Raw")
    page.click("#Ether-Raw-load")
    page.select_option("#payload-type", "file")
    page.set_input_files("#payload-file", str(path))
    page.click("#payload-save-button")
    expect(page.locator("#breadcrumb")).to_contain_text(f"{14 + len(payload)} bytes", timeout=30_000)
    for i in range(16):
        set_field(page, "#Ether-src", f"02:00:00:00:00:{i:02x}")
        expect(page.locator("#hex-11")).to_have_text(f"{i:02x}", timeout=30_000)  # built (400 KB a time)
    storage = page.locator("#storage-state")  # the notice went with the next edit; this stays
    expect(storage).to_contain_text("Storage full: a reload loses the undo history beyond")
    kept = int(storage.inner_text().split("beyond ")[1].split(" ")[0])
    assert 1 <= kept < 16
    before = tabs(page)[0]
    assert len(before["past"]) > kept

    reload(page)

    after = tabs(page)[0]
    assert after["doc"] == before["doc"] and after["binary"] == before["binary"]
    assert after["past"] == before["past"][-kept:]
    assert shown_bytes(page)[14:] == payload
    expect(storage).to_have_count(0)  # what came back fits
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(page.locator("#hex-11")).to_have_text("0e", timeout=30_000)
    expect(page.locator("#Ether-src")).to_have_value("02:00:00:00:00:0e")
    assert shown_bytes(page)[14:] == payload


def fragment(trp: dict) -> str:
    """The page's link for a document (document.js encodeFragment)."""
    return "#doc=" + base64.urlsafe_b64encode(json.dumps(trp).encode()).decode().rstrip("=")


def test_a_link_of_an_earlier_state_opens_no_tab_and_another_documents_link_does(page, editor_url: str) -> None:  # noqa: ANN001
    """A reload while an edit is on its way reloads the link of the document before the edit: the
    tabs come back, and no tab opens for that older document. A link of another document, followed
    in the same browser tab, opens it in a tab of its own beside the tabs brought back."""
    template(page, "IPv4", "TCP")
    earlier = page.url.split("#", 1)[1]
    set_field(page, "#Ether-IP-ttl", "99")
    expect(page.locator("#hex-22")).to_have_text("63")
    page.evaluate("(hash) => history.replaceState(null, '', '#' + hash)", earlier)  # as the race leaves it
    reload(page)
    expect(page.locator(".doc-tab .tab-name")).to_have_text(["IPv4/TCP"])
    expect(page.locator("#Ether-IP-ttl")).to_have_value("99")

    other = json.loads((SRC_TEMPLATES / "ARP" / "ARP-REPLY.trp").read_text())
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("about:blank")
    page.goto(editor_url + fragment(other))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator(".doc-tab .tab-name")).to_have_text(["IPv4/TCP", "Untitled"])
    expect(page.locator("#doc-tab-1")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#Ether-ARP-op")).to_have_value("is-at")
    page.click("#doc-tab-0")
    expect(page.locator("#Ether-IP-ttl")).to_have_value("99")


def test_captures_too_big_for_the_storage_keep_each_tabs_own_packet(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Three tabs, each a packet of a capture of 2 MB (large.pcap six times over, its 65 KB frames
    among them): the captures do not fit together, so a reload keeps each tab's own packet with its
    bytes, and not the other packets, as the toolbar says before."""
    records = raw_records(CAPTURES / "large.pcap") * 6
    path = tmp_path / "large6.pcap"
    path.write_bytes(
        struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
        + b"".join(struct.pack("<IIII", sec, usec, len(frame), orig) + frame for sec, usec, orig, frame in records)
    )
    big = max(range(len(records)), key=lambda i: len(records[i][3]))
    picks = [3, big, len(records) - 1]
    for n, index in enumerate(picks):
        if n:
            page.click("#new-tab-button")
            expect(page.locator(".doc-tab")).to_have_count(n + 1)
        open_capture(page, path)
        select_packet(page, index)
        expect(page.locator(".doc-tab.active .tab-name")).to_have_text("large6.pcap")
        assert shown_bytes(page) == records[index][3]
    storage = page.locator("#storage-state")
    expect(storage).to_have_text("Storage full: a reload loses the undo history and the other packets of the captures")
    before = tabs(page)

    reload(page)

    after = tabs(page)
    assert [t["name"] for t in after] == [t["name"] for t in before]
    assert [t["binary"] for t in after] == [base64.b64encode(records[i][3]).decode() for i in picks]
    assert [t["capture"] for t in after] == [[1, 0]] * 3  # each tab's own packet only
    assert all(t["saved"] for t in after)
    expect(storage).to_have_count(0)
    expect(page.locator("#menu-save-pcap-all")).to_be_disabled()


# ---- unsaved tabs ------------------------------------------------------------------------------


def test_closing_an_unsaved_tab_asks_first(page) -> None:  # noqa: ANN001
    template(page, "IPv4", "UDP")
    set_field(page, "#Ether-IP-UDP-dport", "4789")
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(1)
    page.click("#new-tab-button")
    template(page, "ARP", "ARP-REPLY")
    expect(page.locator("#doc-tab-1 .unsaved-mark")).to_have_count(0)
    page.click("[aria-label='Close ARP/ARP-REPLY']")  # saved: closed without asking
    expect(page.locator(".doc-tab")).to_have_count(1)
    expect(page.locator("#confirm-dialog")).to_have_count(0)

    page.click("[aria-label='Close IPv4/UDP']")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#confirm-dialog-title")).to_have_text("Close IPv4/UDP?")
    expect(page.locator("#confirm-cancel-button")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator(".doc-tab")).to_have_count(1)
    page.click("[aria-label='Close IPv4/UDP']")
    page.click("#confirm-cancel-button")
    expect(dialog).to_have_count(0)
    expect(page.locator("#Ether-IP-UDP-dport")).to_have_value("4789")

    page.click("#new-tab-button")  # a second tab, so that closing the first leaves another
    page.click("#doc-tab-0")
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+w")
    expect(dialog).to_be_visible()
    page.click("#confirm-discard-button")
    expect(dialog).to_have_count(0)
    expect(page.locator(".doc-tab .tab-name")).to_have_text(["Untitled"])
    expect(page.locator("#doc-tab-0")).to_have_attribute("aria-selected", "true")


def test_saving_clears_the_unsaved_mark(page) -> None:  # noqa: ANN001
    open_capture_packet(page, "icmp.pcap", 2)
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(0)
    page.click("#Ether-IP-toggle")
    set_field(page, "#Ether-IP-ttl", "1")
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(1)
    with page.expect_download():
        menu(page, "file-menu", "Save packet as pcap")
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(0)
    set_field(page, "#Ether-IP-ttl", "2")
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(1)
    with page.expect_download() as download:
        menu(page, "file-menu", "Save document (.trp)")
    assert json.loads(Path(download.value.path()).read_text())["packet"][1]["id"] == "IP"
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(0)


def before_unload(page) -> bool:  # noqa: ANN001
    """Whether the page's beforeunload handlers ask to stay (a dispatched event, cancelled)."""
    return page.evaluate("""() => { const e = new Event('beforeunload', {cancelable: true});
        dispatchEvent(e); return e.defaultPrevented; }""")


def test_leaving_the_page_with_unsaved_changes_asks(page) -> None:  # noqa: ANN001
    template(page, "IPv4", "ICMP")
    assert before_unload(page) is False  # everything saved: leaving asks nothing
    set_field(page, "#Ether-IP-ttl", "12")
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(1)
    assert before_unload(page) is True
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()  # stay
    expect(page.locator("#Ether-IP-ttl")).to_have_value("12")
    assert not page.is_closed()
    with page.expect_event("dialog") as asked_again:
        page.close(run_before_unload=True)
    with page.expect_event("close"):
        asked_again.value.accept()  # leave
    assert page.is_closed()
