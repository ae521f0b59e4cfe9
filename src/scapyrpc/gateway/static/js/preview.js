// The stream preview of the Field Engine tab: the packets TRex will send (simulate_vm), one row per
// packet with the fields that vary, and the selected packet's bytes with those that differ from
// packet 0 marked. The store fetches (previewStream); summary.js reduces the packets to rows.
import { html } from "./html.js";
import * as S from "./store.js";
import { fromBase64 } from "./bytes.js";
import { differing, PREVIEW_DEFAULT, PREVIEW_MAX } from "./summary.js";

function PreviewBytes({ bytes, reference }) {
  const diff = differing(bytes, reference);
  const rows = [];
  for (let r = 0; r < bytes.length; r += 16) {
    const cells = [];
    for (let i = r; i < Math.min(bytes.length, r + 16); i++) {
      cells.push(html`<span class=${diff.has(i) ? "hex-byte changed" : "hex-byte"} id=${`preview-byte-${i}`}>${bytes[i].toString(16).padStart(2, "0")}</span>`);
    }
    rows.push(html`<div class="preview-hex-row"><span class="hex-offset">${r.toString(16).padStart(4, "0")}</span>${cells}</div>`);
  }
  return html`<div id="preview-bytes" class="preview-bytes" aria-label="Bytes of the selected packet, changes marked">${rows}</div>`;
}

export function StreamPreview({ tab }) {
  const preview = tab.preview.value;
  const run = (count) => S.previewStream(tab, count);
  const count = preview ? preview.count : PREVIEW_DEFAULT;
  return html`<section class="fe-preview" aria-label="Stream preview">
    <h2 class="panel-title">What TRex will send</h2>
    <div class="preview-controls">
      <label for="preview-count">Packets</label>
      <input id="preview-count" type="number" min="1" max=${PREVIEW_MAX} value=${count}
             onChange=${(e) => run(Math.max(1, Math.min(PREVIEW_MAX, Number(e.currentTarget.value) || PREVIEW_DEFAULT)))} />
      <button type="button" id="preview-button" onClick=${() => run(count)}>Preview</button>
      ${preview && preview.rows.length < PREVIEW_MAX ? html`<button type="button" id="preview-more-button"
          onClick=${() => run(Math.min(PREVIEW_MAX, preview.count * 4))}>More</button>` : null}
      ${preview && preview.pcap ? html`<button type="button" id="preview-save-button"
          onClick=${() => S.savePreview(tab)}>Save preview as pcap</button>` : null}
    </div>
    ${preview && preview.revision !== tab.revision.value ? html`<p class="hint" id="preview-stale">The document changed: preview again.</p>` : null}
    ${preview && preview.error ? html`<p class="error" role="alert" id="preview-error">${preview.error}</p>` : null}
    ${preview && preview.note ? html`<p class="hint">${preview.note}</p>` : null}
    ${preview && preview.rows.length ? html`
      <div class="preview-table-wrap"><table id="preview-table" class="preview-table">
        <thead><tr><th scope="col">#</th><th scope="col">Bytes</th>
          ${preview.columns.map((c) => html`<th scope="col">${c.label}</th>`)}</tr></thead>
        <tbody>${preview.rows.map((row) => html`<tr id=${`preview-row-${row.index}`}
            class=${row.index === preview.selected ? "selected" : ""} tabindex="0" aria-selected=${row.index === preview.selected}
            onClick=${() => S.selectPreview(tab, row.index)}
            onKeyDown=${(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); S.selectPreview(tab, row.index); } }}>
          <td>${row.index}</td><td>${row.size}</td>${row.values.map((v) => html`<td>${v}</td>`)}</tr>`)}</tbody>
      </table></div>
      <${PreviewBytes} bytes=${fromBase64(preview.packets[preview.selected])} reference=${fromBase64(preview.packets[0])} />` : null}
  </section>`;
}
