// The payload editor: text, file, patterns, random ASCII/bytes; sizes per payload or whole packet.
// It produces the BYTES value objects of docs/api.md ("Packet model"); the server generates the bytes.
import { useState, useRef, useLayoutEffect } from "preact/hooks";
import { html } from "./html.js";
import { editField, fileBase64, ErrorKey } from "./store.js";
import { textToBase64, base64ToText } from "./bytes.js";

const TYPES = [
  ["text", "Text"],
  ["file", "File"],
  ["template", "Text pattern"],
  ["template_code", "Code pattern"],
  ["random_ascii", "Random ascii"],
  ["random_bytes", "Random non-ascii"],
];

function initialState(value, built) {
  const state = { type: "text", text: "", pattern: "", code: "", sizeKind: "size", size: "", seed: "12345", file: null };
  const source = value && typeof value === "object" ? value : null;
  if (source && source.generate) {
    state.type = source.generate;
    if (source.template_base64) state.pattern = base64ToText(source.template_base64);
    if (source.template_code) state.code = source.template_code;
    if (source.seed !== undefined) state.seed = String(source.seed);
    if (source.total_size !== undefined) [state.sizeKind, state.size] = ["total_size", String(source.total_size)];
    else if (source.size !== undefined) state.size = String(source.size);
  } else {
    const b64 = source && source.base64 !== undefined ? source.base64 : built && built.value && built.value.base64;
    if (b64 !== undefined) state.text = base64ToText(b64);
    else if (built && typeof built.hvalue === "string") state.text = built.hvalue;
  }
  return state;
}

/** The value object for the editor's state, or an error message. */
export function payloadValue(s) {
  const value = { vtype: "BYTES" };
  if (s.size !== "" && s.type !== "text" && s.type !== "file") {
    if (!/^\d+$/.test(s.size)) return "the size must be a whole number of bytes";
    value[s.sizeKind] = Number(s.size);
  }
  if (s.type === "text") value.base64 = textToBase64(s.text);
  else if (s.type === "file") {
    if (!s.file) return "choose a file first";
    value.base64 = s.file;
  } else if (s.type === "template") {
    if (!s.pattern) return "the pattern is empty";
    value.generate = "template";
    value.template_base64 = textToBase64(s.pattern);
  } else if (s.type === "template_code") {
    if (!/^(\s|0x|[0-9A-Fa-f])*$/.test(s.code) || !s.code.trim()) return "the code pattern takes hex digits such as 0xDE AD be ef";
    value.generate = "template_code";
    value.template_code = s.code;
  } else {
    if (!/^\d+$/.test(s.seed)) return "the seed must be a whole number";
    value.generate = s.type;
    value.seed = Number(s.seed);
    if (s.size === "") return "random payloads need a size";
  }
  return value;
}

export function PayloadEditor({ tab, index, fieldId, value, built, close, id }) {
  const [s, setS] = useState(() => initialState(value, built));
  const [error, setError] = useState("");
  const root = useRef(null);
  // Focus the type choice in the same task as the mount: a later focus would steal the user's next keys.
  useLayoutEffect(() => root.current && root.current.querySelector("select").focus(), []);
  const update = (patch) => setS({ ...s, ...patch });
  const save = async () => {
    const v = payloadValue(s);
    if (typeof v === "string") {
      setError(v);
      return;
    }
    if (await editField(tab, index, fieldId, v)) close();
    else setError(tab.errors.value[ErrorKey.field(index, fieldId)] || "the server refused this payload");
  };
  const cancel = () => {
    close();
    document.getElementById(id)?.focus();
  };
  const readFile = async (event) => {
    const file = event.currentTarget.files[0];
    if (file) update({ file: await fileBase64(file) });
  };
  const generated = s.type !== "text" && s.type !== "file";
  return html`
    <div class="payload-editor" ref=${root} role="group" aria-label="Payload editor"
         onKeyDown=${(e) => { if (e.key === "Escape") { e.preventDefault(); cancel(); } }}>
      <div class="payload-line">
        <label for="payload-type">Payload type</label>
        <select id="payload-type" value=${s.type} onChange=${(e) => update({ type: e.currentTarget.value })}>
          ${TYPES.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
        </select>
        <button type="button" id="payload-save-button" onClick=${save}>Save</button>
        <button type="button" id="payload-cancel-button" onClick=${cancel}>Cancel</button>
      </div>
      ${generated ? html`<div class="payload-line">
        <label for="payload-size-kind">Size of</label>
        <select id="payload-size-kind" value=${s.sizeKind} onChange=${(e) => update({ sizeKind: e.currentTarget.value })}>
          <option value="size">Load size</option><option value="total_size">Packet size (with the 4-byte FCS)</option>
        </select>
        <label for="payload-size">bytes</label>
        <input id="payload-size" inputmode="numeric" value=${s.size} onInput=${(e) => update({ size: e.currentTarget.value })} />
      </div>` : null}
      ${s.type === "text" ? html`<label for="payload-text">Text</label>
        <textarea id="payload-text" rows="3" value=${s.text} onInput=${(e) => update({ text: e.currentTarget.value })}></textarea>` : null}
      ${s.type === "file" ? html`<label for="payload-file">File</label>
        <input type="file" id="payload-file" onChange=${readFile} />` : null}
      ${s.type === "template" ? html`<label for="payload-pattern">Pattern (repeated to the size)</label>
        <textarea id="payload-pattern" rows="2" value=${s.pattern} onInput=${(e) => update({ pattern: e.currentTarget.value })}></textarea>` : null}
      ${s.type === "template_code" ? html`<label for="payload-code-pattern">Code pattern (hex, e.g. 0xDE AD be ef)</label>
        <textarea id="payload-code-pattern" rows="2" value=${s.code} onInput=${(e) => update({ code: e.currentTarget.value })}></textarea>` : null}
      ${s.type === "random_ascii" || s.type === "random_bytes" ? html`<div class="payload-line">
        <label for="payload-seed">Seed</label>
        <input id="payload-seed" inputmode="numeric" value=${s.seed} onInput=${(e) => update({ seed: e.currentTarget.value })} /></div>` : null}
      ${error ? html`<p class="error" role="alert" id="payload-error">${error}</p>` : null}
    </div>`;
}
