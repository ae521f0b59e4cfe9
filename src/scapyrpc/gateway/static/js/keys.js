// Keyboard shortcuts: one table that the page's key handler dispatches from and the help overlay (`?`)
// lists. A row is {id, keys, label, group, action, when}:
//   keys    as Playwright names them: modifiers `Ctrl` (Ctrl, or ⌘ on a Mac), `Alt`, `Shift`, then the
//           key (`KeyboardEvent.key`: a letter, `PageDown`, `F10`, `?`); a letter matches either case
//   action  (tab, event) => ..., run with the active tab; without one the row is listed only (its keys
//           are handled where they apply: menus, dialogs)
//   when    (event, tab) => boolean, where the keys apply (default: anywhere, no dialog open)
//   claim   true: while a dialog is open the keys do nothing rather than the browser's own action
//           (Ctrl+S would save the web page, Ctrl+O open a file in the browser tab)
// Other features add their rows with addShortcut (the capture's packet list, for instance:
// `addShortcut({id: "packet-next", keys: ["Alt+ArrowDown"], label: "Next packet", group: "Capture",
// action: (tab) => ...})`); the help overlay lists them with the others.
//
// Chrome keeps Ctrl+N, Ctrl+T, Ctrl+W and Ctrl+Tab for itself whatever a page does, and Alt+F / Alt+E
// open its menu: new document, new tab, close tab, next tab and the hex jump are Alt+ keys that no
// browser takes (the browser tests press each and check its effect).
import { signal } from "@preact/signals";
import * as S from "./store.js";
import { app, activeTab } from "./store.js";
import { layerPath } from "./document.js";
import { selectedRange, fieldAt } from "./hexview.js";

export const shortcuts = signal([]);

function parse(keys) {
  const parts = keys.split("+");
  const key = parts.pop();
  const mods = new Set(parts.map((p) => p.toLowerCase()));
  return { ctrl: mods.has("ctrl"), alt: mods.has("alt"), shift: mods.has("shift"), key: key.toLowerCase() };
}

/** Add a row to the table (replacing a row of the same id). */
export function addShortcut(row) {
  const entry = { group: "Other", ...row, parsed: row.keys.map(parse) };
  shortcuts.value = [...shortcuts.value.filter((r) => r.id !== row.id), entry];
}

export function removeShortcut(id) {
  shortcuts.value = shortcuts.value.filter((r) => r.id !== id);
}

const KEY_NAMES = { ArrowUp: "↑", ArrowDown: "↓", ArrowLeft: "←", ArrowRight: "→", " ": "Space", ContextMenu: "Menu key" };

/** How keys are shown: `Ctrl+Shift+Z`, `Alt+PageDown`, `↓`. */
export function keyLabel(keys) {
  return keys.split("+").map((part) => KEY_NAMES[part] || part).join("+");
}

/** The first keys of row `id`, as shown (for menu items), or "". */
export function keysOf(id) {
  const row = shortcuts.value.find((r) => r.id === id);
  return row ? keyLabel(row.keys[0]) : "";
}

function matches(event, k) {
  if (k.ctrl !== (event.ctrlKey || event.metaKey) || k.alt !== event.altKey) return false;
  const character = k.key.length === 1 && !/[a-z0-9]/.test(k.key); // `?`: Shift is part of the character
  if (!character && k.shift !== event.shiftKey) return false;
  const key = event.key.toLowerCase();
  if (key === k.key) return true;
  // Alt+letter types another character on a Mac: the key's place then says which letter it is.
  return /^[a-z]$/.test(k.key) && !/^[a-z]$/.test(key) && event.code === `Key${k.key.toUpperCase()}`;
}

/** The page's keydown handler: the first row whose keys match and that applies runs. A key a
 * control already handled (default prevented) is left to it. */
export function onKeyDown(event) {
  if (event.defaultPrevented || event.isComposing) return;
  const tab = activeTab();
  if (!tab) return;
  for (const row of shortcuts.value) {
    if (!row.action || !row.parsed.some((k) => matches(event, k))) continue;
    if (app.dialog.value && !row.inDialog) { // a dialog has the keyboard
      if (row.claim) event.preventDefault();
      return;
    }
    if (row.when && !row.when(event, tab)) continue;
    event.preventDefault();
    row.action(tab, event);
    return;
  }
}

export function installShortcuts(target = document) {
  target.addEventListener("keydown", onKeyDown);
}

/** Whether `el` takes typed text (a `?` typed there is text, not a shortcut). */
export function isTyping(el) {
  if (!el || !el.tagName) return false;
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"].includes(el.type);
}

export const notTyping = (event) => !isTyping(event.target);

/** A field being typed in (or a text area) keeps the browser's own text undo. */
const notEditingText = (event) => !(event.target && (event.target.tagName === "TEXTAREA" || event.target.dataset?.dirty === "true"));

export function openHelp() {
  app.dialog.value = { kind: "help" };
}

// ---- the jump between the fields and the hex view ----------------------------------------------

/** Focus the input of field `field` of layer `layer` (its layer expanded first), once it is drawn. */
function focusField(tab, layer, field) {
  const doc = tab.doc.value;
  if (layer >= doc.layers.length) return false;
  const path = layerPath(doc, layer);
  if (tab.collapsed.value[path]) S.toggleLayer(tab, path);
  S.select(tab, { layer, field });
  const id = `${path}-${field}`;
  let frames = 0;
  const attempt = () => {
    const input = document.getElementById(id);
    if (input && input.offsetParent !== null) input.focus();
    else if (frames++ < 30) requestAnimationFrame(attempt);
  };
  attempt();
  return true;
}

/** From the hex view: the field at the caret (the selected one when it covers the caret). From
 * anywhere else (a field): the hex view, its caret at the selected field's first byte. */
function jumpFieldHex(tab, event) {
  const hex = document.getElementById("hex-view");
  const result = tab.result.value;
  if (!hex || !result) return;
  if (event.target === hex) {
    const caret = Number(hex.dataset.caret || 0);
    const selection = tab.selection.value;
    const range = selection && selection.field !== undefined ? selectedRange(result, selection) : null;
    const covers = range && caret >= range.start && caret < range.start + range.length;
    const at = covers ? selection : fieldAt(result, caret);
    if (!at || !focusField(tab, at.layer, at.field)) app.notice.value = `Byte ${caret} belongs to no field of the document`;
    return;
  }
  const range = selectedRange(result, tab.selection.value);
  hex.focus();
  if (range) hex.dispatchEvent(new CustomEvent("hexcaret", { detail: range.start }));
}

// ---- the editor's rows ---------------------------------------------------------------------------

const inFieldInput = (event) => !!(event.target && event.target.classList?.contains("field-input") && event.target.closest(".field-row"));

function openFieldMenu(tab, event) {
  const button = event.target.closest(".field-row").querySelector(".field-menu-button");
  if (button && button.getAttribute("aria-expanded") !== "true") button.click();
}

/** Ctrl+S: what is typed in a field is committed first (the field keeps the focus), then the tab saved. */
async function save(tab) {
  const active = document.activeElement;
  const typed = active && active.dataset && active.dataset.dirty === "true";
  if (typed) active.blur();
  await tab.queue;
  if (typed && active.isConnected && (document.activeElement === document.body || !document.activeElement)) active.focus();
  return S.save(tab);
}

function switchView(tab) {
  S.showView(tab, tab.view.value === "fe" ? "packet" : "fe");
}

const ROWS = [
  { id: "file-new", keys: ["Alt+N"], group: "File", label: "New document in this tab (undoable)", action: (tab) => S.clearDocument(tab) },
  { id: "file-open", keys: ["Ctrl+O"], group: "File", label: "Open a document (.trp), a capture (pcap) or a TRex profile (JSON, YAML)", claim: true,
    action: () => document.getElementById("open-file-input")?.click() },
  { id: "file-save", keys: ["Ctrl+S"], group: "File", claim: true,
    label: "Save: the capture as pcap when the tab is a packet of a capture of several, else the document (.trp)", action: save },
  { id: "edit-undo", keys: ["Ctrl+Z"], group: "Edit", label: "Undo (in a field being typed in: the text's own undo)",
    when: notEditingText, action: (tab) => S.undo(tab) },
  { id: "edit-redo", keys: ["Ctrl+Shift+Z", "Ctrl+Y"], group: "Edit", label: "Redo", when: notEditingText, action: (tab) => S.redo(tab) },
  { id: "tab-new", keys: ["Alt+T"], group: "Tabs", label: "New tab", action: () => S.openTab() },
  { id: "tab-close", keys: ["Alt+W"], group: "Tabs", label: "Close this tab (asks first when it has unsaved changes)",
    action: () => S.requestCloseTab(app.active.value) },
  { id: "tab-next", keys: ["Alt+PageDown"], group: "Tabs", label: "Next tab", action: () => S.nextTab(1) },
  { id: "tab-previous", keys: ["Alt+PageUp"], group: "Tabs", label: "Previous tab", action: () => S.nextTab(-1) },
  { id: "view-switch", keys: ["Alt+V"], group: "Tabs", label: "Switch between the Packet and Field Engine views", action: switchView },
  { id: "field-menu", keys: ["Shift+F10", "ContextMenu", "Alt+Enter"], group: "Fields", label: "In a field: its actions menu",
    when: inFieldInput, action: openFieldMenu },
  { id: "hex-jump", keys: ["Alt+H"], group: "Fields",
    label: "From a field to its first byte in the hex view; from the hex view to the field at the caret", action: jumpFieldHex },
  { id: "help", keys: ["?"], group: "Help", label: "This list (not while typing in a field)", when: notTyping, action: openHelp },
  { id: "menu-move", keys: ["ArrowDown", "ArrowUp", "Home", "End"], group: "Menus", label: "In a menu: the next, previous, first, last item" },
  { id: "menu-switch", keys: ["ArrowLeft", "ArrowRight"], group: "Menus",
    label: "In a menu: the previous or next menu; on a template folder, Right opens it and Left closes it" },
  { id: "menu-activate", keys: ["Enter", " "], group: "Menus", label: "In a menu: open it, pick the item, open or close a folder" },
  { id: "menu-close", keys: ["Escape"], group: "Menus", label: "Close the menu (the focus goes back to its button) or the dialog" },
];

for (const row of ROWS) addShortcut(row);
