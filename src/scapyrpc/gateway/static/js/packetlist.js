// The packet list of an open capture, above the editor: one row per packet (number, time since the first,
// source, destination, protocol, length, summary), edited rows marked. Only the rows in view are in the
// page (fixed row height), so a list of tens of thousands of packets scrolls as one of ten. Keys (in
// keys.js's table, so the `?` help lists them): Alt+Down/Alt+Up anywhere (but in a field being typed
// in), and j/k outside text fields, for the next/previous packet; in the list, the arrows, Page
// Up/Down, Home and End.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { selectPacket, stepPacket, isEdited, editedCount, relativeTime } from "./capture.js";
import { addShortcut, isTyping, keysOf } from "./keys.js";

export const ROW_HEIGHT = 22;
const OVERSCAN = 8;
const DEFAULT_VISIBLE = 10;

/** Alt+Down/Alt+Up apply but in a field being typed in (it keeps them until committed) and in a drop-down
 * list (Alt+Down opens it); j/k outside text fields. */
const packetKeyApplies = (event, tab) => {
  if (!tab.pcap.value) return false;
  const target = event.target;
  if (event.altKey) return !(target && (target.tagName === "SELECT" || (target.dataset && target.dataset.dirty === "true")));
  return !isTyping(target);
};

addShortcut({ id: "packet-next", keys: ["Alt+ArrowDown", "J"], group: "Capture", label: "Next packet of the capture (j: not in a text field)",
  when: packetKeyApplies, action: (tab) => stepPacket(tab, 1) });
addShortcut({ id: "packet-previous", keys: ["Alt+ArrowUp", "K"], group: "Capture",
  label: "Previous packet of the capture (k: not in a text field)", when: packetKeyApplies, action: (tab) => stepPacket(tab, -1) });
addShortcut({ id: "packet-list-move", keys: ["ArrowDown", "ArrowUp", "PageDown", "PageUp", "Home", "End"], group: "Capture",
  label: "In the packet list: the next, previous packet, a page down or up, the first, the last" });

function Row({ tab, capture, index, selected, onPick }) {
  const row = capture.rows[index];
  const edited = isEdited(tab, capture, index);
  return html`<div id=${`pcap-packet-${index}`} role="option" aria-selected=${selected}
      aria-posinset=${index + 1} aria-setsize=${capture.rows.length}
      class=${`packet-row${index % 2 ? " odd" : ""}${selected ? " selected" : ""}${edited ? " edited" : ""}`}
      style=${`top:${index * ROW_HEIGHT}px`} onMouseDown=${(e) => { e.preventDefault(); onPick(index); }}>
    <span class="packet-mark" title=${edited ? "edited" : ""}>${edited ? "✎" : ""}${edited ? html`<span class="visually-hidden"> edited</span>` : null}</span>
    <span class="packet-number">${index + 1}</span>
    <span class="packet-time">${relativeTime(capture, row.time)}</span>
    <span class="packet-address" title=${row.source}>${row.source}</span>
    <span class="packet-address" title=${row.destination}>${row.destination}</span>
    <span class="packet-protocol">${row.protocol}</span>
    <span class="packet-length">${row.length}</span>
    <span class="packet-summary" title=${row.summary}>${row.summary}</span>
  </div>`;
}

export function PacketList({ tab }) {
  const capture = tab.pcap.value;
  tab.result.value; // re-render when the shown packet is edited (its mark)
  const box = useRef(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(DEFAULT_VISIBLE * ROW_HEIGHT);
  const count = capture.rows.length;
  const index = capture.index;

  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === "undefined") return undefined;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => { // keep the selected row in view
    const el = box.current;
    if (!el) return;
    const top = index * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    if (el.scrollTop !== scroll) setScroll(el.scrollTop);
  }, [index, capture.id]);

  const visible = Math.max(1, Math.ceil(height / ROW_HEIGHT));
  const page = Math.max(1, visible - 1);
  const first = Math.max(0, Math.floor(scroll / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(count, Math.floor(scroll / ROW_HEIGHT) + visible + OVERSCAN);
  const rows = [];
  // The list takes the focus first: a field being typed in is committed (on blur) before the packet changes.
  const pick = (i) => { box.current.focus(); selectPacket(tab, i); };
  for (let i = first; i < last; i++) {
    rows.push(html`<${Row} key=${i} tab=${tab} capture=${capture} index=${i} selected=${i === index} onPick=${pick} />`);
  }

  const onKeyDown = (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -count, End: count };
    if (e.key in moves) {
      e.preventDefault();
      stepPacket(tab, moves[e.key]);
    }
  };
  const edited = editedCount(tab, capture);
  return html`<section id="packet-list" class="packet-list" aria-label=${`Packets of ${capture.name}`}>
    <div class="packet-list-bar">
      <span id="packet-list-status" role="status">${capture.name}: packet ${index + 1} of ${count.toLocaleString("en")}${edited ? ` · ${edited} edited` : ""}</span>
      <button type="button" id="packet-previous-button" disabled=${index === 0} onClick=${() => stepPacket(tab, -1)}
              title=${`Previous packet (${keysOf("packet-previous")} or k)`}>Previous</button>
      <button type="button" id="packet-next-button" disabled=${index === count - 1} onClick=${() => stepPacket(tab, 1)}
              title=${`Next packet (${keysOf("packet-next")} or j)`}>Next</button>
      <span class="hint">${keysOf("packet-next")}/${keysOf("packet-previous")} or j/k: next/previous packet · ? all keys</span>
    </div>
    <div class="packet-row packet-list-header" aria-hidden="true">
      <span class="packet-mark"></span><span class="packet-number">No.</span><span class="packet-time">Time</span>
      <span class="packet-address">Source</span><span class="packet-address">Destination</span>
      <span class="packet-protocol">Protocol</span><span class="packet-length">Length</span><span class="packet-summary">Info</span>
    </div>
    <div id="packet-list-rows" class="packet-list-rows" ref=${box} tabindex="0" role="listbox"
         aria-label=${`Packets of ${capture.name}`} aria-activedescendant=${`pcap-packet-${index}`}
         onKeyDown=${onKeyDown} onScroll=${(e) => setScroll(e.currentTarget.scrollTop)}>
      <div class="packet-list-spacer" style=${`height:${count * ROW_HEIGHT}px`}>${rows}</div>
    </div>
  </section>`;
}
