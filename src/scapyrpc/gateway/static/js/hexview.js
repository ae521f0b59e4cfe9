// Hex view: 16 bytes a row with ASCII; the selected field's bytes (or bits) highlighted; clicking a
// byte selects its field; typing hex digits edits the bytes (re-dissected by reconstruct_pkt).
import { useState, useRef, useMemo } from "preact/hooks";
import { html } from "./html.js";
import { fromBase64, byteLength } from "./bytes.js";
import { builtField } from "./document.js";
import { setPacketBytes, select, ErrorKey } from "./store.js";

const ROW = 16;
const ROW_HEIGHT = 20;
const VISIBLE_ROWS = 40;

/** The absolute bytes a dissected field covers: a bit field its whole bytes (and its bits). */
function fieldSpan(layer, field) {
  const start = layer.offset + field.offset;
  if (field.bit_length !== undefined && field.length === 0) {
    const bits = field.bit_offset + field.bit_length;
    return { start, length: Math.ceil(bits / 8), bitOffset: field.bit_offset, bitLength: field.bit_length };
  }
  return { start, length: Math.max(field.length, 0) };
}

/** The absolute byte range (and bits) of the selected field, or null. */
export function selectedRange(result, selection) {
  if (!result || !selection) return null;
  if (selection.start !== undefined) return { start: selection.start, length: 1 };
  const layer = result.data[selection.layer];
  const field = builtField(layer, selection.field);
  if (!field || field.offset === undefined || field.ignored) return null;
  return fieldSpan(layer, field);
}

/** The field holding byte `offset`: the deepest layer, then the narrowest field. */
export function fieldAt(result, offset) {
  for (let li = result.data.length - 1; li >= 0; li--) {
    const layer = result.data[li];
    let best = null;
    for (const f of layer.fields) {
      if (f.offset === undefined || f.ignored) continue;
      const { start, length } = fieldSpan(layer, f);
      if (offset >= start && offset < start + length && (!best || length < best.length)) best = { field: f.id, length };
    }
    if (best) return { layer: li, field: best.field };
  }
  return null;
}

const hex4 = (n) => n.toString(16).padStart(4, "0");

/** A byte span as the field rows show positions: hex offsets, the length in bytes. */
export function spanText(range) {
  if (range.length === 0) return `${hex4(range.start)} (0 bytes)`;
  const end = range.start + range.length - 1;
  return `${hex4(range.start)}${range.length > 1 ? `–${hex4(end)}` : ""} (${range.length} byte${range.length > 1 ? "s" : ""})`;
}

export function HexView({ tab }) {
  const result = tab.result.value;
  const bytes = useMemo(() => (result ? fromBase64(result.binary) : new Uint8Array()), [result]);
  const [caret, setCaret] = useState(0);
  const [nibble, setNibble] = useState(null); // first hex digit typed at the caret
  const [scroll, setScroll] = useState(0);
  const box = useRef(null);
  const range = selectedRange(result, tab.selection.value);
  const rows = Math.ceil(bytes.length / ROW);
  const first = Math.max(0, Math.floor(scroll / ROW_HEIGHT) - 5);
  const last = Math.min(rows, first + VISIBLE_ROWS + 10);
  const error = tab.errors.value[ErrorKey.hex];

  /** Scroll the byte at `offset` into view. */
  const reveal = (offset) => {
    const el = box.current;
    if (!el) return;
    const top = Math.floor(offset / ROW) * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  };
  /** The caret to `offset`, the selection kept (the jump key from a field, keys.js). */
  const moveCaret = (offset) => {
    setCaret(Math.max(0, Math.min(bytes.length - 1, offset)));
    setNibble(null);
    reveal(offset);
  };
  const pick = (offset) => {
    setCaret(offset);
    setNibble(null);
    reveal(offset);
    const target = fieldAt(result, offset);
    select(tab, target ? { ...target, fromHex: true } : { start: offset });
  };
  const edit = async (digit) => {
    if (nibble === null) {
      setNibble(digit);
      return;
    }
    const next = bytes.slice();
    next[caret] = parseInt(nibble + digit, 16);
    setNibble(null);
    const at = Math.min(caret + 1, next.length - 1);
    if (await setPacketBytes(tab, next)) {
      setCaret(at);
      const target = fieldAt(tab.result.value, at); // the highlight follows the caret
      select(tab, target ? { ...target, fromHex: true } : { start: at });
    }
  };
  const onKeyDown = (e) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -ROW, ArrowDown: ROW, Home: -caret, End: bytes.length - 1 - caret };
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[0-9a-fA-F]$/.test(e.key)) {
      e.preventDefault();
      edit(e.key.toLowerCase());
    } else if (e.key in moves) {
      e.preventDefault();
      pick(Math.max(0, Math.min(bytes.length - 1, caret + moves[e.key])));
    } else if (e.key === "Escape") {
      setNibble(null);
    }
  };

  const rowViews = [];
  for (let r = first; r < last; r++) {
    const cells = [];
    const ascii = [];
    for (let i = r * ROW; i < Math.min(bytes.length, (r + 1) * ROW); i++) {
      const inRange = range && i >= range.start && i < range.start + range.length;
      const cls = `hex-byte${inRange ? (range.bitLength !== undefined ? " sel bits" : " sel") : ""}${i === caret ? " caret" : ""}`;
      const text = i === caret && nibble !== null ? nibble + "_" : bytes[i].toString(16).padStart(2, "0");
      cells.push(html`<span id=${`hex-${i}`} class=${cls} data-offset=${i} onMouseDown=${() => pick(i)}>${text}</span>`);
      const ch = bytes[i] >= 0x20 && bytes[i] < 0x7f ? String.fromCharCode(bytes[i]) : ".";
      ascii.push(html`<span class=${inRange ? "sel" : ""}>${ch}</span>`);
    }
    rowViews.push(html`<div class="hex-row" style=${`top:${r * ROW_HEIGHT}px`} key=${r}>
      <span class="hex-offset">${(r * ROW).toString(16).padStart(4, "0")}</span>
      <span class="hex-cells">${cells}</span><span class="hex-ascii" aria-hidden="true">${ascii}</span></div>`);
  }
  let bits = null;
  if (range && range.bitLength !== undefined) {
    const cells = [];
    for (let b = 0; b < range.length * 8; b++) {
      const byte = bytes[range.start + (b >> 3)] ?? 0;
      const on = (byte >> (7 - (b & 7))) & 1;
      const inField = b >= range.bitOffset && b < range.bitOffset + range.bitLength;
      cells.push(html`<span class=${`bit ${inField ? "sel" : ""}`}>${on}</span>`);
    }
    const label = `bits ${range.bitOffset}–${range.bitOffset + range.bitLength - 1} of byte ${range.start}: `;
    bits = html`<div id="hex-bits" class="hex-bits">${label}${cells}</div>`;
  }
  return html`
    <section class="hex-panel" aria-label="Hex view">
      <h2 class="panel-title">Bytes <span class="hint">(click a byte, type hex digits to edit)</span></h2>
      <div id="hex-view" class="hex-view" tabindex="0" ref=${box} role="textbox" aria-multiline="true"
           aria-label=${`Packet bytes, caret at byte ${caret}`} aria-keyshortcuts="Alt+H" data-caret=${caret}
           onKeyDown=${onKeyDown} onhexcaret=${(e) => moveCaret(e.detail)}
           onScroll=${(e) => setScroll(e.currentTarget.scrollTop)}>
        <div class="hex-spacer" style=${`height:${rows * ROW_HEIGHT}px`}>${rowViews}</div>
      </div>
      ${bits}
      <p class="hex-status" role="status">${range ? `selected: ${spanText(range)}` : ""}
        ${` · ${byteLength(result?.binary)} bytes`}</p>
      ${error ? html`<p class="error" role="alert" id="hex-error">${error}</p>` : null}
    </section>`;
}
