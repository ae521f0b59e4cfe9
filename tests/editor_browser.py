"""The editor in a real browser, for the tests: one server with the editor per test module, headless
Debian chromium driven by Playwright, and the helpers that act on the page as a user does. Importing
this module skips the importing test module when Playwright or chromium is missing."""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ServerProcess

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "tests" / "captures"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(
        f"browser tests skipped: no chromium at {CHROMIUM} (make test installs it with apt when root)",
        allow_module_level=True,
    )

expect = sync_api.expect


@pytest.fixture(scope="module")
def editor_url() -> Iterator[str]:
    srv = ServerProcess("--http", "0", "--test-methods", workers=2)
    try:
        url = next(line.split(" ", 1)[1] for line in srv.banner if line.startswith("Editor: "))
        yield url
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, editor_url):  # noqa: ANN001, ANN201 (playwright objects)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(editor_url)
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def set_field(page, selector: str, text: str) -> None:  # noqa: ANN001
    field = page.locator(selector)
    field.click()
    field.fill(text)
    field.press("Enter")


def append_layer(page, protocol: str) -> None:  # noqa: ANN001
    count = page.locator("section.layer").count()
    page.fill("#append-protocol-combobox", protocol)
    page.click("#append-protocol-button")
    expect(page.locator("section.layer")).to_have_count(count + 1)


def menu(page, menu_id: str, item: str) -> None:  # noqa: ANN001
    """Open a toolbar menu and pick an item by its exact text (or by `#id`)."""
    page.click(f"#{menu_id} > summary")
    page.click(item if item.startswith("#") else f'#{menu_id} .menu-items >> text="{item}"')


def new_tcp_packet(page) -> None:  # noqa: ANN001
    append_layer(page, "IP")
    append_layer(page, "TCP")
    expect(page.locator("#Ether-IP-TCP-seq")).to_have_value("0")


def has_class(css_class: str) -> re.Pattern:
    return re.compile(rf"(^|\s){re.escape(css_class)}(\s|$)")


def hex_byte(page, offset: int) -> str:  # noqa: ANN001
    return page.locator(f"#hex-{offset}").inner_text()


def tab_state(page, what: str) -> object:  # noqa: ANN001
    """`what` of the active tab's state (a JavaScript expression on the tab), as JSON."""
    return page.evaluate(f"() => window.scapyrpcEditor.tabs.value[window.scapyrpcEditor.active.value].{what}")


def raw_records(path: Path) -> list[tuple[int, int, int, bytes]]:
    """(seconds, fraction, original length, bytes) of every record of a classic pcap, read by hand."""
    data = path.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    records, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[at : at + 16])
        records.append((sec, frac, wirelen, data[at + 16 : at + 16 + caplen]))
        at += 16 + caplen
    return records


def shown_bytes(page) -> bytes:  # noqa: ANN001
    """The active tab's packet, as the editor shows it."""
    return base64.b64decode(tab_state(page, "result.value.binary"))


def template(page, folder: str, item: str) -> None:  # noqa: ANN001
    """Templates menu > `folder` > `item`: the tab is named after it."""
    page.click("#templates-menu > summary")
    page.click(f"#templates-menu summary:text-is('{folder}')")
    page.click(f"[data-template='{folder}/{item}']")
    expect(page.locator(".doc-tab.active .tab-name")).to_have_text(f"{folder}/{item}")


def open_capture(page, path: Path) -> None:  # noqa: ANN001
    """Open a pcap: its packet list is shown and its first packet is the document."""
    page.set_input_files("#open-file-input", str(path))
    expect(page.locator("#pcap-packet-0")).to_be_visible(timeout=30000)
    page.wait_for_function(
        "() => window.scapyrpcEditor.tabs.value[window.scapyrpcEditor.active.value].pcap.value?.shown === 0"
    )


def select_packet(page, index: int) -> None:  # noqa: ANN001
    """Scroll the packet list to row `index` (only the rows in view are in the page), click it, and
    wait until its packet is the document."""
    page.evaluate("(i) => { document.getElementById('packet-list-rows').scrollTop = i * 22; }", index)
    page.click(f"#pcap-packet-{index}")
    expect(page.locator(f"#pcap-packet-{index}")).to_have_attribute("aria-selected", "true")
    page.wait_for_function(
        "(i) => window.scapyrpcEditor.tabs.value[window.scapyrpcEditor.active.value].pcap.value.shown === i", arg=index
    )
