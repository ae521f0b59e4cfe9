// A capture is a packet list: opening a pcap lists every packet (read_pcap_summaries: one line each, not
// dissected), and the selected packet is the tab's document. A packet is dissected when it is shown
// (read_pcap of a file holding that record alone) and keeps the file's bytes until it is edited; a
// packet left after an edit keeps its document, bytes, undo history and open layers, and is written
// rebuilt when the capture is saved, the others as they were read. The whole state survives a reload
// (persist.js stores what storedCapture gives and restoredCapture takes back).
import { batch } from "@preact/signals";
import { errorText } from "./rpc.js";
import { toBase64, fromBase64 } from "./bytes.js";
import * as D from "./document.js";
import { app, show, enqueue, collapseAll, notify, resultOf } from "./store.js";

let captures = 0;

/** The tab's capture state: {id, name, rows, index (the selected row), shown (the row whose packet is
 * the document, -1 before the first), original (that packet's document as read), kept (row -> {doc,
 * result, binary, exact, past, future, collapsed, original, saved} of packets left after an edit;
 * `result` is null for one brought back by a reload until it is shown again), start (the first
 * packet's time, for times relative to it)}. */
function newCapture(name, rows) {
  return { id: ++captures, name, rows, index: 0, shown: -1, original: null, kept: new Map(), start: seconds(rows[0].time) };
}

/** Open the bytes of a pcap or pcapng file as the tab's packet list, its first packet shown. */
export async function openCapture(tab, bytes, name) {
  let rows;
  const file = toBase64(bytes);
  performance.mark("capture-read");
  try {
    rows = await app.rpc.call("read_pcap_summaries", file);
  } catch (err) {
    notify(`Cannot open ${name}: ${errorText(err)}`);
    return false;
  }
  performance.measure("capture-summaries", "capture-read");
  if (!rows.length) {
    notify(`${name} holds no packet`);
    return false;
  }
  tab.pcap.value = newCapture(name, rows); // the tab takes the capture's name with its first packet
  requestAnimationFrame(() => setTimeout(listed)); // once the list is painted
  return selectPacket(tab, 0);
}

/** Performance entries for the console and the figures of benchmarks/README.md: "capture-opened" is
 * from the file chosen to its packet list painted, "capture-summaries" the read_pcap_summaries call. */
function listed() {
  performance.mark("capture-listed");
  if (performance.getEntriesByName("open-file").length) performance.measure("capture-opened", "open-file", "capture-listed");
}

/** Select row `index` at once; its packet becomes the document after the tab's pending edits (a later
 * selection made meanwhile wins). Resolves to whether the packet was shown. */
export function selectPacket(tab, index) {
  const capture = tab.pcap.value;
  if (!capture || !(index >= 0 && index < capture.rows.length)) return Promise.resolve(false);
  if (capture.index !== index) tab.pcap.value = { ...capture, index };
  return enqueue(tab, () => showPacket(tab, capture.id, index));
}

/** The next (`delta` 1) or previous (-1) packet; `delta` may be larger (a page of rows). */
export function stepPacket(tab, delta) {
  const capture = tab.pcap.value;
  if (!capture) return Promise.resolve(false);
  return selectPacket(tab, Math.max(0, Math.min(capture.rows.length - 1, capture.index + delta)));
}

async function showPacket(tab, id, index) {
  const current = () => tab.pcap.value && tab.pcap.value.id === id && tab.pcap.value.index === index;
  if (!current()) return false;
  if (tab.pcap.value.shown === index) return true;
  let state = tab.pcap.value.kept.get(index);
  try {
    if (!state) {
      const [result] = await app.rpc.call("read_pcap", singleRecordPcap(tab.pcap.value.rows[index]));
      const doc = D.fromPacket(result);
      state = { doc, result, binary: result.binary, exact: result.binary, past: [], future: [], collapsed: null, original: doc, saved: doc };
    } else if (!state.result) { // brought back by a reload: built again, or shown again from its exact bytes
      state = { ...state, result: await resultOf(state.doc, state.exact) };
    }
  } catch (err) {
    notify(`Cannot show packet ${index + 1}: ${errorText(err)}`);
    return false;
  }
  if (!current()) return false;
  const capture = tab.pcap.value;
  const kept = new Map(capture.kept);
  if (capture.shown >= 0) {
    const left = tab.result.value ? leaving(tab, capture.original) : capture.kept.get(capture.shown); // not built yet: as it was
    if (left) kept.set(capture.shown, left);
    else kept.delete(capture.shown);
  }
  batch(() => {
    show(tab, state.doc, state.result, state);
    tab.exact = state.exact;
    tab.saved.value = state.saved;
    tab.pcap.value = { ...capture, shown: index, kept, original: state.original };
    if (capture.shown < 0) tab.name.value = capture.name;
    if (state.collapsed) tab.collapsed.value = state.collapsed;
    else collapseAll(tab, true, state.doc.layers.length - 1);
  });
  return true;
}

/** What to keep of the packet being left: its state if its document is not the file's (or it has edits
 * to redo, or it is unsaved), else null: it is dissected again when it is shown again. */
function leaving(tab, original) {
  const doc = tab.doc.value;
  if (doc === original && !tab.future.length && tab.saved.value === doc) return null;
  return {
    doc, result: tab.result.value, binary: tab.result.value.binary, exact: tab.exact, past: tab.past, future: tab.future,
    collapsed: tab.collapsed.value, original, saved: tab.saved.value,
  };
}

/** Whether a packet of the capture other than the one shown has changes not saved. */
export function keptUnsaved(capture) {
  for (const [index, state] of capture.kept) if (index !== capture.shown && state.doc !== state.saved) return true;
  return false;
}

/** After the whole capture was saved: every packet kept is saved as it is now. */
export function markCaptureSaved(tab) {
  const capture = tab.pcap.value;
  if (!capture) return;
  const kept = new Map();
  for (const [index, state] of capture.kept) kept.set(index, { ...state, saved: state.doc });
  tab.pcap.value = { ...capture, kept };
}

/** Whether row `index` now differs from the file: the shown packet's bytes, or a kept packet's. */
export function isEdited(tab, capture, index) {
  const binary = index === capture.shown ? tab.result.value?.binary : capture.kept.get(index)?.binary;
  return !!binary && binary !== capture.rows[index].binary;
}

/** How many packets differ from the file. */
export function editedCount(tab, capture) {
  let count = capture.shown >= 0 && isEdited(tab, capture, capture.shown) ? 1 : 0;
  for (const index of capture.kept.keys()) if (index !== capture.shown && isEdited(tab, capture, index)) count++;
  return count;
}

/** The record write_pcap writes for `row` holding `binary`: the file's record while the bytes are the
 * file's; edited, the same time and link type (and the original length while the length is the same). */
export function packetRecord(row, binary = row.binary) {
  const record = { binary, time: row.time, linktype: row.linktype };
  const sameLength = binary === row.binary || fromBase64(binary).length === row.length;
  if (row.wirelen !== undefined && sameLength) record.wirelen = row.wirelen;
  return record;
}

/** Every packet of the tab's capture as write_pcap records, in order: edited ones as built now. */
export function captureRecords(tab) {
  const capture = tab.pcap.value;
  return capture.rows.map((row, i) => {
    const binary = i === capture.shown ? tab.result.value.binary : capture.kept.get(i)?.binary;
    return packetRecord(row, binary || row.binary);
  });
}

/** A pcap file of the one record of `row` (its bytes and link type): read_pcap dissects it as it
 * dissects a capture's packets, by its link type. */
export function singleRecordPcap(row) {
  const frame = fromBase64(row.binary);
  const file = new Uint8Array(24 + 16 + frame.length);
  const view = new DataView(file.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, Math.max(65535, frame.length), true);
  view.setUint32(20, row.linktype, true);
  view.setUint32(32, frame.length, true);
  view.setUint32(36, frame.length, true);
  file.set(frame, 40);
  return toBase64(file);
}

/** A capture time (exact decimal text) as [whole seconds, fraction], or null. */
function seconds(time) {
  if (time === null || time === undefined) return null;
  const [whole, fraction = ""] = String(time).split(".");
  return [Number(whole), Number(`0.${fraction || "0"}`)];
}

/** Seconds since the capture's first packet, as a packet list shows them. */
export function relativeTime(capture, time) {
  const at = seconds(time);
  if (!at || !capture.start) return "";
  return (at[0] - capture.start[0] + (at[1] - capture.start[1])).toFixed(6);
}

// ---- over a reload (persist.js) ----------------------------------------------------------------------

/** Where `target` is among a document and its history: "doc", ["past", i], ["future", i], or null. */
export function docRef(target, doc, past, future) {
  if (target === doc) return "doc";
  if (past.includes(target)) return ["past", past.lastIndexOf(target)];
  if (future.includes(target)) return ["future", future.lastIndexOf(target)];
  return null;
}

/** The document `docRef` gave `at` for, or null. */
export function refDoc(at, doc, past, future) {
  if (at === "doc") return doc;
  return Array.isArray(at) ? ({ past, future }[at[0]] || [])[at[1]] || null : null;
}

/** What persist.js stores of the tab's capture: `rows` (stored once for the tabs sharing them) and the
 * rest, `meta`. `whole`: every packet and the edited ones kept (else only the row of the packet shown,
 * as a capture of one); `limit` history documents each way; `exact`: the bytes of packets shown as
 * read. `past` and `future` are the tab's history as stored. */
export function storedCapture(capture, doc, past, future, limit, whole, exact) {
  const at = capture.shown >= 0 ? capture.shown : capture.index;
  const original = docRef(capture.original, doc, past, future);
  if (!whole) return { rows: [capture.rows[at]], meta: { name: capture.name, index: 0, shown: capture.shown >= 0 ? 0 : -1, original, kept: [] } };
  const kept = [];
  for (const [index, state] of capture.kept) {
    if (index === capture.shown) continue;
    const p = limit ? state.past.slice(-limit) : [];
    const f = limit ? state.future.slice(-limit) : [];
    kept.push([index, {
      doc: state.doc, past: p, future: f, collapsed: state.collapsed, binary: state.binary, exact: exact ? state.exact : null,
      original: docRef(state.original, state.doc, p, f), saved: docRef(state.saved, state.doc, p, f),
    }]);
  }
  return { rows: capture.rows, meta: { name: capture.name, index: capture.index, shown: capture.shown, original, kept } };
}

/** The capture `storedCapture` stored, for a tab brought back with `doc`, `past` and `future`; null
 * when it cannot be read. `isDoc` tells a stored document. */
export function restoredCapture(meta, rows, doc, past, future, isDoc) {
  const valid = (row) => row && typeof row.binary === "string" && Number.isInteger(row.linktype);
  if (!meta || !Array.isArray(rows) || !rows.length || !rows.every(valid)) return null;
  const inRange = (i) => Number.isInteger(i) && i >= 0 && i < rows.length;
  const capture = newCapture(String(meta.name || "capture"), rows);
  capture.index = inRange(meta.index) ? meta.index : 0;
  capture.shown = inRange(meta.shown) ? meta.shown : -1;
  capture.original = refDoc(meta.original, doc, past, future);
  for (const entry of Array.isArray(meta.kept) ? meta.kept : []) {
    const [index, state] = Array.isArray(entry) ? entry : [];
    if (!inRange(index) || index === capture.shown || !state || !isDoc(state.doc) || typeof state.binary !== "string") continue;
    const p = Array.isArray(state.past) ? state.past.filter(isDoc) : [];
    const f = Array.isArray(state.future) ? state.future.filter(isDoc) : [];
    capture.kept.set(index, {
      doc: state.doc, result: null, binary: state.binary, exact: typeof state.exact === "string" ? state.exact : null,
      past: p, future: f, collapsed: state.collapsed || null,
      original: refDoc(state.original, state.doc, p, f), saved: refDoc(state.saved, state.doc, p, f),
    });
  }
  return capture;
}
