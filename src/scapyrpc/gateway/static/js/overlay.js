// The editor's small dialogs (app.dialog kinds "help" and "confirm"): the keyboard shortcuts, listed
// from the table of keys.js, and "close without saving?". Each takes the focus when it opens, keeps Tab
// inside, closes on Escape, and gives the focus back to where it was (Modal, which profiles.js's
// export dialog is made of too).
import { useLayoutEffect, useRef } from "preact/hooks";
import { html } from "./html.js";
import { closeDialog } from "./store.js";
import { shortcuts, keyLabel } from "./keys.js";

/** A modal dialog: the focus on its `data-autofocus` element (else its first button), Tab kept inside,
 * Escape or a click beside it closes it. */
export function Modal({ id, title, onClose, children }) {
  const box = useRef(null);
  useLayoutEffect(() => {
    const before = document.activeElement;
    (box.current.querySelector("[data-autofocus]") || box.current.querySelector("button"))?.focus();
    return () => {
      if (!before || before === document.body || !before.isConnected) return;
      const menu = before.closest("details.menu"); // opened from a menu item: the menu is closed now
      if (menu && !menu.open) menu.querySelector(":scope > summary").focus();
      else before.focus();
    };
  }, []);
  const onKeyDown = (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      onClose();
    } else if (e.key === "Tab") {
      const stops = [...box.current.querySelectorAll("button, input, select, textarea, [tabindex='0']")].filter((el) => !el.disabled);
      const at = stops.indexOf(document.activeElement);
      const next = e.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
      e.preventDefault();
      stops[next]?.focus();
    }
  };
  return html`<div class="dialog-backdrop" onMouseDown=${(e) => { if (e.target === e.currentTarget) onClose(); }}>
    <div class="dialog" id=${id} role="dialog" aria-modal="true" aria-labelledby=${`${id}-title`} ref=${box} onKeyDown=${onKeyDown}>
      <h2 id=${`${id}-title`}>${title}</h2>${children}</div></div>`;
}

export function HelpOverlay() {
  const rows = shortcuts.value;
  const groups = [...new Set(rows.map((r) => r.group))];
  return html`<${Modal} id="help-overlay" title="Keyboard shortcuts" onClose=${closeDialog}>
    ${groups.map((group) => html`<table class="shortcut-table">
      <caption>${group}</caption>
      <tbody>${rows.filter((r) => r.group === group).map((r) => html`<tr id=${`shortcut-${r.id}`} data-shortcut=${r.id}>
        <td class="shortcut-keys">${r.keys.map((k, i) => html`${i ? " or " : ""}<kbd data-keys=${k}>${keyLabel(k)}</kbd>`)}</td>
        <td>${r.label}</td></tr>`)}</tbody></table>`)}
    <div class="dialog-buttons"><button type="button" id="help-close-button" onClick=${closeDialog}>Close</button></div>
  <//>`;
}

/** `d`: {title, message, confirm (the button's text), onConfirm}; Cancel has the focus. */
export function ConfirmDialog({ d }) {
  const confirm = () => {
    closeDialog();
    d.onConfirm();
  };
  return html`<${Modal} id="confirm-dialog" title=${d.title} onClose=${closeDialog}>
    <p>${d.message}</p>
    <div class="dialog-buttons">
      <button type="button" id="confirm-discard-button" onClick=${confirm}>${d.confirm}</button>
      <button type="button" id="confirm-cancel-button" data-autofocus onClick=${closeDialog}>Cancel</button></div>
  <//>`;
}
