"""TRex profiles in the editor, in a real browser: File > Export as TRex profile… (Python, JSON or
YAML; this tab or one stream per tab, each with its mode and rate) downloads what export_profile
writes for the tabs' documents, and File > Open reads TRex's JSON and YAML profiles into one tab per
stream, Field Engine included; a Python profile is refused with the server's message. Each file is
checked with the server's own code: the bytes and program the editor shows are the profile's."""

from __future__ import annotations

import ast
import base64
import json
import struct
from pathlib import Path

import yaml

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
from profile_checks import check_python
from scapyrpc.packets import service

EXPORT = "Export as TRex profile…"


# ---- helpers ----------------------------------------------------------------------------------


def corpus_frame(name: str, index: int) -> bytes:
    from scapy.utils import RawPcapReader

    with RawPcapReader(str(CAPTURES / name)) as reader:
        for i, (frame, _) in enumerate(reader):
            if i == index:
                return frame
    raise AssertionError(f"{name} has no packet {index}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def template(page, template_id: str) -> None:  # noqa: ANN001
    """Templates > (folder >) item, into the active tab."""
    page.click("#templates-menu > summary")
    if "/" in template_id:
        page.click(f"#templates-menu summary:text-is('{template_id.split('/')[0]}')")
    page.click(f"[data-template='{template_id}']")
    expect(page.locator(f"#doc-tab-{active(page)} .tab-name")).to_have_text(template_id)


def active(page) -> int:  # noqa: ANN001
    return int(page.evaluate("() => window.scapyrpcEditor.active.value"))


def simple_variable(page, field: str) -> None:  # noqa: ANN001
    """Field engine: Simple variable on a field (`Ether-IP-src`): a variable and its write; back to
    the packet view."""
    count = len(tab_state(page, "doc.value.fe.instructions"))
    page.click(f"#{field}-menu")
    page.click("text=Field engine: Simple variable")
    expect(page.locator("#fe-compiled")).to_contain_text("write_flow_var")
    assert len(tab_state(page, "doc.value.fe.instructions")) == count + 2
    page.click("#view-packet")


def model_of(doc: dict) -> list[dict]:
    """A document's packet model, as the editor sends it (document.js toModel)."""

    def value(v: object) -> object:
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if isinstance(v, dict) else str(v)

    return [{"id": layer["id"], "fields": [{"id": k, "value": value(v)} for k, v in layer["fields"].items()]} for layer in doc["layers"]]


def shown(page) -> tuple[bytes, dict]:  # noqa: ANN001
    """The active tab's bytes and compiled program, as the editor built them (build_pkt_ex). A
    capture's packet is shown as read: its document must build the same bytes, and its program is
    build_pkt_ex's for that document."""
    result = tab_state(page, "result.value")
    binary = base64.b64decode(result["binary"])
    if "field_engine" in result:
        return binary, result["field_engine"]["instructions"]
    doc = tab_state(page, "doc.value")
    fe = doc["fe"]
    global_parameters = {k: v for k, v in fe["global"].items() if v not in ("", None)}
    options = {"field_engine": {"instructions": fe["instructions"], "global_parameters": global_parameters}}
    built = service.build_pkt_ex(model_of(doc), options)
    assert base64.b64decode(built["binary"]) == binary
    return binary, built["field_engine"]["instructions"]


def open_export(page) -> None:  # noqa: ANN001
    menu(page, "file-menu", EXPORT)
    expect(page.locator("#export-profile")).to_be_visible()


def export(page, fmt: str) -> tuple[str, str]:  # noqa: ANN001
    """Pick `fmt` in the open export dialog, export: the downloaded file's name and text."""
    page.check(f"#export-format-{fmt}")
    with page.expect_download() as info:
        page.click("#export-profile-button")
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text()


def fill_stream(page, index: int, **values: str) -> None:  # noqa: ANN001
    """Set stream `index`'s form: `type` and `rate_type` are chosen, the others typed."""
    for key, value in values.items():
        target = f"#export-stream-{index}-{key.replace('_type', '-type') if key == 'rate_type' else key}"
        if key in ("type", "rate_type"):
            page.select_option(target, value)
        else:
            page.fill(target, value)


def imported(text: str, fmt: str) -> list[tuple[bytes, dict]]:
    """What the server makes of a profile: each stream's bytes, and the program its Field Engine
    compiles to again (build_pkt_ex of the imported model and field engine)."""
    out = []
    for stream in service.import_profile(text, {"format": fmt}):
        again = service.build_pkt_ex(stream["model"], {"field_engine": stream["field_engine"]})
        assert again["binary"] == stream["binary"]
        out.append((base64.b64decode(stream["binary"]), again["field_engine"]["instructions"]))
    return out


def open_file(page, path: Path) -> None:  # noqa: ANN001
    page.set_input_files("#open-file-input", str(path))


# ---- export -----------------------------------------------------------------------------------


def test_a_template_with_a_field_engine_exports_to_json_and_yaml(page) -> None:  # noqa: ANN001
    """IPv4/UDP with a variable on IP.src and one on UDP.sport, as a single burst of 100 at 10 pps:
    the JSON and the YAML hold the editor's bytes and program and that mode, and the server reads
    them back into the same; the dialog keeps the settings for the next export."""
    template(page, "IPv4/UDP")
    simple_variable(page, "Ether-IP-src")
    simple_variable(page, "Ether-IP-UDP-sport")
    binary, program = shown(page)
    assert len(program["instructions"]) == 4

    open_export(page)
    expect(page.locator("#export-stream-0-name")).to_have_value("IPv4/UDP")
    expect(page.locator("#export-stream-0-rate")).to_have_value("1")
    expect(page.locator("#export-stream-0-total_pkts")).to_have_count(0)  # continuous: no burst fields
    fill_stream(page, 0, type="single_burst", rate="10", total_pkts="100")
    name, text = export(page, "json")
    assert name == "IPv4_UDP.json"
    expect(page.locator("#export-profile")).to_have_count(0)  # no notes: the dialog closes
    expect(page.locator("#notice")).to_have_text("Exported 1 stream as IPv4_UDP.json")
    (stream,) = json.loads(text)
    assert base64.b64decode(stream["packet"]["binary"]) == binary
    assert stream["vm"] == program
    assert stream["mode"] == {"rate": {"type": "pps", "value": 10}, "type": "single_burst", "total_pkts": 100}
    assert stream["name"] == "IPv4/UDP"
    assert imported(text, "json") == [(binary, program)]

    open_export(page)  # as last exported
    expect(page.locator("#export-stream-0-type")).to_have_value("single_burst")
    expect(page.locator("#export-stream-0-rate")).to_have_value("10")
    expect(page.locator("#export-stream-0-total_pkts")).to_have_value("100")
    fill_stream(page, 0, rate_type="bps_L2", rate="1e6")
    name, text = export(page, "yaml")
    assert name == "IPv4_UDP.yaml"
    (stream,) = yaml.safe_load(text)
    assert base64.b64decode(stream["packet"]["binary"]) == binary
    assert stream["vm"] == program
    assert stream["mode"] == {"rate": {"type": "bps_L2", "value": 1000000}, "type": "single_burst", "total_pkts": 100}
    assert imported(text, "yaml") == [(binary, program)]


def open_frame(page, tmp_path: Path, frame: bytes, name: str) -> None:  # noqa: ANN001
    """`frame` as a one-packet Ethernet capture, opened in the active tab as the file has it."""
    path = tmp_path / name
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    path.write_bytes(header + struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
    open_file(page, path)
    expect(page.locator(f"#doc-tab-{active(page)} .tab-name")).to_have_text(name)
    assert shown(page)[0] == frame


def new_tab(page) -> None:  # noqa: ANN001
    count = page.locator(".doc-tab").count()
    page.click("#new-tab-button")
    expect(page.locator(".doc-tab")).to_have_count(count + 1)


def test_every_tab_exports_as_one_stream_each_with_its_mode(page, tmp_path: Path) -> None:  # noqa: ANN001
    """Three tabs, a real capture among them: the TCP-SYN template, the HTTP POST of
    tcp_http_v4.pcap, IPv6/UDP with a variable on its source port. Every tab goes out, each with its
    own mode, in YAML and in Python; the Python parses and builds the same bytes and program."""
    template(page, "TCP-SYN")
    wanted = [shown(page)]
    new_tab(page)
    open_frame(page, tmp_path, corpus_frame("tcp_http_v4.pcap", 5), "http.pcap")
    wanted.append(shown(page))
    new_tab(page)
    template(page, "IPv6/UDP")
    simple_variable(page, "Ether-IPv6-UDP-sport")
    wanted.append(shown(page))
    assert wanted[2][1]["instructions"]

    open_export(page)
    expect(page.locator(".export-stream")).to_have_count(1)  # this tab's
    expect(page.locator("#export-stream-0-name")).to_have_value("IPv6/UDP")
    page.check("#export-scope-all")
    expect(page.locator(".export-stream")).to_have_count(3)
    names = [page.locator(f"#export-stream-{i}-name").input_value() for i in range(3)]
    assert names == ["TCP-SYN", "http.pcap", "IPv6/UDP"]
    fill_stream(page, 0, type="continuous", rate_type="percentage", rate="25")
    fill_stream(page, 1, type="single_burst", rate="500", total_pkts="20")
    fill_stream(page, 2, type="multi_burst", rate="1000", pkts_per_burst="5", count="3", ibg="250.5")
    name, text = export(page, "yaml")
    assert name == "profile.yaml"
    streams = yaml.safe_load(text)
    assert [s["name"] for s in streams] == names
    assert [s["mode"] for s in streams] == [
        {"rate": {"type": "percentage", "value": 25}, "type": "continuous"},
        {"rate": {"type": "pps", "value": 500}, "type": "single_burst", "total_pkts": 20},
        {"rate": {"type": "pps", "value": 1000}, "type": "multi_burst", "pkts_per_burst": 5, "ibg": 250.5, "count": 3},
    ]
    assert [(base64.b64decode(s["packet"]["binary"]), s["vm"]) for s in streams] == wanted
    assert imported(text, "yaml") == wanted

    open_export(page)
    page.check("#export-scope-all")
    expect(page.locator("#export-stream-2-pkts_per_burst")).to_have_value("5")  # kept per tab
    name, text = export(page, "python")
    assert name == "profile.py"
    tree = ast.parse(text)
    assert any(isinstance(node, ast.FunctionDef) and node.name == "register" for node in tree.body)
    check_python(text, wanted)
    assert "STLTXCont(percentage=25)" in text and "STLTXSingleBurst(" in text and "STLTXMultiBurst(" in text
