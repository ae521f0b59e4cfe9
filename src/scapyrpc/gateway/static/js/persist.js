// Nothing lost on reload: every tab (its document, undo/redo history, name, view, collapsed layers,
// whether it is saved, the capture it came from, the exact bytes of a packet shown as read, its TRex
// stream settings) is written to the browser's storage shortly after each change and when the page
// goes away, and read back at start-up (store.start). Leaving the page with an unsaved tab asks first
// (beforeunload).
//
// sessionStorage, not localStorage: it belongs to this browser tab and lives as long as it (reloads,
// back and forward, a tab the browser reopens), which is what "nothing lost on reload" needs; two
// editor windows never overwrite each other's tabs, and a new window starts from its link or a new
// document rather than from another window's old work. Its quota (about 5 MB for the origin) is
// bounded: histories are kept to HISTORY_LIMIT documents each way, and when the browser refuses a
// write the oldest history goes first (halved until none), then the other packets of the captures,
// then the exact bytes; the documents are kept as long as anything fits, and a refused write never
// throws (the previous state is removed rather than left stale, and the notice says so). What a reload
// would not bring back stays shown in the toolbar (`storageNote`) as long as it is so: the notice goes
// with the next edit.
//
// A capture (capture.js) is stored whole: its packet list (every packet's record and line), the row
// selected and the one shown, and each packet edited with its own history. Its list is written as
// JSON once (the text is kept for the next writes), and a list the storage refused once is not tried
// again: a capture of tens of thousands of packets costs nothing after its first refusal, and is
// kept as the packet shown alone.
import { effect, signal } from "@preact/signals";
import { app, isUnsaved, historyName } from "./store.js";
import { storedCapture, restoredCapture } from "./capture.js";

const KEY = "scapyrpc-editor";
const VERSION = 1;
export const HISTORY_LIMIT = 100;

/** The stored form of the tabs: `data` to write as JSON, and `captures`, the packet lists it refers
 * to by index. `limit` history documents each way; `captures`: whole captures (else only each tab's
 * own packet); `exact`: the exact bytes of packets shown as read. */
function snapshot(limit, captures, exact) {
  const stored = [];
  const index = new Map();
  const captureRef = (records) => {
    if (!index.has(records)) {
      index.set(records, stored.length);
      stored.push(records);
    }
    return index.get(records);
  };
  const tabs = app.tabs.value.map((tab) => {
    const past = limit ? tab.past.slice(-limit) : [];
    const future = limit ? tab.future.slice(-limit) : []; // the next redo is the last one
    const saved = tab.saved.value;
    let savedAt = null;
    if (saved === tab.doc.value) savedAt = "doc";
    else if (past.includes(saved)) savedAt = ["past", past.lastIndexOf(saved)];
    else if (future.includes(saved)) savedAt = ["future", future.lastIndexOf(saved)];
    const capture = tab.pcap.value;
    let pcap = null;
    if (capture) {
      const { rows, meta } = storedCapture(capture, tab.doc.value, past, future, limit, captures, exact);
      pcap = { ...meta, capture: captureRef(rows) };
    }
    return {
      name: tab.name.value, view: tab.view.value, collapsed: tab.collapsed.value, doc: tab.doc.value, past, future,
      names: { past: past.map(historyName), future: future.map(historyName) }, // the name follows undo
      saved: savedAt, exact: exact ? tab.exact : null, pcap, stream: tab.stream.value,
    };
  });
  return { data: { v: VERSION, active: app.active.value, tabs }, captures: stored };
}

const listTexts = new WeakMap(); // a packet list -> its JSON, written once
const refused = new WeakSet(); // packet lists the storage refused whole

function listText(rows) {
  let text = listTexts.get(rows);
  if (text === undefined) {
    text = JSON.stringify(rows);
    listTexts.set(rows, text);
  }
  return text;
}

/** The JSON text of a snapshot, its packet lists spliced in from their texts. */
function serialize({ data, captures }) {
  return `${JSON.stringify(data).slice(0, -1)},"captures":[${captures.map(listText).join(",")}]}`;
}

/** What was given up to fit, as the last write left it ("" when everything fits). */
let dropped = "";

/** What a reload would not bring back now ("" when it brings everything), for the toolbar. */
export const storageNote = signal("");

/** [history limit, whole captures, exact bytes, what is given up], from everything to documents only. */
function attempts() {
  const list = [[HISTORY_LIMIT, true, true, ""]];
  for (let limit = HISTORY_LIMIT >> 1; limit > 0; limit >>= 1) list.push([limit, true, true, `undo history beyond ${limit} steps`]);
  list.push([0, true, true, "undo history"], [0, false, true, "undo history and the other packets of the captures"],
    [0, false, false, "undo history, the other packets of the captures and the bytes as read"]);
  return list;
}

/** Write the tabs, giving up history, then captures, then exact bytes until the storage takes them. */
export function storeTabs() {
  if (!app.tabs.value.length) return false;
  const lists = app.tabs.value.map((tab) => tab.pcap.value?.rows).filter(Boolean);
  const tooLarge = lists.some((rows) => refused.has(rows));
  for (const [limit, captures, exact, given] of attempts()) {
    if (captures && tooLarge && lists.length) continue;
    try {
      sessionStorage.setItem(KEY, serialize(snapshot(limit, captures, exact)));
    } catch {
      if (captures && !limit) for (const rows of lists) refused.add(rows); // even without history: not again
      continue; // QuotaExceededError, or storage disabled: try with less
    }
    if (given && given !== dropped) app.notice.value = `The browser's storage is full: a reload keeps the documents but not their ${given}`;
    dropped = given;
    storageNote.value = given ? `Storage full: a reload loses the ${given}` : "";
    return true;
  }
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing to remove
  }
  if (dropped !== "all") app.notice.value = "The browser's storage is full: a reload will not bring these tabs back";
  dropped = "all";
  storageNote.value = "Storage full: a reload loses these tabs";
  return false;
}

function isDoc(doc) {
  return !!doc && Array.isArray(doc.layers) && !!doc.fe && Array.isArray(doc.fe.instructions) && !!doc.fe.global;
}

/** The tabs of before the reload, in the form store.start takes, or null. */
export function loadTabs() {
  let data;
  try {
    data = JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
  if (!data || data.v !== VERSION || !Array.isArray(data.tabs)) return null;
  const captures = Array.isArray(data.captures) ? data.captures : [];
  /** The documents of a history that read as documents, with the tab's name while each was current. */
  const history = (docs, names) => {
    const list = Array.isArray(docs) ? docs : [];
    const named = Array.isArray(names) && names.length === list.length ? names : [];
    return list.map((doc, i) => [doc, typeof named[i] === "string" ? named[i] : null]).filter(([doc]) => isDoc(doc));
  };
  const tabs = data.tabs.filter((t) => t && isDoc(t.doc)).map((t) => {
    const pastNamed = history(t.past, t.names && t.names.past);
    const futureNamed = history(t.future, t.names && t.names.future);
    const past = pastNamed.map(([doc]) => doc);
    const future = futureNamed.map(([doc]) => doc);
    const names = [...pastNamed, ...futureNamed].filter(([, name]) => name !== null);
    const at = t.saved;
    const saved = at === "doc" ? t.doc : Array.isArray(at) ? ({ past, future }[at[0]] || [])[at[1]] || null : null;
    const rows = t.pcap && captures[t.pcap.capture];
    return {
      name: String(t.name || "Untitled"), view: t.view === "fe" ? "fe" : "packet", collapsed: t.collapsed || {},
      doc: t.doc, past, future, names, saved, exact: typeof t.exact === "string" ? t.exact : null,
      pcap: t.pcap ? restoredCapture(t.pcap, rows, t.doc, past, future, isDoc) : null,
      stream: t.stream && typeof t.stream === "object" && !Array.isArray(t.stream) ? t.stream : null,
    };
  });
  if (!tabs.length) return null;
  return { tabs, active: Math.max(0, Math.min(tabs.length - 1, Number(data.active) || 0)) };
}

/** From now on: write the tabs after each change (and when the page goes), and ask before leaving
 * the page with an unsaved tab. */
export function keepTabs() {
  let timer = null;
  effect(() => {
    app.active.value;
    for (const tab of app.tabs.value) {
      tab.name.value;
      tab.view.value;
      tab.collapsed.value;
      tab.saved.value;
      tab.pcap.value;
      tab.stream.value;
      tab.revision.value; // every document change and history step
    }
    clearTimeout(timer);
    timer = setTimeout(storeTabs, 200);
  });
  addEventListener("pagehide", () => {
    clearTimeout(timer);
    storeTabs();
  });
  addEventListener("beforeunload", (event) => {
    if (app.tabs.value.some(isUnsaved)) {
      event.preventDefault();
      event.returnValue = ""; // older browsers ask only when this is set
    }
  });
}
