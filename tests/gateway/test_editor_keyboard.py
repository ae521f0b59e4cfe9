"""The editor from the keyboard, in a real browser (issue 25, item 5): the shortcuts of keys.js (Ctrl+S
downloads, Ctrl+O opens the file chooser, undo and redo, tabs, views), the `?` help overlay that lists
the page's own table of shortcuts, menus driven by arrow keys that close on Escape, an outside click or
the focus going elsewhere, one Tab stop per field, and Alt+H between a field and its bytes. Packets are
the templates and real traffic of tests/captures."""

from __future__ import annotations

import json
from pathlib import Path

from editor_browser import (  # noqa: F401 (fixtures)
    CAPTURES,
    browser,
    editor_url,
    expect,
    open_capture,
    page,
    raw_records,
    select_packet,
    set_field,
    shown_bytes,
    tab_state,
    template,
)


def focused(page) -> str:  # noqa: ANN001
    """The id of the element with the focus ("" for none; the element's text when it has no id)."""
    return page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()")


def watch_prevented(page) -> None:  # noqa: ANN001
    """Record, for each key pressed from now on, whether the page prevented the browser's own action
    (a window listener runs after the editor's document listener)."""
    page.evaluate("""() => { window.keysSeen = [];
        addEventListener('keydown', (e) => window.keysSeen.push([e.key, e.defaultPrevented])); }""")


def prevented(page, key: str) -> list[bool]:  # noqa: ANN001
    return page.evaluate("(key) => window.keysSeen.filter((k) => k[0].toLowerCase() === key).map((k) => k[1])", key)


def unsaved(page, index: int = 0):  # noqa: ANN001, ANN201 (a locator)
    return page.locator(f"#doc-tab-{index} .unsaved-mark")


# ---- the shortcuts ----------------------------------------------------------------------------


def test_ctrl_s_commits_the_field_being_typed_and_downloads_the_document(page, tmp_path: Path) -> None:  # noqa: ANN001
    """IPv4/TCP: a TTL typed but not entered is committed, then the document (.trp) downloaded; the
    browser's own "save the web page" is prevented, and the tab is saved."""
    template(page, "IPv4", "TCP")
    expect(unsaved(page)).to_have_count(0)
    watch_prevented(page)
    ttl = page.locator("#Ether-IP-ttl")
    ttl.click()
    ttl.fill("17")  # typed, no Enter
    with page.expect_download() as download:
        page.keyboard.press("Control+s")
    assert prevented(page, "s") == [True]
    assert download.value.suggested_filename == "IPv4_TCP.trp"
    path = tmp_path / "saved.trp"
    download.value.save_as(path)
    saved = json.loads(path.read_text())
    layers = {layer["id"]: {f["id"]: f["value"] for f in layer["fields"]} for layer in saved["packet"]}
    assert list(layers) == ["Ether", "IP", "TCP"]
    assert layers["IP"]["ttl"] == "17" and layers["IP"]["dst"] == "192.168.1.1" and layers["TCP"]["dport"] == "80"
    expect(ttl).to_have_value("17")
    expect(ttl).to_be_focused()  # committed, and still where the user was
    expect(page.locator("#hex-22")).to_have_text("11")
    expect(unsaved(page)).to_have_count(0)  # saved as it is now
    set_field(page, "#Ether-IP-TCP-dport", "443")
    expect(unsaved(page)).to_have_count(1)
    page.keyboard.press("Control+z")  # back to the document as saved: saved again
    expect(page.locator("#Ether-IP-TCP-dport")).to_have_value("http")  # 80, as Scapy shows it
    expect(unsaved(page)).to_have_count(0)


def test_ctrl_o_opens_the_file_chooser_and_ctrl_s_saves_the_whole_capture(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Ctrl+O, then the HTTP capture: its first request edited from the keyboard and saved with Ctrl+S is saved
    among the capture's other packets (pcap), each as read with its time."""
    source = CAPTURES / "tcp_http_v4.pcap"
    original = raw_records(source)
    # Playwright intercepts the chooser once a listener is on, which it sets up without waiting: on
    # before the key (and the round trips below), the chooser cannot open before it is intercepted.
    page.on("filechooser", lambda _: None)
    watch_prevented(page)
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Control+o")
    assert prevented(page, "o") == [True]
    chooser.value.set_files(str(source))
    expect(page.locator("#pcap-packet-0")).to_be_visible(timeout=30000)
    select_packet(page, 5)  # the first request of the keep-alive connection
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("tcp_http_v4.pcap")
    assert shown_bytes(page) == original[5][3]
    page.click("#Ether-IP-toggle")
    set_field(page, "#Ether-IP-ttl", "3")
    expect(page.locator("#hex-22")).to_have_text("03")
    with page.expect_download() as download:
        page.keyboard.press("Control+s")
    assert download.value.suggested_filename == "tcp_http_v4.pcap"
    path = tmp_path / "saved.pcap"
    download.value.save_as(path)
    saved = raw_records(path)
    assert len(saved) == len(original)
    assert [r[:3] for r in saved] == [r[:3] for r in original]
    assert [r[3] for i, r in enumerate(saved) if i != 5] == [r[3] for i, r in enumerate(original) if i != 5]
    assert saved[5][3][22] == 3 and saved[5][3] == shown_bytes(page)
    expect(unsaved(page)).to_have_count(0)


def test_undo_and_redo_keys_and_the_text_undo_of_a_field_being_typed(page) -> None:  # noqa: ANN001
    template(page, "IPv6", "UDP")
    hlim, sport = page.locator("#Ether-IPv6-hlim"), page.locator("#Ether-IPv6-UDP-sport")
    first_hlim, first_sport = hlim.input_value(), sport.input_value()
    set_field(page, "#Ether-IPv6-hlim", "9")
    set_field(page, "#Ether-IPv6-UDP-sport", "5000")
    expect(sport).to_have_value("5000")
    page.keyboard.press("Control+z")
    expect(sport).to_have_value(first_sport)
    expect(hlim).to_have_value("9")
    page.keyboard.press("Control+z")
    expect(hlim).to_have_value(first_hlim)
    page.keyboard.press("Control+Shift+z")
    expect(hlim).to_have_value("9")
    page.keyboard.press("Control+y")
    expect(sport).to_have_value("5000")
    assert tab_state(page, "future.length") == 0
    # In a field being typed in, Ctrl+Z is the text's own undo, not the document's.
    sport.click()
    sport.press("End")
    page.keyboard.type("7")
    expect(sport).to_have_value("50007")
    page.keyboard.press("Control+z")
    expect(sport).to_have_value("5000")
    expect(hlim).to_have_value("9")
    assert tab_state(page, "future.length") == 0
    sport.press("Escape")
    page.keyboard.press("Control+z")  # no text typed any more: the document's undo
    expect(sport).to_have_value(first_sport)
    expect(page.locator("#menu-redo")).to_be_enabled()


def hold_builds(page) -> None:  # noqa: ANN001
    """From now on the server's builds wait until `release_builds`: edits pile up as they do when the
    server is slow to answer."""
    page.evaluate("""() => {
        const rpc = window.scapyrpcEditor.rpc, call = rpc.call.bind(rpc);
        window.heldBuilds = []; window.holdBuilds = true;
        rpc.call = (method, ...args) => method === 'build_pkt_ex' && window.holdBuilds
            ? new Promise((resolve, reject) =>
                window.heldBuilds.push(() => call(method, ...args).then(resolve, reject)))
            : call(method, ...args);
    }""")


def release_builds(page) -> int:  # noqa: ANN001
    """Let the held builds go, and those to come; how many were held."""
    return page.evaluate("""() => { window.holdBuilds = false;
        const held = window.heldBuilds.splice(0); held.forEach((f) => f()); return held.length; }""")


def test_edits_and_undo_made_while_the_server_is_busy_keep_each_other(page) -> None:  # noqa: ANN001
    """Two fields entered and an undo pressed before the server has answered the first: each edit is
    made on the document the one before makes (the second edit used to undo the first), the field left
    by a click is not entered twice (no undo step that does nothing), and the undo undoes the last."""
    template(page, "IPv4", "UDP")
    past = tab_state(page, "past.length")
    hold_builds(page)
    set_field(page, "#Ether-IP-ttl", "9")
    set_field(page, "#Ether-IP-UDP-dport", "4789")  # its click leaves the TTL, still on its way
    set_field(page, "#Ether-IP-id", "77")
    page.keyboard.press("Control+z")
    assert release_builds(page) == 1  # the others wait in the tab's queue
    expect(page.locator("#hex-22")).to_have_text("09")
    expect(page.locator("#Ether-IP-UDP-dport")).to_have_value("4789")
    expect(page.locator("#Ether-IP-id")).to_have_value("1")  # undone
    assert tab_state(page, "past.length") == past + 2 and tab_state(page, "future.length") == 1
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-IP-UDP-dport")).to_have_value("domain")  # 53
    expect(page.locator("#hex-22")).to_have_text("09")
    page.keyboard.press("Control+z")
    expect(page.locator("#hex-22")).to_have_text("40")  # the template's TTL, 64
    expect(page.locator("#doc-tab-0 .unsaved-mark")).to_have_count(0)


def test_tab_keys_new_next_previous_view_new_document_and_close(page) -> None:  # noqa: ANN001
    template(page, "ARP", "ARP-REQUEST")
    watch_prevented(page)
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+t")
    expect(page.locator(".doc-tab")).to_have_count(2)
    expect(page.locator("#doc-tab-1")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#doc-tab-1 .tab-name")).to_have_text("Untitled")
    page.keyboard.press("Alt+PageUp")
    expect(page.locator("#doc-tab-0")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#Ether-ARP-pdst")).to_be_visible()
    page.keyboard.press("Alt+PageUp")  # round the row
    expect(page.locator("#doc-tab-1")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Alt+PageDown")
    expect(page.locator("#doc-tab-0")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Alt+v")
    expect(page.locator("#view-fe")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Alt+v")
    expect(page.locator("#view-packet")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Alt+n")  # a new document in this tab, undoable
    expect(page.locator("section.layer")).to_have_count(1)
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("Untitled")
    page.keyboard.press("Control+z")
    expect(page.locator("#Ether-ARP-pdst")).to_be_visible()
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("ARP/ARP-REQUEST")
    page.keyboard.press("Alt+PageDown")
    page.keyboard.press("Alt+w")  # the new tab has no change: closed without asking
    expect(page.locator(".doc-tab")).to_have_count(1)
    expect(page.locator("#confirm-dialog")).to_have_count(0)
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("ARP/ARP-REQUEST")
    seen = {key: prevented(page, key) for key in ("t", "v", "n", "w", "pageup", "pagedown")}
    assert seen == {
        "t": [True],
        "v": [True, True],
        "n": [True],
        "w": [True],
        "pageup": [True] * 2,
        "pagedown": [True] * 2,
    }


def test_question_mark_lists_every_shortcut_of_the_table_and_escape_closes_it(page) -> None:  # noqa: ANN001
    template(page, "IPv4", "UDP")
    table = page.evaluate("() => window.scapyrpcShortcuts.value.map((r) => ({id: r.id, keys: r.keys, label: r.label}))")
    assert {"file-open", "file-save", "edit-undo", "edit-redo", "tab-new", "file-new", "hex-jump", "help"} <= {
        r["id"] for r in table
    }
    assert next(r["keys"] for r in table if r["id"] == "edit-redo") == ["Ctrl+Shift+Z", "Ctrl+Y"]
    page.locator("#Ether-IP-ttl").click()
    page.keyboard.type("?")  # typed in a field: text, not the help
    expect(page.locator("#help-overlay")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#Ether-IP-ttl")).to_have_value("64")
    page.locator("#Ether-IP-ttl").press("Tab")  # out of the field, onto the next one
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    overlay = page.locator("#help-overlay")
    expect(overlay).to_be_visible()
    expect(page.locator("#help-overlay-title")).to_have_text("Keyboard shortcuts")
    listed = overlay.locator("tr[data-shortcut]").evaluate_all(
        """(rows) => rows.map((row) => ({id: row.dataset.shortcut,
            keys: [...row.querySelectorAll('kbd')].map((k) => k.dataset.keys), label: row.cells[1].textContent}))"""
    )
    assert sorted(listed, key=lambda r: r["id"]) == sorted(table, key=lambda r: r["id"])
    expect(overlay.locator("#shortcut-edit-redo kbd")).to_have_text(["Ctrl+Shift+Z", "Ctrl+Y"])
    expect(overlay.locator("#shortcut-menu-move kbd").first).to_have_text("↓")
    # The dialog has the keyboard: Tab stays in it, and the editor's shortcuts wait.
    expect(page.locator("#help-close-button")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#help-close-button")).to_be_focused()
    page.keyboard.press("Alt+t")
    expect(page.locator(".doc-tab")).to_have_count(1)
    watch_prevented(page)
    page.keyboard.press("Control+s")  # not the document's save, nor the browser's "save the web page"
    assert prevented(page, "s") == [True]
    expect(overlay).to_be_visible()
    page.keyboard.press("Escape")
    expect(overlay).to_have_count(0)
    # The Help menu opens it too, with the key shown as in the table.
    page.click("#help-menu > summary")
    expect(page.locator("#menu-shortcuts kbd")).to_have_text("?")
    page.click("#menu-shortcuts")
    expect(overlay).to_be_visible()
    page.click("#help-close-button")
    expect(overlay).to_have_count(0)


def test_a_row_added_to_the_table_is_listed_and_dispatched(page) -> None:  # noqa: ANN001
    """keys.js addShortcut, as the capture's packet list adds "next packet": the overlay lists the row
    and the page's key handler runs it, not while a dialog is open."""
    page.evaluate("""async () => {
        const keys = await import('/static/js/keys.js');
        window.nextPackets = 0;
        keys.addShortcut({id: 'packet-next', keys: ['Alt+ArrowDown'], label: 'Next packet', group: 'Capture',
                          action: () => window.nextPackets++});
    }""")
    page.locator("#layers-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+ArrowDown")
    assert page.evaluate("window.nextPackets") == 1
    page.keyboard.press("?")
    row = page.locator("#help-overlay #shortcut-packet-next")
    expect(row).to_contain_text("Next packet")
    expect(row.locator("kbd")).to_have_text("Alt+↓")
    expect(page.locator("#help-overlay caption", has_text="Capture")).to_have_count(1)
    page.keyboard.press("Alt+ArrowDown")  # the dialog has the keyboard
    assert page.evaluate("window.nextPackets") == 1
    page.keyboard.press("Escape")
    expect(page.locator("#help-overlay")).to_have_count(0)


def test_menu_items_show_the_keys_of_the_table(page) -> None:  # noqa: ANN001
    table = dict(page.evaluate("() => window.scapyrpcShortcuts.value.map((r) => [r.id, r.keys[0]])"))
    items = {"menu-new": "file-new", "menu-new-tab": "tab-new", "menu-open": "file-open",
             "menu-save-trp": "file-save", "menu-undo": "edit-undo", "menu-redo": "edit-redo"}  # fmt: skip
    for item, row in items.items():
        expect(page.locator(f"#{item}")).to_have_attribute("aria-keyshortcuts", table[row])
        expect(page.locator(f"#{item} kbd")).to_have_text(table[row])


# ---- menus ------------------------------------------------------------------------------------


def test_arrow_keys_move_in_a_menu_and_escape_gives_the_focus_back_to_its_button(page) -> None:  # noqa: ANN001
    file_menu = page.locator("#file-menu")
    page.focus("#file-menu > summary")
    page.keyboard.press("ArrowDown")
    expect(file_menu).to_have_attribute("open", "")
    expect(page.locator("#file-menu > summary")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#menu-new")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#menu-new-tab")).to_be_focused()
    page.keyboard.press("End")
    expect(page.locator("#menu-export-profile")).to_be_focused()
    page.keyboard.press("ArrowUp")  # "Save all packets" is disabled without a capture: skipped
    expect(page.locator("#menu-save-pcap-all")).to_be_disabled()
    expect(page.locator("#menu-save-pcap")).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.press("ArrowDown")  # round to the first
    expect(page.locator("#menu-new")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#menu-export-profile")).to_be_focused()
    page.keyboard.press("Home")
    expect(page.locator("#menu-new")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#menu-open")).to_be_focused()
    page.keyboard.press("Escape")
    expect(file_menu).not_to_have_attribute("open", "")
    expect(page.locator("#file-menu > summary")).to_be_focused()
    expect(page.locator("#file-menu > summary")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowUp")  # from the button: opens on the last item
    expect(page.locator("#menu-export-profile")).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # "New tab", picked: the menu closes
    expect(page.locator(".doc-tab")).to_have_count(2)
    expect(file_menu).not_to_have_attribute("open", "")


def test_left_and_right_go_between_menus_and_open_template_folders(page) -> None:  # noqa: ANN001
    order = page.locator("nav.menus > details.menu").evaluate_all("(menus) => menus.map((m) => m.id)")
    assert order == ["file-menu", "templates-menu", "edit-menu", "action-menu", "help-menu"]
    page.focus("#file-menu > summary")
    page.keyboard.press("Enter")
    expect(page.locator("#menu-new")).to_be_focused()
    page.keyboard.press("ArrowRight")  # the next menu, open, on its first item: a template folder
    expect(page.locator("#file-menu")).not_to_have_attribute("open", "")
    expect(page.locator("#templates-menu")).to_have_attribute("open", "")
    folder = page.locator("#templates-menu .menu-folder").first
    expect(folder).to_be_focused()
    name = folder.inner_text()
    page.keyboard.press("ArrowRight")  # on a folder: opens it, on its first item
    expect(folder).to_have_attribute("aria-expanded", "true")
    first = page.locator("#templates-menu details.submenu[open] .submenu-items > *").first
    expect(first).to_be_focused()
    assert focused(page) and page.evaluate("() => document.activeElement.closest('details.submenu').open")
    page.keyboard.press("ArrowLeft")  # closes the folder, back on it
    expect(folder).to_be_focused()
    expect(folder).to_have_attribute("aria-expanded", "false")
    assert focused(page) == name
    page.keyboard.press("ArrowLeft")  # back to File, open on its first item
    expect(page.locator("#templates-menu")).not_to_have_attribute("open", "")
    expect(page.locator("#menu-new")).to_be_focused()
    page.keyboard.press("ArrowLeft")  # round the row: Help
    expect(page.locator("#menu-shortcuts")).to_be_focused()
    page.keyboard.press("ArrowLeft")  # Action
    expect(page.locator("#menu-expand-all")).to_be_focused()
    page.keyboard.press("ArrowLeft")  # Edit, whose items are disabled without a history: its button
    expect(page.locator("#edit-menu")).to_have_attribute("open", "")
    expect(page.locator("#edit-menu > summary")).to_be_focused()
    assert page.locator("details.menu[open]").count() == 1
    # A template picked from the keyboard.
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#templates-menu .menu-folder").first).to_be_focused()
    for _ in range(page.locator("#templates-menu .menu-folder").count()):
        if focused(page) == "IPv4":
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    while page.evaluate("() => document.activeElement.dataset.template") != "IPv4/ICMP":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("IPv4/ICMP")
    expect(page.locator("details.menu[open]")).to_have_count(0)
    expect(page.locator("#templates-menu > summary")).to_be_focused()


def test_menus_close_on_an_outside_click_or_focus_and_one_is_open_at_a_time(page) -> None:  # noqa: ANN001
    open_menus = page.locator("details[open]")
    page.click("#file-menu > summary")
    expect(page.locator("#file-menu")).to_have_attribute("open", "")
    page.click("#action-menu > summary")  # opening another closes the first
    expect(page.locator("#action-menu")).to_have_attribute("open", "")
    expect(open_menus).to_have_count(1)
    page.click("#Ether-dst")  # a click on a field closes it
    expect(open_menus).to_have_count(0)
    expect(page.locator("#Ether-dst")).to_be_focused()
    page.click("#templates-menu > summary")
    page.click("#templates-menu summary:text-is('IPv6')")  # a folder open in it
    expect(open_menus).to_have_count(2)
    page.locator("#hex-view").click(position={"x": 2, "y": 2})  # a click on the hex view
    expect(open_menus).to_have_count(0)
    page.click("#edit-menu > summary")
    expect(open_menus).to_have_count(1)
    page.keyboard.press("Tab")  # the focus leaves it: closed
    expect(open_menus).to_have_count(0)
    page.click("#help-menu > summary")
    page.click("#help-menu > summary")  # its button again: closed
    expect(open_menus).to_have_count(0)
    page.click("#file-menu > summary")
    page.mouse.click(640, 700)  # anywhere on the page
    expect(open_menus).to_have_count(0)


def test_a_fields_actions_menu_from_the_keyboard(page) -> None:  # noqa: ANN001
    template(page, "IPv4", "TCP")
    sport = page.locator("#Ether-IP-TCP-sport")
    expect(sport).to_have_value("1025")
    sport.click()
    page.keyboard.press("Shift+F10")
    popup = page.locator(".menu-popup")
    expect(popup).to_be_visible()
    items = popup.locator("[role=menuitem]")
    expect(items.first).to_be_focused()
    expect(page.locator("#Ether-IP-TCP-sport-menu")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("End")
    expect(items.last).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.first).to_be_focused()
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(sport).to_be_focused()
    expect(page.locator("#Ether-IP-TCP-sport-menu")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Alt+Enter")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_have_text("Set to default")
    page.keyboard.press("Enter")
    expect(popup).to_have_count(0)
    expect(sport).to_be_focused()
    expect(sport).to_have_value("ftp_data")  # Scapy's default sport, 20
    page.keyboard.press("Control+z")
    expect(sport).to_have_value("1025")
    expect(page.locator("#Ether-IP-TCP-sport-menu")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Shift+F10")
    expect(popup).to_be_visible()
    page.click("#Ether-IP-ttl")  # a click elsewhere closes it
    expect(popup).to_have_count(0)


# ---- Tab stops and the hex view --------------------------------------------------------------


def tab_stops(page, start: str, count: int) -> list[str]:  # noqa: ANN001
    page.focus(start)
    stops = [focused(page)]
    for _ in range(count - 1):
        page.keyboard.press("Tab")
        stops.append(focused(page))
    return stops


def test_each_field_is_one_tab_stop(page) -> None:  # noqa: ANN001
    """IPv4/TCP: Tab goes from field to field, each field's input once and its "⋮" button never;
    the only other stops are the layers' own buttons (a flags field's bit checkboxes are for the
    mouse: its input takes the flags by name)."""
    template(page, "IPv4", "TCP")
    inputs = page.locator(".field-input").evaluate_all("(inputs) => inputs.map((i) => i.id)")
    bits = page.locator(".sub-rows input[type=checkbox]").evaluate_all("(boxes) => boxes.map((b) => b.id)")
    layer_buttons = page.locator(".layer-title button:not(:disabled)").evaluate_all("(bs) => bs.map((b) => b.id)")
    assert len(bits) >= 9  # IP's DF and MF, TCP's flags
    stops = tab_stops(page, "#Ether-dst", len(inputs) + len(layer_buttons) - 1)
    assert stops[-1] == inputs[-1] == "Ether-IP-TCP-options"
    assert [s for s in stops if s in inputs] == inputs  # every field once, in order
    assert not [s for s in stops if s.endswith("-menu")]
    assert sorted(s for s in stops if s not in inputs) == sorted(layer_buttons[1:])
    ether = [s for s in stops if s.startswith("Ether-") and s.count("-") == 1]
    assert ether == ["Ether-dst", "Ether-src", "Ether-type"] and stops[:3] == ether  # three fields, three stops
    assert stops[3] == "Ether-IP-toggle"
    # The field rows: what is not a stop is still there for the mouse.
    expect(page.locator("#Ether-IP-TCP-sport-menu")).to_have_attribute("tabindex", "-1")
    for bit in bits:
        expect(page.locator(f"#{bit}")).to_have_attribute("tabindex", "-1")
    flags = page.locator("#Ether-IP-TCP-flags")
    was = flags.input_value()
    page.click("#Ether-IP-TCP-flags-SYN")  # the mouse still sets a bit
    expect(flags).not_to_have_value(was)


def test_alt_h_jumps_between_a_field_and_its_bytes(page, tmp_path: Path) -> None:  # noqa: ANN001
    """The DNS answer with a CNAME chain of dns.pcap, opened with its last layer only expanded: from
    the UDP source port to its bytes, and from a byte of the IP header to the TTL (its layer opened)."""
    source = CAPTURES / "dns.pcap"
    open_capture(page, source)
    select_packet(page, 7)
    expect(page.locator("#Ether-IP-fields")).to_be_hidden()
    page.click("#Ether-IP-UDP-toggle")
    sport = page.locator("#Ether-IP-UDP-sport")
    sport.click()
    watch_prevented(page)
    page.keyboard.press("Alt+h")
    hex_view = page.locator("#hex-view")
    expect(hex_view).to_be_focused()
    expect(hex_view).to_have_attribute("data-caret", "34")  # 14 + 20: the UDP header
    expect(page.locator("#hex-34")).to_have_class("hex-byte sel caret")
    for _ in range(12):
        page.keyboard.press("ArrowLeft")  # to byte 22: the IP TTL, in the collapsed IP layer
    expect(hex_view).to_have_attribute("data-caret", "22")
    page.keyboard.press("Alt+h")
    ttl = page.locator("#Ether-IP-ttl")
    expect(ttl).to_be_focused()
    expect(page.locator("#Ether-IP-fields")).to_be_visible()
    expect(ttl).to_have_value(str(shown_bytes(page)[22]))
    expect(page.locator(".field-row.selected")).to_have_attribute("data-field", "Ether-IP-ttl")
    page.keyboard.press("Alt+h")  # and back, on the TTL's byte
    expect(hex_view).to_be_focused()
    expect(hex_view).to_have_attribute("data-caret", "22")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # byte 25: the second byte of the IP checksum
    page.keyboard.press("Alt+h")
    expect(page.locator("#Ether-IP-chksum")).to_be_focused()
    assert prevented(page, "h") == [True, True, True, True]
