// The paste box (File > Paste packet…) and paste onto the page: text read by paste.js opens as a
// packet in a new tab; text that is no packet stays in the box with the reason under it.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import * as S from "./store.js";
import { app } from "./store.js";

export function PasteBox({ dialog }) {
  const [text, setText] = useState(dialog.text || "");
  const [busy, setBusy] = useState(false);
  const box = useRef(null);
  useEffect(() => box.current && box.current.focus(), []);
  const error = dialog.error;
  const open = async () => {
    if (busy) return;
    setBusy(true);
    if (!(await S.openPastedText(text))) setBusy(false);
  };
  const onKeyDown = (e) => {
    if (e.key === "Escape") S.closeDialog();
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      open();
    }
  };
  return html`<div class="dialog-backdrop"><div class="dialog paste-box" role="dialog" aria-modal="true"
      aria-labelledby="paste-title" aria-describedby="paste-help" onKeyDown=${onKeyDown}>
    <h2 id="paste-title">Paste packet</h2>
    <p id="paste-help" class="hint">A hex dump (tcpdump -xx or -X, Wireshark's Copy as Hex Dump, od -Ax -tx1,
      hexdump -C, xxd, Scapy's hexdump), plain hex, base64, or a C or Python byte array. It opens in a new
      tab, from Ethernet, or from IPv4 or IPv6 when it has no link header. Ctrl+Enter opens it.</p>
    <label for="paste-text">Packet as text</label>
    <textarea id="paste-text" rows="14" spellcheck=${false} autocomplete="off" value=${text}
              aria-invalid=${error ? "true" : "false"} aria-describedby=${error ? "paste-error" : undefined}
              ref=${box}
              onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    ${error ? html`<p class="error" role="alert" id="paste-error">${error}</p>` : null}
    <div class="dialog-buttons">
      <button type="button" id="paste-open-button" disabled=${busy || !text.trim()} onClick=${open}>Open</button>
      <button type="button" id="paste-cancel-button" onClick=${S.closeDialog}>Cancel</button></div></div></div>`;
}

/** A paste onto the page (not into a field): its text opens as a packet, or in the paste box with the reason. */
export function pasteOnPage(event) {
  const target = event.target;
  if (!app.defs.value || !S.activeTab()) return;
  if (target && target.closest && (target.closest("input, textarea, select") || target.isContentEditable)) return;
  const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
  if (!text.trim()) return;
  event.preventDefault();
  S.openPastedText(text);
}
