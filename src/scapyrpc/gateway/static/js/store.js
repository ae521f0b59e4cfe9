// Application state (signals) and every action on it: views read the signals and call these actions;
// the RPC calls, file reads, downloads and clipboard writes happen here. Every document edit is rebuilt
// by the server (build_pkt_ex) before it is accepted, and goes on the tab's undo history.
import { signal, batch } from "@preact/signals";
import { errorText } from "./rpc.js";
import { toBase64, fromBase64, base64ToText } from "./bytes.js";
import { loadDefinitions, computedField } from "./definitions.js";
import * as D from "./document.js";
import { summarize } from "./summary.js";
import { parsePacketText, firstLayer } from "./paste.js";

export const app = {
  rpc: null,
  defs: signal(null),
  templates: signal([]),
  tabs: signal([]),
  active: signal(0),
  notice: signal(""), // the last message for the whole app (errors that belong to no field)
  dialog: signal(null),
};

/** Where a tab shows an error: the keys of `tab.errors`. An edit made at a key clears its message. */
export const ErrorKey = {
  document: "document", // edits with no place of their own (undo, loads, recalculation); any success clears it
  append: "append", // the append-layer box
  hex: "hex", // bytes typed in the hex view
  fe: "fe", // field-engine parameters and instructions
  vm: "vm", // a raw VM imported into the field engine
  layer: (index) => `layer:${index}`, // moving or deleting layer `index`
  field: (index, fieldId) => `${index}:${fieldId}`, // field `fieldId` of layer `index`
};

let tabKeys = 0;
let notices = 0; // how many notices were given: an action clears on success only those given before it

/** A message for the whole app (an error that belongs to no field, or a confirmation). */
export function notify(text) {
  app.notice.value = text;
  notices++;
}

const docNames = new WeakMap(); // a document of an undo history -> the tab's name while it was current

/** The tab's name while `doc` of its history was current, or null (persist.js keeps it over a reload). */
export function historyName(doc) {
  return docNames.get(doc) ?? null;
}

function makeTab(name, doc) {
  return {
    key: ++tabKeys,
    name: signal(name),
    doc: signal(doc),
    result: signal(null),
    errors: signal({}),
    selection: signal(null), // {layer, field} or {start, length} of bytes
    collapsed: signal({}),
    view: signal("packet"),
    suggestions: signal([]),
    past: [],
    future: [],
    pcap: signal(null), // {records: [{binary, time, linktype, wirelen?}], index} after opening a capture
    preview: signal(null), // {count, packets, columns, rows, selected, pcap, note?, error?, revision} of simulate_vm
    stale: signal({}), // "layer:field" -> the value Scapy computes, for computed fields set to another value
    saved: signal(doc), // the document as opened, loaded or saved last: the tab is unsaved while it shows another
    exact: null, // the bytes (base64) of a result shown as read, not rebuilt (a capture's packet): kept over a reload
    stack: null, // layer ids the suggestions were computed for
    queue: Promise.resolve(),
    revision: signal(0),
  };
}

export function activeTab() {
  return app.tabs.value[app.active.value];
}

/** Whether the tab's document changed since it was opened, loaded or saved (undoing back to that
 * document makes it saved again). */
export function isUnsaved(tab) {
  return tab.doc.value !== tab.saved.value;
}

function markSaved(tab) {
  tab.saved.value = tab.doc.value;
}

function setError(tab, key, message) {
  const errors = { ...tab.errors.value };
  if (message) errors[key] = message;
  else delete errors[key];
  tab.errors.value = errors;
}

async function build(doc) {
  return app.rpc.call("build_pkt_ex", D.toModel(doc), D.feOptions(doc));
}

function remember(tab, doc) {
  if (tab.doc.value === doc) return;
  docNames.set(tab.doc.value, tab.name.value);
  tab.past.push(tab.doc.value);
  if (tab.past.length > 500) tab.past.shift();
  tab.future = [];
}

/** Make `doc` the tab's document with `result` as its bytes, as the server read them (no rebuild):
 * a packet from a capture keeps the file's bytes until the user edits it. */
function show(tab, doc, result) {
  batch(() => {
    remember(tab, doc);
    tab.doc.value = doc;
    tab.result.value = result;
    tab.exact = result.binary;
    tab.errors.value = {};
    tab.revision.value++;
  });
  if (tab === activeTab()) updateFragment(tab);
  tab.stack = null;
  refreshSuggestions(tab);
  checkStale(tab);
}

/** Rebuild `change` and make it the tab's document; on failure keep the old one and show why at
 * `errorKey`. `change` is a document, or for an edit a function from the tab's document to the edited
 * one (or null: nothing to do), called when the edits before it are done: an edit made while another
 * is on its way to the server edits the document that one makes, rather than undoing it. An edit that
 * changes nothing adds no undo step. `applied` runs with the change, before the views see it (an undo
 * moving the document it leaves to the redo list: the Edit menu then shows Redo enabled). */
function apply(tab, change, { errorKey = ErrorKey.document, history = true, applied = null } = {}) {
  const run = async () => {
    const noticesBefore = notices;
    let doc = change;
    let built;
    try {
      if (typeof change === "function") {
        doc = change(tab.doc.value);
        if (!doc) return false;
        if (history && JSON.stringify(doc) === JSON.stringify(tab.doc.value)) {
          batch(() => {
            tab.errors.value = {};
            if (notices === noticesBefore) app.notice.value = "";
          });
          return true;
        }
      }
      built = await build(doc);
    } catch (err) {
      setError(tab, errorKey, errorText(err));
      return false;
    }
    batch(() => {
      if (history) remember(tab, doc);
      if (applied) applied();
      tab.doc.value = doc;
      tab.result.value = built;
      tab.errors.value = {}; // the messages of earlier actions are out of date once one succeeds
      if (notices === noticesBefore) app.notice.value = "";
      tab.exact = null;
      tab.revision.value++;
    });
    checkStale(tab);
    if (tab === activeTab()) updateFragment(tab);
    const stack = doc.layers.map((l) => l.id).join("/");
    if (stack !== tab.stack) {
      tab.stack = stack;
      refreshSuggestions(tab); // the valid next layers depend on the stack only
    }
    return true;
  };
  const next = tab.queue.then(run, run);
  tab.queue = next.catch(() => false);
  return next;
}

function updateFragment(tab) {
  history.replaceState(null, "", "#" + D.encodeFragment(tab.doc.value));
}

async function refreshSuggestions(tab) {
  try {
    const model = D.toModel(tab.doc.value);
    tab.suggestions.value = model.length ? await app.rpc.call("get_payload_classes", model) : [];
  } catch {
    tab.suggestions.value = [];
  }
}

export function editField(tab, index, fieldId, value) {
  return apply(tab, (doc) => D.withField(doc, index, fieldId, value), { errorKey: ErrorKey.field(index, fieldId) });
}

/** A message at a field (null clears it): a value refused before it reaches the server. */
export function setFieldError(tab, index, fieldId, message) {
  setError(tab, ErrorKey.field(index, fieldId), message);
}

/** "Generate": a random value for the field, drawn by the server (build_pkt with a RANDOM value). */
export async function generateField(tab, index, fieldId) {
  try {
    const layerId = tab.doc.value.layers[index].id;
    const r = await app.rpc.call("build_pkt", [{ id: layerId, fields: [{ id: fieldId, value: { vtype: "RANDOM" } }] }]);
    const f = D.builtField(r.data[0], fieldId);
    await editField(tab, index, fieldId, D.isPrimitive(f.value) ? f.hvalue : f.value);
  } catch (err) {
    setFieldError(tab, index, fieldId, errorText(err));
  }
}

/** Undo (past -> future) or redo (future -> past): the other document is rebuilt, then made current
 * (once the edits before it are done: an undo pressed while an edit is on its way undoes that edit). */
async function travel(tab, back) {
  const from = () => (back ? tab.past : tab.future); // read when it runs: an edit makes a new redo list
  const to = () => (back ? tab.future : tab.past);
  let target = null;
  let current = null;
  const pick = (doc) => {
    if (!from().length) return null;
    target = from().pop();
    current = doc;
    docNames.set(current, tab.name.value);
    return target;
  };
  const applied = () => {
    to().push(current);
    if (docNames.has(target)) tab.name.value = docNames.get(target); // the name follows the document
  };
  if (!(await apply(tab, pick, { history: false, applied })) && target) from().push(target);
}

export const undo = (tab) => travel(tab, true);
export const redo = (tab) => travel(tab, false);

/** Append the protocol named by `text` (its id or its name). */
export function appendLayer(tab, text) {
  const defs = app.defs.value;
  const protocol = defs.protocol(text.trim());
  if (!protocol) {
    const near = defs.similar(text.trim(), tab.suggestions.value);
    setError(tab, ErrorKey.append, `unknown protocol '${text.trim()}'${near.length ? `: did you mean ${near.join(", ")}?` : ""}`);
    return Promise.resolve(false);
  }
  return apply(tab, (doc) => D.withLayers(doc, [...doc.layers, { id: protocol.id, fields: {} }]), { errorKey: ErrorKey.append });
}

export function moveLayer(tab, index, delta) {
  const target = index + delta;
  const move = (doc) => {
    const layers = [...doc.layers];
    if (index < 1 || target < 1 || target >= layers.length) return null;
    [layers[index], layers[target]] = [layers[target], layers[index]];
    return D.withLayers(doc, layers);
  };
  if (!move(tab.doc.value)) return Promise.resolve(false);
  return apply(tab, move, { errorKey: ErrorKey.layer(index) });
}

export function deleteLayer(tab, index) {
  const remove = (doc) => (index < 1 || index >= doc.layers.length ? null : D.withLayers(doc, doc.layers.filter((_, i) => i !== index)));
  if (!remove(tab.doc.value)) return Promise.resolve(false);
  return apply(tab, remove, { errorKey: ErrorKey.layer(index) });
}

/** The document with every field Scapy computes from the content (lengths, checksums, counts) unset;
 * addresses stay as they are. */
function recalculated(doc) {
  const defs = app.defs.value;
  const layers = doc.layers.map((layer) => {
    const fields = {};
    for (const [fid, value] of Object.entries(layer.fields)) {
      if (!computedField(defs.field(layer.id, fid))) fields[fid] = value;
    }
    return { ...layer, fields };
  });
  return D.withLayers(doc, layers);
}

/** "Recalculate": let Scapy compute every length, checksum and count again. */
export function recalculateAutoValues(tab) {
  return apply(tab, recalculated);
}

/** One stale field fixed: unset, so Scapy computes it. */
export function fixStale(tab, index, fieldId) {
  return editField(tab, index, fieldId, undefined);
}

/** Flag the computed fields whose value (from a capture, the hex view, or typed) differs from what
 * Scapy computes for the packet: `tab.stale` gets the computed value of each. */
async function checkStale(tab) {
  const doc = tab.doc.value;
  const result = tab.result.value;
  const revision = tab.revision.value;
  const defs = app.defs.value;
  const set = [];
  doc.layers.forEach((layer, i) => {
    for (const fid of Object.keys(layer.fields)) if (computedField(defs.field(layer.id, fid))) set.push([i, fid]);
  });
  if (!set.length || !result) {
    if (Object.keys(tab.stale.value).length) tab.stale.value = {};
    return;
  }
  let computed;
  try {
    computed = await app.rpc.call("build_pkt", D.toModel(recalculated(doc)));
  } catch {
    computed = null; // the flags are a hint: without the server's answer there are none
  }
  if (tab.revision.value !== revision) return;
  const stale = {};
  for (const [i, fid] of set) {
    const now = D.builtField(D.builtLayer(doc, result, i), fid);
    const want = computed && D.builtField(D.builtLayer(doc, computed, i), fid);
    if (now && want && JSON.stringify(now.value) !== JSON.stringify(want.value)) stale[`${i}:${fid}`] = want.hvalue;
  }
  tab.stale.value = stale;
}

/** The model that makes reconstruct_pkt dissect bytes as this document's first layer (its link type). */
function linkLayer(doc) {
  return doc.layers.length ? [{ id: doc.layers[0].id }] : null;
}

/** Binary editing: the bytes are dissected again (reconstruct_pkt) and become the document. */
export async function setPacketBytes(tab, bytes) {
  let result;
  try {
    result = await app.rpc.call("reconstruct_pkt", toBase64(bytes), linkLayer(tab.doc.value));
  } catch (err) {
    setError(tab, ErrorKey.hex, errorText(err));
    return false;
  }
  return apply(tab, (doc) => D.fromPacket(result, doc.fe), { errorKey: ErrorKey.hex });
}

/** A field-engine edit: `change` from the tab's document to the edited one. */
function editFe(tab, change) {
  return apply(tab, change, { errorKey: ErrorKey.fe });
}

export function setFeGlobal(tab, id, value) {
  return editFe(tab, (doc) => D.withFeGlobal(doc, id, value));
}

function appendInstructions(tab, added) {
  return editFe(tab, (doc) => D.withInstructions(doc, [...doc.fe.instructions, ...added]));
}

export function addInstruction(tab, id) {
  return appendInstructions(tab, [D.newInstruction(id, app.defs.value)]);
}

export function setInstructionParameter(tab, index, pid, value) {
  return editFe(tab, (doc) => D.withInstructionParameter(doc, index, pid, value));
}

export function removeInstruction(tab, index) {
  return editFe(tab, (doc) => D.withInstructions(doc, doc.fe.instructions.filter((_, i) => i !== index)));
}

/** A field-engine template on a field: its instructions are appended and the field engine is shown. */
export function addFieldTemplate(tab, index, fieldId, template, built, meta) {
  const added = D.templateInstructions(tab.doc.value, index, fieldId, template, app.defs.value, built, meta);
  const done = appendInstructions(tab, added);
  showView(tab, "fe");
  return done;
}

/** The values the server offers for a field-engine parameter, as [value, label] pairs. */
export async function parameterChoices(tab, pid) {
  try {
    const doc = tab.doc.value;
    const reply = await app.rpc.call("load_instruction_parameter_values", D.toModel(doc), D.feOptions(doc), pid);
    return Object.entries((reply && reply.map) || {});
  } catch {
    return [];
  }
}

/** Import a raw VM (JSON text, as in a TRex stream): the server decompiles it into instructions. */
export async function importVm(tab, text) {
  setError(tab, ErrorKey.vm, null);
  let vm;
  try {
    vm = JSON.parse(text);
  } catch (err) {
    setError(tab, ErrorKey.vm, `not JSON: ${err.message}`);
    return false;
  }
  let decompiled;
  try {
    decompiled = await app.rpc.call("decompile_vm_raw", tab.result.value.binary, vm);
  } catch (err) {
    setError(tab, ErrorKey.vm, errorText(err));
    return false;
  }
  return apply(tab, (doc) => D.withFe(doc, D.feFromVm(decompiled, doc.fe)), { errorKey: ErrorKey.vm });
}

export function select(tab, selection) {
  tab.selection.value = selection;
}

export function toggleLayer(tab, path) {
  tab.collapsed.value = { ...tab.collapsed.value, [path]: !tab.collapsed.value[path] };
}

export function showView(tab, view) {
  tab.view.value = view;
}

export function collapseAll(tab, collapsed, except = -1) {
  const state = {};
  tab.doc.value.layers.forEach((_, i) => (state[D.layerPath(tab.doc.value, i)] = collapsed && i !== except));
  tab.collapsed.value = state;
}

/** A new tab on `doc`, made active; resolves once the document is built. */
export function openTab(name = "Untitled", doc = D.newDocument()) {
  const tab = makeTab(name, doc);
  app.tabs.value = [...app.tabs.value, tab];
  app.active.value = app.tabs.value.length - 1;
  return apply(tab, doc, { history: false });
}

export function activateTab(index) {
  app.active.value = index;
  updateFragment(activeTab());
}

/** The tab `delta` away from the active one, round the row. */
export function nextTab(delta) {
  const count = app.tabs.value.length;
  activateTab((app.active.value + delta + count) % count);
}

export function closeTab(index) {
  if (index < 0 || index >= app.tabs.value.length) return;
  const tabs = app.tabs.value.filter((_, i) => i !== index);
  if (!tabs.length) tabs.push(makeTab("Untitled", D.newDocument()));
  const active = app.active.value;
  batch(() => {
    app.tabs.value = tabs;
    app.active.value = Math.min(index < active ? active - 1 : active, tabs.length - 1); // the same tab stays active
  });
  const tab = activeTab();
  if (!tab.result.value) apply(tab, tab.doc.value, { history: false });
  else updateFragment(tab);
}

/** Close tab `index`; one with unsaved changes asks first (the editor's confirm dialog). */
export function requestCloseTab(index) {
  const tab = app.tabs.value[index];
  if (!tab || !isUnsaved(tab)) return closeTab(index);
  app.dialog.value = {
    kind: "confirm", title: `Close ${tab.name.value}?`, message: "Its changes are not saved: they will be lost.",
    confirm: "Close without saving", onConfirm: () => closeTab(app.tabs.value.indexOf(tab)),
  };
}

/** Replace a tab's document by a loaded one (file, template, pcap); undoable like any edit. */
async function loadDocument(tab, doc, name) {
  const ok = await apply(tab, doc);
  if (ok) {
    tab.pcap.value = null;
    tab.saved.value = doc;
    if (name) tab.name.value = name;
    collapseAll(tab, false);
  }
  return ok;
}

/** File > New: a new document in the tab (undoable). */
export function clearDocument(tab) {
  return loadDocument(tab, D.newDocument(), "Untitled");
}

export async function openTemplate(tab, id) {
  try {
    const text = base64ToText(await app.rpc.call("get_template", { id }));
    await loadDocument(tab, D.fromTrp(JSON.parse(text)), id); // "IPv4/UDP", not "UDP": both families have one
  } catch (err) {
    notify(`Cannot load template ${id}: ${errorText(err)}`);
  }
}

async function fileBytes(file) {
  return new Uint8Array(await file.arrayBuffer());
}

export async function fileBase64(file) {
  return toBase64(await fileBytes(file));
}

/** A `.trp` document (JSON) or a capture, told apart by the name or the first byte. */
export async function openFile(tab, file) {
  const bytes = await fileBytes(file);
  const looksJson = /\.(trp|json)$/i.test(file.name) || bytes[0] === 0x7b;
  if (!looksJson) return openPcap(tab, bytes, file.name);
  try {
    const doc = D.fromTrp(JSON.parse(new TextDecoder().decode(bytes)));
    return loadDocument(tab, doc, file.name);
  } catch (err) {
    notify(`Cannot open ${file.name}: ${err.message}`);
    return false;
  }
}

async function openPcap(tab, bytes, name) {
  let results;
  try {
    results = await app.rpc.call("read_pcap", toBase64(bytes));
  } catch (err) {
    notify(`Cannot open ${name}: ${errorText(err)}`);
    return false;
  }
  if (!results.length) {
    notify(`${name} holds no packet`);
    return false;
  }
  const records = results.map(({ binary, time, linktype, wirelen }) => ({ binary, time, linktype, wirelen }));
  if (results.length === 1) return choosePcapPacket(tab, results, records, 0, name);
  app.dialog.value = { kind: "pcap", tab, results, records, name };
  return true;
}

/** Open packet `index` of a capture as it was read: its bytes are the file's until the user edits it. */
export async function choosePcapPacket(tab, results, records, index, name) {
  closeDialog();
  const doc = D.fromPacket(results[index]);
  batch(() => {
    show(tab, doc, results[index]);
    tab.pcap.value = { records, index };
    tab.saved.value = doc;
    tab.name.value = results.length > 1 ? `${name} #${index + 1}` : name;
  });
  collapseAll(tab, true, doc.layers.length - 1);
  return true;
}

/** File > Paste packet…: the paste box, empty. */
export function showPasteBox() {
  app.dialog.value = { kind: "paste", text: "", error: "" };
}

/** Pasted text (paste.js reads it) becomes a packet in a new tab, dissected from its first layer
 * (Ethernet, or IPv4/IPv6 without a link header) and shown with exactly the pasted bytes, as a
 * capture's packet is. Text that is no packet leaves the paste box open with it and the reason. */
export async function openPastedText(text) {
  const parsed = parsePacketText(text);
  const refuse = (error) => {
    app.dialog.value = { kind: "paste", text, error };
    return false;
  };
  if (parsed.error) return refuse(parsed.error);
  const layer = firstLayer(parsed.bytes);
  let result;
  try {
    result = await app.rpc.call("reconstruct_pkt", toBase64(parsed.bytes), [{ id: layer }]);
  } catch (err) {
    return refuse(`the server cannot read these ${parsed.bytes.length} bytes (${parsed.format}) as ${layer}: ${errorText(err)}`);
  }
  closeDialog();
  const doc = D.fromPacket(result);
  const tab = makeTab(`Pasted ${layer}`, doc);
  batch(() => {
    app.tabs.value = [...app.tabs.value, tab];
    app.active.value = app.tabs.value.length - 1;
    show(tab, doc, result);
    app.notice.value = `Pasted ${parsed.bytes.length} bytes (${parsed.format}), read from ${layer}`;
  });
  collapseAll(tab, true, doc.layers.length - 1);
  return true;
}

/** The capture records to save: the current packet (as built now) alone, or in place among all the
 * packets read with it; each keeps its time and link type, unedited ones their bytes as read. */
function pcapRecords(tab, all) {
  const current = tab.result.value.binary;
  const capture = tab.pcap.value;
  if (!capture) return [current];
  const read = capture.records[capture.index];
  const here = read.binary === current ? read : { time: read.time, linktype: read.linktype, binary: current };
  return all ? capture.records.map((r, i) => (i === capture.index ? here : r)) : [here];
}

async function pcapBytes(tab, all) {
  return fromBase64(await app.rpc.call("write_pcap", pcapRecords(tab, all)));
}

function download(name, bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function baseName(tab) {
  return (tab.name.value || "packet").replace(/\.(trp|pcap|pcapng|json)( #\d+)?$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "_");
}

export function saveTrp(tab) {
  download(`${baseName(tab)}.trp`, JSON.stringify(D.toTrp(tab.doc.value), null, 2), "application/json");
  markSaved(tab);
}

export async function savePcap(tab, all) {
  try {
    const doc = tab.doc.value;
    download(`${baseName(tab)}.pcap`, await pcapBytes(tab, all), "application/vnd.tcpdump.pcap");
    tab.saved.value = doc;
  } catch (err) {
    notify(`Cannot write the pcap: ${errorText(err)}`);
  }
}

/** Save (Ctrl+S): a packet of a capture of several is saved with them, as that capture (pcap);
 * anything else as its document (.trp). */
export function save(tab) {
  const capture = tab.pcap.value;
  return capture && capture.records.length > 1 ? savePcap(tab, true) : saveTrp(tab);
}

/** Preview the stream: the first `count` packets TRex will send (simulate_vm), dissected (read_pcap of
 * the simulation's pcap) and summarized by the fields that vary. */
export async function previewStream(tab, count) {
  const result = tab.result.value;
  const program = result && result.field_engine && result.field_engine.instructions;
  const revision = tab.revision.value;
  if (!program || !program.instructions.length) {
    tab.preview.value = { count, packets: [], columns: [], rows: [], selected: 0, error: "the field engine has no instruction to run" };
    return false;
  }
  try {
    const simulated = await app.rpc.call("simulate_vm", result.binary, program, { count, format: "pcap" });
    const results = await app.rpc.call("read_pcap", simulated.pcap);
    const { columns, rows } = summarize(results);
    tab.preview.value = {
      count, columns, rows, selected: 0, pcap: simulated.pcap, note: simulated.note || "",
      packets: results.map((r) => r.binary), revision,
    };
    return true;
  } catch (err) {
    tab.preview.value = { count, packets: [], columns: [], rows: [], selected: 0, error: errorText(err), revision };
    return false;
  }
}

export function selectPreview(tab, index) {
  const preview = tab.preview.value;
  if (preview && index >= 0 && index < preview.packets.length) tab.preview.value = { ...preview, selected: index };
}

export function savePreview(tab) {
  const preview = tab.preview.value;
  if (preview && preview.pcap) download(`${baseName(tab)}-preview.pcap`, fromBase64(preview.pcap), "application/vnd.tcpdump.pcap");
}

export function showScapyCode(tab) {
  app.dialog.value = { kind: "code", code: D.scapyCode(tab.doc.value, tab.result.value) };
}

export function closeDialog() {
  app.dialog.value = null;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    notify("Copied");
  } catch {
    notify("Select the text and copy it");
  }
}

/** The page's link carries the document; without clipboard access it is shown to copy by hand. */
export async function copyLink() {
  try {
    await navigator.clipboard.writeText(location.href);
    notify("Link copied");
  } catch {
    app.dialog.value = { kind: "code", code: location.href, title: "Link to this packet" };
  }
}

/** A tab brought back after a reload (persist.js): its document, history, views and capture; its
 * packet is built again, or shown again from its exact bytes (reconstruct_pkt, as a capture's packet
 * was shown from read_pcap) when it was shown as read. */
function restoreTab(saved) {
  const tab = makeTab(saved.name, saved.doc);
  tab.past = saved.past;
  tab.future = saved.future;
  for (const [doc, name] of saved.names) docNames.set(doc, name);
  tab.saved.value = saved.saved;
  tab.view.value = saved.view;
  tab.collapsed.value = saved.collapsed;
  tab.pcap.value = saved.pcap;
  return { tab, built: () => rebuild(tab, saved.exact) };
}

async function rebuild(tab, exact) {
  const doc = tab.doc.value;
  if (exact) {
    try {
      const result = await app.rpc.call("reconstruct_pkt", exact, linkLayer(doc));
      if (result.binary !== exact) throw new Error("other bytes");
      if (tab.doc.value === doc && !tab.result.value) show(tab, doc, result); // unless edited meanwhile
      return true;
    } catch {
      // built from the document below, as any other
    }
  }
  return apply(tab, doc, { history: false });
}

/** Whether the link `fragment` is the tab's document or one of its history: a reload while an edit
 * was on its way reloads the link of the document before it, which is no other document to open. */
function inHistory(tab, fragment) {
  return [tab.doc.value, ...tab.past, ...tab.future].some((doc) => D.encodeFragment(doc) === fragment);
}

/** Start-up: the definitions (retried until the server gives them), then the tabs of before a reload
 * (`restored`, from persist.js) or else a first tab; the link's document (or a new one) opens in a tab
 * unless it is the restored active tab's (or in its history). Resolves once the tabs are built. */
export async function start(rpc, hash, restored = null) {
  app.rpc = rpc;
  let doc = null;
  let problem = ""; // said once the first document is built (a success clears older messages)
  try {
    doc = D.decodeFragment(hash);
  } catch (err) {
    problem = `The link holds no readable document (${err.message}); a new one was opened`;
  }
  for (let attempt = 0; !app.defs.value; attempt++) {
    try {
      app.defs.value = await loadDefinitions();
    } catch (err) {
      notify(`Cannot load protocol definitions (${err.message}); retrying…`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
  const builds = [];
  if (restored && restored.tabs.length) {
    const made = restored.tabs.map(restoreTab);
    batch(() => {
      app.tabs.value = made.map((m) => m.tab);
      app.active.value = restored.active;
    });
    builds.push(...made.map((m) => m.built()));
    if (doc && !inHistory(activeTab(), D.encodeFragment(doc))) builds.push(openTab("Untitled", doc));
  } else {
    builds.push(openTab("Untitled", doc || D.newDocument()));
  }
  app.rpc.call("get_templates").then((t) => (app.templates.value = t), () => {});
  await Promise.all(builds);
  if (problem) notify(problem);
}
