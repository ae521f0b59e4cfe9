// The editor shell: menus, document tabs, the packet view (layers + hex), the field-engine view, dialogs.
import { useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import * as S from "./store.js";
import { app, ErrorKey } from "./store.js";
import { LayerPane } from "./fields.js";
import { HexView } from "./hexview.js";
import { FieldEngineTab } from "./fieldengine.js";
import { PacketList } from "./packetlist.js";
import { PasteBox } from "./pastebox.js";
import { ExportProfileDialog } from "./profiles.js";
import { byteLength } from "./bytes.js";
import { Menu, Folder } from "./menu.js";
import { keysOf, openHelp } from "./keys.js";
import { HelpOverlay, ConfirmDialog } from "./overlay.js";
import { storageNote } from "./persist.js";

function templateTree(templates) {
  const root = { children: new Map(), items: [] };
  for (const t of templates) {
    const parts = t.id.split("/");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node.children.has(part)) node.children.set(part, { children: new Map(), items: [] });
      node = node.children.get(part);
    }
    node.items.push({ id: t.id, label: parts[parts.length - 1] });
  }
  return root;
}

function TemplateMenu({ node, onPick }) {
  return html`${[...node.children.entries()].map(([name, child]) => html`
      <${Folder} name=${name}><${TemplateMenu} node=${child} onPick=${onPick} /><//>`)}
    ${node.items.map((item) => html`<button type="button" role="menuitem" class="menu-item" data-template=${item.id}
      tabindex="-1" onClick=${() => onPick(item.id)}>${item.label}</button>`)}`;
}

function Toolbar({ tab }) {
  const fileInput = useRef(null);
  const item = (id, label, action, disabled = false, shortcut = null) => {
    const keys = shortcut && keysOf(shortcut);
    return html`<button type="button" role="menuitem" class="menu-item" id=${id} disabled=${disabled} tabindex="-1"
      aria-keyshortcuts=${keys || undefined} onClick=${action}><span>${label}</span>${keys ? html`<kbd>${keys}</kbd>` : null}</button>`;
  };
  const saveAll = tab.pcap.value && tab.pcap.value.rows.length > 1; // what Ctrl+S saves
  const state = app.rpc.state.value;
  tab.revision.value; // re-render when the history changes (undo/redo availability)
  const stateText = {
    connected: "Connected", connecting: "Connecting…", disconnected: "Disconnected, reconnecting…",
    unresponsive: "Server not answering, reconnecting…",
  }[state];
  return html`<header class="toolbar">
    <h1 class="app-title">scapyrpc packet editor</h1>
    <nav class="menus" aria-label="Menus">
      <${Menu} label="File" id="file-menu">
        ${item("menu-new", "New", () => S.clearDocument(tab), false, "file-new")}
        ${item("menu-new-tab", "New tab", () => S.openTab(), false, "tab-new")}
        ${item("menu-open", "Open… (.trp, pcap, TRex profile)", () => fileInput.current.click(), false, "file-open")}
        ${item("menu-paste", "Paste packet…", S.showPasteBox)}
        ${item("menu-save-trp", "Save document (.trp)", () => S.saveTrp(tab), false, saveAll ? null : "file-save")}
        ${item("menu-save-pcap", "Save packet as pcap", () => S.savePcap(tab, false))}
        ${item("menu-save-pcap-all", "Save all packets as pcap", () => S.savePcap(tab, true), !saveAll, saveAll ? "file-save" : null)}
        ${item("menu-export-profile", "Export as TRex profile…", () => S.showExportProfile(tab))}
      <//>
      <${Menu} label="Templates" id="templates-menu">
        <${TemplateMenu} node=${templateTree(app.templates.value)} onPick=${(id) => S.openTemplate(tab, id)} />
      <//>
      <${Menu} label="Edit" id="edit-menu">
        ${item("menu-undo", "Undo", () => S.undo(tab), !tab.past.length, "edit-undo")}
        ${item("menu-redo", "Redo", () => S.redo(tab), !tab.future.length, "edit-redo")}
      <//>
      <${Menu} label="Action" id="action-menu">
        ${item("menu-expand-all", "Expand all", () => S.collapseAll(tab, false))}
        ${item("menu-collapse-all", "Collapse all", () => S.collapseAll(tab, true))}
        ${item("menu-recalculate", "Recalculate lengths and checksums", () => S.recalculateAutoValues(tab))}
        ${item("menu-copy-scapy", "Copy as Scapy code", () => S.showScapyCode(tab))}
        ${item("menu-copy-link", "Copy link to this packet", S.copyLink)}
      <//>
      <${Menu} label="Help" id="help-menu">
        ${item("menu-shortcuts", "Keyboard shortcuts", openHelp, false, "help")}
      <//>
    </nav>
    <input type="file" ref=${fileInput} id="open-file-input" class="visually-hidden" tabindex="-1"
           aria-label="Open a document, a pcap or a TRex profile" accept=".trp,.json,.yaml,.yml,.py,.pcap,.pcapng,.cap"
           onChange=${async (e) => { const f = e.currentTarget.files[0]; e.currentTarget.value = ""; if (f) await S.openFile(tab, f); }} />
    ${storageNote.value ? html`<span id="storage-state" class="storage-state" role="status"
        title="The browser's session storage cannot hold all the tabs: save what you need to keep">${storageNote.value}</span>` : null}
    <span id="connection-state" class=${`connection ${state}`} role="status">${stateText}</span>
  </header>`;
}

function Tabs() {
  const tabs = app.tabs.value;
  return html`<div class="doc-tabs" role="tablist" aria-label="Documents">
    ${tabs.map((t, i) => html`<span class=${`doc-tab ${i === app.active.value ? "active" : ""}`} key=${t.key}>
      <button type="button" role="tab" id=${`doc-tab-${i}`} aria-selected=${i === app.active.value}
              onClick=${() => S.activateTab(i)}>${S.isUnsaved(t) ? html`<span class="unsaved-mark" title="Unsaved changes">• </span>` : null}<span class="tab-name">${t.name.value}</span></button>
      <button type="button" class="close" aria-label=${`Close ${t.name.value}`} onClick=${() => S.requestCloseTab(i)}>×</button></span>`)}
    <button type="button" id="new-tab-button" aria-label="New document tab"
            onClick=${() => S.openTab()}>+</button>
  </div>`;
}

function Breadcrumb({ tab }) {
  const doc = tab.doc.value;
  const result = tab.result.value;
  const size = byteLength(result?.binary);
  const focus = (i) => S.collapseAll(tab, true, i);
  return html`<nav id="breadcrumb" class="breadcrumb" aria-label="Packet structure">
    <span>${size} bytes</span>
    ${doc.layers.map((l, i) => html`<span aria-hidden="true"> › </span>
      <button type="button" class="crumb" onClick=${() => focus(i)}>${l.id}</button>`)}
  </nav>`;
}

let cachedOptions = null;

/** One <option> per protocol, made once: the same vnodes every render, so preact skips them. */
function protocolOptions(defs) {
  if (!cachedOptions || cachedOptions.defs !== defs) {
    cachedOptions = { defs, nodes: defs.protocolIds.map((id) => html`<option value=${id} />`) };
  }
  return cachedOptions.nodes;
}

function AppendPane({ tab }) {
  const [text, setText] = useState("");
  const suggestions = tab.suggestions.value;
  const error = tab.errors.value[ErrorKey.append];
  const append = async () => {
    if (!text.trim()) return;
    if (await S.appendLayer(tab, text)) setText("");
  };
  return html`<section id="append-protocol-pane" class="append-pane" aria-label="Append new layer">
    <label for="append-protocol-combobox">Append new layer</label>
    <input id="append-protocol-combobox" class="protocol-type-selector" list="append-protocol-list" value=${text}
           autocomplete="off" spellcheck=${false} placeholder=${suggestions.length ? `e.g. ${suggestions[0]}` : "protocol"}
           aria-invalid=${error ? "true" : "false"} aria-describedby=${error ? "append-error" : undefined}
           onInput=${(e) => setText(e.currentTarget.value)}
           onKeyDown=${(e) => { if (e.key === "Enter") { e.preventDefault(); append(); } }} />
    <datalist id="append-protocol-list">
      ${suggestions.map((id) => html`<option value=${id}>valid next layer</option>`)}
      ${protocolOptions(app.defs.value)}
    </datalist>
    <button type="button" id="append-protocol-button" onClick=${append}>Append layer</button>
    ${error ? html`<p class="error" role="alert" id="append-error">${error}</p>` : null}
  </section>`;
}

/** What the field styles mean, and the one-click recalculation of computed fields. */
function FieldLegend({ tab }) {
  const stale = Object.keys(tab.stale.value).length;
  return html`<div class="field-legend" id="field-legend">
    <span class="legend-title">Values:</span>
    <span class="legend-item field-value-set">set by you</span>
    <span class="legend-item field-value-auto">computed by Scapy</span>
    <span class="legend-item field-value-default">default</span>
    <span class="legend-item field-value-stale">stale: Scapy computes another</span>
    <button type="button" id="recalculate-button" class=${stale ? "attention" : ""}
            title="Let Scapy compute every length, checksum and count again (addresses stay)"
            onClick=${() => S.recalculateAutoValues(tab)}>Recalculate${stale ? ` (${stale} stale)` : ""}</button>
  </div>`;
}

function PacketView({ tab }) {
  const doc = tab.doc.value;
  return html`<div class="packet-view">
    <section class="layers-panel" aria-label="Layers" id="layers-panel">
      <${Breadcrumb} tab=${tab} />
      <${FieldLegend} tab=${tab} />
      ${tab.errors.value[ErrorKey.document] ? html`<p class="error" role="alert" id="document-error">${tab.errors.value[ErrorKey.document]}</p>` : null}
      ${doc.layers.map((_, i) => html`<${LayerPane} key=${`${i}:${doc.layers[i].id}`} tab=${tab} index=${i} />`)}
      <${AppendPane} tab=${tab} />
    </section>
    <${HexView} tab=${tab} />
  </div>`;
}

function Dialog() {
  const d = app.dialog.value;
  if (!d) return null;
  if (d.kind === "help") return html`<${HelpOverlay} />`;
  if (d.kind === "confirm") return html`<${ConfirmDialog} d=${d} />`;
  const close = S.closeDialog;
  const onKeyDown = (e) => { if (e.key === "Escape") close(); };
  if (d.kind === "paste") return html`<${PasteBox} dialog=${d} />`;
  if (d.kind === "export-profile") return html`<${ExportProfileDialog} dialog=${d} />`;
  return html`<div class="dialog-backdrop"><div class="dialog" role="dialog" aria-modal="true" aria-labelledby="code-title" onKeyDown=${onKeyDown}>
    <h2 id="code-title">${d.title || "Scapy code"}</h2>
    <label for="scapy-code" class="visually-hidden">Code</label>
    <textarea id="scapy-code" readonly rows="6" value=${d.code} ref=${(el) => el && el.select()}></textarea>
    <div class="dialog-buttons"><button type="button" id="copy-code-button" onClick=${() => S.copyText(d.code)}>Copy</button>
    <button type="button" id="close-dialog-button" onClick=${close}>Close</button></div></div></div>`;
}

export function App() {
  const defs = app.defs.value;
  const tab = S.activeTab();
  if (!defs || !tab) {
    return html`<main class="loading"><p role="status" id="loading">${app.notice.value || "Loading protocol definitions…"}</p></main>`;
  }
  const view = tab.view.value;
  return html`<div class="app">
    <${Toolbar} tab=${tab} />
    <${Tabs} />
    <div class="views" role="tablist" aria-label="Editor view">
      <button type="button" role="tab" id="view-packet" aria-selected=${view === "packet"} onClick=${() => S.showView(tab, "packet")}>Packet</button>
      <button type="button" role="tab" id="view-fe" aria-selected=${view === "fe"} onClick=${() => S.showView(tab, "fe")}>
        Field Engine${tab.doc.value.fe.instructions.length ? ` (${tab.doc.value.fe.instructions.length})` : ""}</button>
      <span id="notice" class="notice" role="status">${app.notice.value}</span>
    </div>
    ${tab.pcap.value ? html`<${PacketList} key=${tab.key} tab=${tab} />` : null}
    <main class="content">${view === "fe" ? html`<${FieldEngineTab} tab=${tab} />` : html`<${PacketView} tab=${tab} />`}</main>
    <${Dialog} />
  </div>`;
}
