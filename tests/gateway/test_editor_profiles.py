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

from scapyrpc.packets import service

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
    page.wait_for_function(
        "(n) => window.scapyrpcEditor.tabs.value[window.scapyrpcEditor.active.value].doc.value.fe.instructions.length"
        " === n",
        arg=count + 2,
    )
    expect(page.locator("#fe-compiled")).to_contain_text("write_flow_var")
    page.click("#view-packet")


def model_of(doc: dict) -> list[dict]:
    """A document's packet model, as the editor sends it (document.js toModel)."""

    def value(v: object) -> object:
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if isinstance(v, dict) else str(v)

    return [
        {"id": layer["id"], "fields": [{"id": k, "value": value(v)} for k, v in layer["fields"].items()]}
        for layer in doc["layers"]
    ]


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


# ---- open -------------------------------------------------------------------------------------

DNS_QUERY = corpus_frame("dns.pcap", 2)  # Ether/IP/UDP/DNS, 192.0.2.1 -> 192.0.2.2
VLAN_PING = corpus_frame("vlan.pcap", 2)  # Ether/Dot1Q (VLAN 100)/IP/ICMP
IP_SRC_VM = {
    "instructions": [
        {"type": "flow_var", "name": "ip_src", "size": 4, "op": "inc", "init_value": 3221225985,
         "min_value": 3221225985, "max_value": 3221226238, "step": 1},
        {"type": "write_flow_var", "name": "ip_src", "pkt_offset": 26, "add_value": 0, "is_big_endian": True},
        {"type": "fix_checksum_ipv4", "pkt_offset": 14},
    ],
    "split_by_var": "",
}  # fmt: skip
VLAN_VM = """\
      instructions:
      - {type: flow_var, name: vid, size: 2, op: inc, init_value: 100, min_value: 100, max_value: 109, step: 1}
      - {type: write_mask_flow_var, name: vid, pkt_offset: 14, pkt_cast_size: 2, mask: 4095, shift: 0,
         add_value: 0, is_big_endian: true}
      cache_size: 500
"""

# TRex's flat form, as STLProfile.to_json() writes it, by hand: the DNS query from random sources,
# the VLAN ping as a burst after it.
FLAT_JSON = [
    {"name": "dns-query", "next": "ping", "flags": 3, "isg": 10.0, "self_start": True, "enabled": True,
     "mode": {"type": "single_burst", "total_pkts": 1000, "rate": {"type": "pps", "value": 2000}},
     "packet": {"binary": b64(DNS_QUERY), "meta": ""}, "vm": IP_SRC_VM, "flow_stats": {"enabled": False}},
    {"name": "ping", "self_start": False, "flags": 0,
     "mode": {"type": "multi_burst", "pkts_per_burst": 4, "ibg": 1000.0, "count": 5,
              "rate": {"type": "percentage", "value": 10}},
     "packet": {"binary": b64(VLAN_PING), "meta": ""}, "vm": {"instructions": []}},
]  # fmt: skip

# The stateless GUI's form: each stream's keys under `stream:`; here the VLAN id varies.
GUI_YAML = f"""\
---
- name: "vlan-sweep"
  stream:
    enabled: true
    flags: 1
    flow_stats: {{enabled: true, rule_type: "stats", stream_id: 7}}
    isg: 0.0
    mode:
      rate: {{type: "pps", value: 4000.0}}
      type: "continuous"
    packet:
      binary: "{b64(VLAN_PING)}"
      meta: ""
    self_start: true
    vm:
{VLAN_VM}- name: "dns"
  stream:
    mode: {{type: single_burst, total_pkts: 3, rate: {{type: pps, value: 1}}}}
    packet: {{binary: "{b64(DNS_QUERY)}"}}
"""


def tab_names(page) -> list[str]:  # noqa: ANN001
    return page.locator(".doc-tab .tab-name").all_inner_texts()


def check_opened(page, text: str, fmt: str, names: list[str], frames: list[bytes]) -> list[tuple[bytes, dict]]:  # noqa: ANN001
    """The profile opened in new tabs after the first: one per stream, named after it, the first of
    them shown, each with the file's bytes and the program the server reads from the file."""
    expect(page.locator(".doc-tab")).to_have_count(1 + len(names))
    assert tab_names(page) == ["Untitled", *names]
    assert active(page) == 1
    wanted = imported(text, fmt)
    assert [binary for binary, _ in wanted] == frames
    for i, (binary, program) in enumerate(wanted):
        page.click(f"#doc-tab-{i + 1}")
        expect(page.locator(f"#doc-tab-{i + 1}")).to_have_attribute("aria-selected", "true")
        page.wait_for_function(
            "() => !!window.scapyrpcEditor.tabs.value[window.scapyrpcEditor.active.value].result.value"
        )
        assert shown(page) == (binary, program)
        assert tab_state(page, "result.value.binary") == b64(binary)  # built from the document, not copied
    return wanted


def test_a_trex_json_profile_opens_one_tab_per_stream_with_its_field_engine(page, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "dns-then-ping.json"
    text = json.dumps(FLAT_JSON, indent=4)
    path.write_text(text)
    open_file(page, path)
    expect(page.locator("#notice")).to_have_text("Opened 2 streams of dns-then-ping.json")
    wanted = check_opened(page, text, "json", ["dns-query", "ping"], [DNS_QUERY, VLAN_PING])
    assert [i["type"] for i in wanted[0][1]["instructions"]] == ["flow_var", "write_flow_var", "fix_checksum_ipv4"]
    assert [(i["pkt_offset"]) for i in wanted[0][1]["instructions"][1:]] == [26, 14]
    assert wanted[1][1]["instructions"] == []

    page.click("#doc-tab-1")
    expect(page.locator("#view-fe")).to_have_text("Field Engine (3)")
    assert [layer["id"] for layer in tab_state(page, "doc.value.layers")] == ["Ether", "IP", "UDP", "DNS"]
    page.click("#view-fe")
    expect(page.locator("#fe-0 h3")).to_contain_text("STLVmFlowVar")
    expect(page.locator("#fe-1 h3")).to_contain_text("STLVmWrFlowVar")
    expect(page.locator("#fe-2 h3")).to_contain_text("STLVmFixIpv4")
    expect(page.locator("#fe-0-name")).to_have_value("ip_src")
    expect(page.locator("#fe-error")).to_have_count(0)

    open_export(page)  # the file's settings, ready to go out again
    page.check("#export-scope-all")
    expect(page.locator("#export-stream-1-type")).to_have_value("single_burst")
    expect(page.locator("#export-stream-1-rate")).to_have_value("2000")
    expect(page.locator("#export-stream-1-total_pkts")).to_have_value("1000")
    expect(page.locator("#export-stream-2-type")).to_have_value("multi_burst")
    expect(page.locator("#export-stream-2-rate-type")).to_have_value("percentage")
    expect(page.locator("#export-stream-2-ibg")).to_have_value("1000")
    page.fill("#export-stream-0-name", "idle")
    name, again = export(page, "json")
    streams = json.loads(again)
    assert name == "profile.json"
    assert [s["name"] for s in streams] == ["idle", "dns-query", "ping"]
    for out, original in zip(streams[1:], FLAT_JSON, strict=True):  # what the dialog does not show goes out too
        for key in ("mode", "isg", "next", "self_start", "flags"):
            assert out.get(key) == original.get(key, {"isg": 0.0, "self_start": True}.get(key)), key
    assert [(base64.b64decode(s["packet"]["binary"]), s["vm"]) for s in streams[1:]] == wanted


def test_a_stateless_gui_yaml_profile_opens_one_tab_per_stream(page, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "gui.yml"
    path.write_text(GUI_YAML)
    open_file(page, path)
    expect(page.locator("#notice")).to_have_text("Opened 2 streams of gui.yml; not carried over: flow_stats")
    wanted = check_opened(page, GUI_YAML, "yaml", ["vlan-sweep", "dns"], [VLAN_PING, DNS_QUERY])
    assert [i["type"] for i in wanted[0][1]["instructions"]] == ["flow_var", "write_mask_flow_var"]
    page.click("#doc-tab-1")
    assert [layer["id"] for layer in tab_state(page, "doc.value.layers")][:3] == ["Ether", "Dot1Q", "IP"]
    expect(page.locator("#view-fe")).to_have_text("Field Engine (2)")
    page.click("#view-fe")
    expect(page.locator("#fe-1 h3")).to_contain_text("STLVmWrMaskFlowVar")
    expect(page.locator("#fe-1-mask")).to_have_value("4095")


def test_a_trex_flat_yaml_profile_opens_one_tab_per_stream(page, tmp_path: Path) -> None:  # noqa: ANN001
    """TRex's own YAML (`stl-sim --yaml`, `start -f profile.yaml`): the flat list, as YAML."""
    text = "# dns from random sources, then a VLAN ping\n" + yaml.safe_dump(FLAT_JSON, sort_keys=False)
    path = tmp_path / "dns-then-ping.yaml"
    path.write_text(text)
    open_file(page, path)
    expect(page.locator("#notice")).to_have_text("Opened 2 streams of dns-then-ping.yaml")
    wanted = check_opened(page, text, "yaml", ["dns-query", "ping"], [DNS_QUERY, VLAN_PING])
    assert wanted == imported(json.dumps(FLAT_JSON), "json")


def test_a_python_profile_is_refused_with_the_servers_message(page, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "udp_1pkt.py"
    udp = [{"model": [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}]}]
    path.write_text(service.export_profile(udp, {"format": "python"})["text"])
    open_file(page, path)
    notice = page.locator("#notice")
    expect(notice).to_contain_text("Cannot open udp_1pkt.py: Python profiles are code")
    expect(notice).to_contain_text("stl-sim -f profile.py --json")
    expect(page.locator(".doc-tab")).to_have_count(1)


def test_a_trp_json_still_opens_as_a_document_and_a_broken_profile_says_where(page, tmp_path: Path) -> None:  # noqa: ANN001
    doc = {
        "fileType": "trex-packet-editor",
        "version": "1.0.0",
        "packet": [{"id": "Ether", "fields": []}, {"id": "IP", "fields": [{"id": "ttl", "value": "9"}]}],
    }
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    open_file(page, path)
    expect(page.locator("#doc-tab-0 .tab-name")).to_have_text("doc.json")
    expect(page.locator("#Ether-IP-ttl")).to_have_value("9")
    expect(page.locator(".doc-tab")).to_have_count(1)

    broken = [dict(FLAT_JSON[1], mode={"type": "continuous", "rate": {"type": "pps", "value": 0}})]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    open_file(page, path)
    expect(page.locator("#notice")).to_have_text(
        "Cannot open broken.json: streams[0].mode.rate.value: must be more than 0"
    )
    expect(page.locator(".doc-tab")).to_have_count(1)


# ---- the dialog: errors, notes, keyboard --------------------------------------------------------


def test_a_bad_rate_is_said_in_the_dialog_at_its_field(page) -> None:  # noqa: ANN001
    template(page, "IPv4/TCP")
    open_export(page)
    rate = page.locator("#export-stream-0-rate")
    error = page.locator("#export-stream-0-error")
    for typed, message in (
        ("fast", "streams[0].mode.pps: must be a number"),
        ("0", "streams[0].mode.pps: must be more than 0"),
        ("", "streams[0].mode.pps: must be a number"),
    ):
        page.fill("#export-stream-0-rate", typed)
        page.click("#export-profile-button")
        expect(error).to_have_text(message)
        expect(rate).to_have_attribute("aria-invalid", "true")
        expect(rate).to_have_attribute("aria-describedby", "export-stream-0-error")
    page.select_option("#export-stream-0-rate-type", "percentage")
    page.fill("#export-stream-0-rate", "150")
    page.click("#export-profile-button")
    expect(error).to_have_text("streams[0].mode.percentage: must be at most 100")
    page.select_option("#export-stream-0-type", "multi_burst")
    page.fill("#export-stream-0-rate", "50")
    expect(error).to_have_count(0)  # an edit clears it
    page.fill("#export-stream-0-count", "2.5")
    page.click("#export-profile-button")
    expect(error).to_have_text("streams[0].mode.count: must be an integer")
    expect(page.locator("#export-stream-0-count")).to_have_attribute("aria-invalid", "true")
    expect(rate).not_to_have_attribute("aria-invalid", "true")
    page.fill("#export-stream-0-count", "2")
    name, text = export(page, "json")
    assert name == "IPv4_TCP.json"
    assert json.loads(text)[0]["mode"]["rate"] == {"type": "percentage", "value": 50}


def test_two_streams_of_one_name_are_said_at_the_second(page) -> None:  # noqa: ANN001
    template(page, "ARP/ARP-REQUEST")
    new_tab(page)
    template(page, "ARP/ARP-REPLY")
    open_export(page)
    page.check("#export-scope-all")
    page.fill("#export-stream-1-name", "ARP/ARP-REQUEST")
    page.click("#export-profile-button")
    expect(page.locator("#export-stream-1-error")).to_have_text(
        "streams[1].name: 'ARP/ARP-REQUEST' is also the name of stream 0"
    )
    expect(page.locator("#export-stream-1-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#export-stream-0-error")).to_have_count(0)
    page.fill("#export-stream-1-name", "")  # no name: TRex needs none
    name, text = export(page, "yaml")
    assert [s.get("name") for s in yaml.safe_load(text)] == ["ARP/ARP-REQUEST", None]


def test_the_servers_notes_stay_in_the_dialog(page) -> None:  # noqa: ANN001
    """A program that does not compile is said under its stream. A variable that starts above its
    minimum: TRex's JSON loader starts it at the minimum, which the server notes; the file is
    downloaded all the same and the note stays shown."""
    template(page, "IPv4/UDP")
    simple_variable(page, "Ether-IP-src")
    page.click("#view-fe")
    set_field(page, "#fe-0-init_value", "1.2.3.4")  # outside the range: the program does not compile
    expect(page.locator("#fe-0-error")).to_contain_text("init_value must be between")
    open_export(page)
    page.click("#export-profile-button")
    expect(page.locator("#export-stream-0-error")).to_contain_text(
        "streams[0].field_engine: init_value must be between"
    )
    page.keyboard.press("Escape")
    top = page.locator("#fe-0-max_value").input_value()
    set_field(page, "#fe-0-init_value", top)
    expect(page.locator("#fe-0-init_value")).to_have_value(top)
    page.click("#view-packet")
    binary, program = shown(page)
    open_export(page)
    name, text = export(page, "json")
    notes = page.locator("#export-notes")
    expect(notes).to_contain_text(f"Saved {name}")
    expect(notes).to_contain_text("streams[0]: TRex's JSON and YAML loader starts variable 'IP_src' at")
    expect(page.locator("#export-cancel-button")).to_have_text("Close")
    expect(page.locator("#notice")).to_have_text("Exported 1 stream as IPv4_UDP.json (1 note)")
    assert json.loads(text)[0]["vm"] == program
    page.click("#export-cancel-button")
    expect(page.locator("#export-profile")).to_have_count(0)


def test_the_export_dialog_from_the_keyboard(page) -> None:  # noqa: ANN001
    """File menu from the keyboard to the export item; the dialog has the focus, Escape closes it and
    gives the focus back; Enter in a field exports."""
    template(page, "ICMP echo request")
    page.focus("#file-menu > summary")
    page.keyboard.press("Enter")
    expect(page.locator("#menu-new")).to_be_focused()
    for _ in range(20):
        if page.evaluate("() => document.activeElement.id") == "menu-export-profile":
            break
        page.keyboard.press("ArrowDown")
    expect(page.locator("#menu-export-profile")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#export-profile")).to_be_visible()
    expect(page.locator("#export-format-python")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#export-profile")).to_have_count(0)
    expect(page.locator("#file-menu > summary")).to_be_focused()

    open_export(page)
    page.check("#export-format-yaml")
    page.fill("#export-stream-0-rate", "100")
    with page.expect_download() as info:
        page.locator("#export-stream-0-rate").press("Enter")
    assert info.value.suggested_filename == "ICMP_echo_request.yaml"
    text = Path(info.value.path()).read_text()
    assert yaml.safe_load(text)[0]["mode"] == {"rate": {"type": "pps", "value": 100}, "type": "continuous"}
    assert imported(text, "yaml") == [shown(page)]


def test_a_streams_settings_survive_a_reload(page, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "two.json"
    path.write_text(json.dumps(FLAT_JSON))
    open_file(page, path)
    expect(page.locator(".doc-tab")).to_have_count(3)
    page.wait_for_function("() => (sessionStorage.getItem('scapyrpc-editor') || '').includes('multi_burst')")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert tab_names(page) == ["Untitled", "dns-query", "ping"]
    page.click("#doc-tab-2")
    open_export(page)
    expect(page.locator("#export-stream-0-name")).to_have_value("ping")
    expect(page.locator("#export-stream-0-type")).to_have_value("multi_burst")
    expect(page.locator("#export-stream-0-count")).to_have_value("5")
    name, text = export(page, "yaml")
    (stream,) = yaml.safe_load(text)
    assert name == "ping.yaml"
    assert stream["self_start"] is False and "next" not in stream
    assert base64.b64decode(stream["packet"]["binary"]) == VLAN_PING


def test_numbered_streams_keep_their_numbers(page, tmp_path: Path) -> None:  # noqa: ANN001
    """TRex's pcap profiles name streams by number, and `next` names them so: they go out as numbers."""
    numbered = [dict(FLAT_JSON[0], name=1, next=2), dict(FLAT_JSON[1], name=2)]
    path = tmp_path / "numbered.json"
    path.write_text(json.dumps(numbered))
    open_file(page, path)
    expect(page.locator(".doc-tab")).to_have_count(3)
    assert tab_names(page) == ["Untitled", "1", "2"]
    open_export(page)
    page.check("#export-scope-all")
    expect(page.locator("#export-stream-1-name")).to_have_value("1")
    page.fill("#export-stream-0-name", "idle")
    name, text = export(page, "json")
    assert [(s["name"], s.get("next")) for s in json.loads(text)] == [("idle", None), (1, 2), (2, None)]
