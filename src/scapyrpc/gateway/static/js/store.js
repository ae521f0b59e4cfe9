// Application state (signals) and every action on it: views read the signals and call these actions;
// the RPC calls, file reads, downloads and clipboard writes happen here. Every document edit is rebuilt
// by the server (build_pkt_ex) before it is accepted, and goes on the tab's undo history.
import { signal, batch } from "@preact/signals";
import { errorText } from "./rpc.js";
import { toBase64, fromBase64, base64ToText } from "./bytes.js";
import { loadDefinitions, computedField } from "./definitions.js";
import * as D from "./document.js";
import { summarize } from "./summary.js";
import { openCapture, captureRecords, packetRecord, keptUnsaved, markCaptureSaved, selectPacket } from "./capture.js";
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
    pcap: signal(null), // after opening a capture: its packet list and the packets edited (capture.js)
    preview: signal(null), // {count, packets, columns, rows, selected, pcap, note?, error?, revision} of simulate_vm
    stream: signal(null), // the TRex stream settings of a profile's stream (mode, isg, ...), as imported or last exported
    stale: signal({}), // "layer:field" -> the value Scapy computes, for computed fields set to another value
    saved: signal(doc), // the document as opened, loaded or saved last: the tab is unsaved while it shows another
    exact: null, // the bytes (base64) of a result shown as read, not rebuilt (a capture's packet): kept over a reload
    stack: null, // layer ids the suggestions were computed for
    queue: Promise.resolve(),
    generation: 0, // counts the documents shown with their own history (the packets of a capture)
    revision: signal(0),
  };
}

export function activeTab() {
  return app.tabs.value[app.active.value];
}

/** Whether the tab's document changed since it was opened, loaded or saved (undoing back to that
 * document makes it saved again); for a capture, any of its packets. */
export function isUnsaved(tab) {
  if (tab.doc.value !== tab.saved.value) return true;
  const capture = tab.pcap.value;
  return !!capture && keptUnsaved(capture);
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
 * a packet from a capture keeps the file's bytes until the user edits it. With `history` ({past,
 * future}), that becomes the tab's undo history (each packet of a capture has its own). */
export function show(tab, doc, result, history = null) {
  batch(() => {
    if (history) {
      tab.past = history.past;
      tab.future = history.future;
      tab.generation++;
    } else {
      remember(tab, doc);
    }
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

/** Run `run` after the tab's pending edits and loads, one at a time; resolves to what it resolves to. */
export function enqueue(tab, run) {
  const next = tab.queue.then(run, run);
  tab.queue = next.catch(() => false);
  return next;
}

/** Rebuild `change` and make it the tab's document; on failure keep the old one and show why at
 * `errorKey`. `change` is a document, or for an edit a function from the tab's document to the edited
 * one (or null: nothing to do), called when the edits before it are done: an edit made while another
 * is on its way to the server edits the document that one makes, rather than undoing it. An edit that
 * changes nothing adds no undo step. `applied` runs with the change, before the views see it (an undo
 * moving the document it leaves to the redo list: the Edit menu then shows Redo enabled). */
function apply(tab, change, { errorKey = ErrorKey.document, history = true, applied = null } = {}) {
  const generation = tab.generation;
  const run = async () => {
    if (tab.generation !== generation) return false; // made from a document another one replaced since
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
  return enqueue(tab, run);
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

/** Run `replace` (something loaded into the tab) now, or once confirmed when the tab is a capture with
 * changes not saved: undo brings back the packet shown, not the capture and its other edited packets. */
function confirmReplace(tab, replace) {
  const capture = tab.pcap.value;
  if (!capture || !isUnsaved(tab)) return replace();
  app.dialog.value = {
    kind: "confirm", title: `Replace ${capture.name}?`, message: "Its edited packets are not saved: they will be lost.",
    confirm: "Replace without saving", onConfirm: replace,
  };
  return Promise.resolve(false);
}

/** File > New: a new document in the tab (undoable; asks first in place of a capture with unsaved edits). */
export function clearDocument(tab) {
  return confirmReplace(tab, () => loadDocument(tab, D.newDocument(), "Untitled"));
}

export function openTemplate(tab, id) {
  return confirmReplace(tab, () => loadTemplate(tab, id));
}

async function loadTemplate(tab, id) {
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

/** A `.trp` document (JSON), a TRex profile (JSON, YAML; a Python one is refused by the server) or
 * a capture, told apart by the name, then the first byte, then the JSON's shape. A profile opens in
 * new tabs; anything else replaces the tab's document (asking first in place of a capture with
 * unsaved edits). */
export async function openFile(tab, file) {
  performance.mark("open-file");
  const bytes = await fileBytes(file);
  if (/\.(ya?ml|py)$/i.test(file.name)) {
    return openProfile(new TextDecoder().decode(bytes), file.name, /\.py$/i.test(file.name) ? {} : { format: "yaml" });
  }
  const looksJson = /\.(trp|json)$/i.test(file.name) || bytes[0] === 0x7b || bytes[0] === 0x5b; // `{` or `[`
  if (!looksJson) return confirmReplace(tab, () => openCapture(tab, bytes, file.name));
  const text = new TextDecoder().decode(bytes);
  let doc;
  try {
    const data = JSON.parse(text);
    if (isProfile(data)) return openProfile(text, file.name, { format: "json" });
    doc = D.fromTrp(data);
  } catch (err) {
    notify(`Cannot open ${file.name}: ${err.message}`);
    return false;
  }
  return confirmReplace(tab, () => loadDocument(tab, doc, file.name));
}

/** Whether JSON data is a TRex profile rather than a `.trp` document: TRex's stream list, or an
 * object with a stream's keys (TRex's `packet: {binary}`, the stateless GUI's `stream`) and no
 * document's `packet` list. */
function isProfile(data) {
  if (Array.isArray(data)) return true;
  if (!data || typeof data !== "object" || data.fileType !== undefined || Array.isArray(data.packet)) return false;
  return (data.packet !== null && typeof data.packet === "object") || ["stream", "vm", "mode"].some((k) => k in data);
}

/** A TRex profile (import_profile): one new tab per stream, named after it, with its packet and its
 * Field Engine; the first one is shown. The server's message when it refuses the file (a Python
 * profile: how to have TRex convert it). */
async function openProfile(text, name, options) {
  let streams;
  try {
    streams = await app.rpc.call("import_profile", text, options);
  } catch (err) {
    notify(`Cannot open ${name}: ${errorText(err)}`);
    return false;
  }
  if (!streams.length) {
    notify(`${name} holds no stream`);
    return false;
  }
  const made = streams.map((s, i) => {
    // the file's cache size, or none (not the editor's default for a new document): the same program
    const doc = D.fromPacket({ data: s.model }, D.feFromVm(s.field_engine, { instructions: [], global: { cache_size: "" } }));
    const tab = makeTab(s.name === null || s.name === "" ? `${name} #${i + 1}` : String(s.name), doc);
    tab.stream.value = Object.fromEntries(STREAM_SETTINGS.filter((k) => k in s).map((k) => [k, s[k]]));
    return tab;
  });
  batch(() => {
    app.tabs.value = [...app.tabs.value, ...made];
    app.active.value = app.tabs.value.length - made.length;
  });
  await Promise.all(made.map((tab) => apply(tab, tab.doc.value, { history: false })));
  const said = [`Opened ${made.length} stream${made.length === 1 ? "" : "s"} of ${name}`];
  const other = made.filter((tab, i) => !tab.result.value || tab.result.value.binary !== streams[i].binary);
  if (other.length) said.push(`not the file's bytes: ${other.map((t) => t.name.value).join(", ")}`);
  const dropped = [...new Set(streams.flatMap((s) => s.dropped || []))];
  if (dropped.length) said.push(`not carried over: ${dropped.join(", ")}`);
  notify(said.join("; "));
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
  if (!capture || capture.shown < 0) return [current];
  return all ? captureRecords(tab) : [packetRecord(capture.rows[capture.shown], current)];
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
  return (tab.name.value || "packet").replace(/\.(trp|pcap|pcapng|json|ya?ml|py)( #\d+)?$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "_");
}

export function saveTrp(tab) {
  download(`${baseName(tab)}.trp`, JSON.stringify(D.toTrp(tab.doc.value), null, 2), "application/json");
  markSaved(tab);
}

export async function savePcap(tab, all) {
  await tab.queue; // an edit still being built is saved with the others
  try {
    const doc = tab.doc.value;
    download(`${baseName(tab)}.pcap`, await pcapBytes(tab, all), "application/vnd.tcpdump.pcap");
    batch(() => {
      tab.saved.value = doc;
      if (all) markCaptureSaved(tab);
    });
  } catch (err) {
    notify(`Cannot write the pcap: ${errorText(err)}`);
  }
}

/** Save (Ctrl+S): a packet of a capture of several is saved with them, as that capture (pcap);
 * anything else as its document (.trp). */
export function save(tab) {
  const capture = tab.pcap.value;
  return capture && capture.rows.length > 1 ? savePcap(tab, true) : saveTrp(tab);
}

// ---- TRex profiles: File > Export as TRex profile… (the dialog: profiles.js) ------------------------

/** A stream's settings besides its packet and program, as export_profile takes them. */
const STREAM_SETTINGS = ["name", "mode", "isg", "next", "self_start", "random_seed", "mac_src_override_by_pkt", "mac_dst_override_mode"];
export const MODE_TYPES = ["continuous", "single_burst", "multi_burst"];
export const RATE_TYPES = ["pps", "bps_L1", "bps_L2", "percentage"];
const BURST_KEYS = { continuous: [], single_burst: ["total_pkts"], multi_burst: ["pkts_per_burst", "ibg", "count"] };
const PROFILE_FILES = { python: [".py", "text/x-python"], json: [".json", "application/json"], yaml: [".yaml", "application/yaml"] };

/** The export form of a tab's stream (every value as text): its settings as imported or last
 * exported, else TRex's defaults (continuous, 1 packet per second); `name` when it has none. */
function streamForm(tab, name) {
  const settings = tab.stream.value || {};
  const mode = settings.mode || {};
  const rateType = RATE_TYPES.find((k) => k in mode) || "pps";
  const text = (value, otherwise) => String(value ?? otherwise);
  const extra = {};
  for (const key of STREAM_SETTINGS.slice(2)) if (settings[key] !== undefined && settings[key] !== null) extra[key] = settings[key];
  return {
    tab, name: text(settings.name, name), type: MODE_TYPES.includes(mode.type) ? mode.type : "continuous", rateType,
    rate: text(mode[rateType], 1), total_pkts: text(mode.total_pkts, 1), pkts_per_burst: text(mode.pkts_per_burst, 1),
    ibg: text(mode.ibg, 0), count: text(mode.count, 1), extra,
  };
}

/** File > Export as TRex profile…: a form for every tab's stream (the dialog shows this tab's, or all). */
export function showExportProfile(tab) {
  const used = new Set();
  const forms = app.tabs.value.map((t) => {
    let name = t.name.value;
    for (let n = 2; used.has(name); n++) name = `${t.name.value} (${n})`; // names are unique in a profile
    used.add(name);
    return streamForm(t, name);
  });
  app.dialog.value = { kind: "export-profile", tab, forms };
}

/** A number typed in the form, or the text as typed (the server says why it is no number). */
function typedNumber(text) {
  const t = String(text).trim();
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
}

/** The stream export_profile takes for a form: the tab's document (as build_pkt_ex builds it) and the
 * form's settings; alone in the profile (`alone`), a stream has no next one. */
function profileStream(form, alone) {
  const doc = form.tab.doc.value;
  const mode = { type: form.type, [form.rateType]: typedNumber(form.rate) };
  for (const key of BURST_KEYS[form.type]) mode[key] = typedNumber(form[key]);
  const named = form.name.trim();
  const kept = form.tab.stream.value && form.tab.stream.value.name; // a number (TRex's pcap profiles) stays one
  const name = kept !== null && kept !== undefined && String(kept) === named ? kept : named || null;
  const stream = { name, model: D.toModel(doc), field_engine: D.feOptions(doc).field_engine, mode };
  for (const [key, value] of Object.entries(form.extra)) if (!(alone && key === "next")) stream[key] = value;
  return stream;
}

/** Export `forms` (in order) as a TRex profile in `format` and download it: `{file, notes}`, or
 * `{error}` with the server's message (it names the stream and the value: `streams[1].mode.pps`). */
export async function exportProfile(forms, format) {
  await Promise.all(forms.map((f) => f.tab.queue)); // edits still being built go in
  const streams = forms.map((f) => profileStream(f, forms.length === 1));
  let reply;
  try {
    reply = await app.rpc.call("export_profile", streams, { format });
  } catch (err) {
    return { error: errorText(err) };
  }
  forms.forEach((f, i) => (f.tab.stream.value = { ...f.extra, name: streams[i].name, mode: streams[i].mode }));
  const [extension, type] = PROFILE_FILES[format];
  const file = `${forms.length === 1 ? baseName(forms[0].tab) : "profile"}${extension}`;
  download(file, reply.text, type);
  const notes = reply.notes || [];
  notify(`Exported ${forms.length} stream${forms.length === 1 ? "" : "s"} as ${file}${notes.length ? ` (${notes.length} note${notes.length === 1 ? "" : "s"})` : ""}`);
  return { file, notes };
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
  tab.stream.value = saved.stream || null;
  const built = async () => {
    const ok = await rebuild(tab, saved.exact);
    const capture = tab.pcap.value; // a capture whose selected packet was not shown yet: it is now
    return capture && capture.shown < 0 ? selectPacket(tab, capture.index) : ok;
  };
  return { tab, built };
}

/** The result of `doc` shown from its `exact` bytes (reconstruct_pkt, as a capture's packet was shown
 * from read_pcap, when they are still what it dissects to), else built from the document. */
export async function resultOf(doc, exact) {
  if (exact) {
    try {
      const result = await app.rpc.call("reconstruct_pkt", exact, linkLayer(doc));
      if (result.binary === exact) return result;
    } catch {
      // built from the document below, as any other
    }
  }
  return build(doc);
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
