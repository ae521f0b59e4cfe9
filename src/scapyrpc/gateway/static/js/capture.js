// A capture is a packet list: opening a pcap lists every packet (read_pcap_summaries: one line each, not
// dissected), and the selected packet is the tab's document. A packet is dissected when it is shown
// (read_pcap of a file holding that record alone) and keeps the file's bytes until it is edited; a
// packet left after an edit keeps its document, bytes, undo history and open layers, and is written
// rebuilt when the capture is saved, the others as they were read.
import { batch } from "@preact/signals";
import { errorText } from "./rpc.js";
import { toBase64, fromBase64 } from "./bytes.js";
import * as D from "./document.js";
import { app, show, enqueue, collapseAll } from "./store.js";

let captures = 0;

/** The tab's capture state: {id, name, rows, index (the selected row), shown (the row whose packet is
 * the document, -1 before the first), original (that packet's document as read), kept (row -> {doc,
 * result, past, future, collapsed, original} of packets left after an edit), start (the first
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
    app.notice.value = `Cannot open ${name}: ${errorText(err)}`;
    return false;
  }
  performance.measure("capture-summaries", "capture-read");
  if (!rows.length) {
    app.notice.value = `${name} holds no packet`;
    return false;
  }
  batch(() => {
    tab.pcap.value = newCapture(name, rows);
    tab.name.value = name;
  });
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
  if (!state) {
    let result;
    try {
      [result] = await app.rpc.call("read_pcap", singleRecordPcap(tab.pcap.value.rows[index]));
    } catch (err) {
      app.notice.value = `Cannot show packet ${index + 1}: ${errorText(err)}`;
      return false;
    }
    if (!current()) return false;
    const doc = D.fromPacket(result);
    state = { doc, result, past: [], future: [], collapsed: null, original: doc };
  }
  const capture = tab.pcap.value;
  const kept = new Map(capture.kept);
  if (capture.shown >= 0) {
    const left = leaving(tab, capture.original);
    if (left) kept.set(capture.shown, left);
    else kept.delete(capture.shown);
  }
  batch(() => {
    show(tab, state.doc, state.result, state);
    tab.pcap.value = { ...capture, shown: index, kept, original: state.original };
    if (state.collapsed) tab.collapsed.value = state.collapsed;
    else collapseAll(tab, true, state.doc.layers.length - 1);
  });
  return true;
}

/** What to keep of the packet being left: its state if its document is not the file's (or it has edits
 * to redo), else null: it is dissected again when it is shown again. */
function leaving(tab, original) {
  const doc = tab.doc.value;
  if (doc === original && !tab.future.length) return null;
  return { doc, result: tab.result.value, past: tab.past, future: tab.future, collapsed: tab.collapsed.value, original };
}

/** Whether row `index` now differs from the file: the shown packet's bytes, or a kept packet's. */
export function isEdited(tab, capture, index) {
  const state = index === capture.shown ? tab.result.value : capture.kept.get(index)?.result;
  return !!state && state.binary !== capture.rows[index].binary;
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
    const state = i === capture.shown ? tab.result.value : capture.kept.get(i)?.result;
    return packetRecord(row, state ? state.binary : row.binary);
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
