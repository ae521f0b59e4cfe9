// The layer stack: one collapsible pane per layer, a row per field, editors typed from get_definitions.
import { useState, useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { html } from "./html.js";
import * as S from "./store.js";
import { app, ErrorKey } from "./store.js";
import { fieldKind } from "./definitions.js";
import { checkField } from "./validate.js";
import { layerPath, isPrimitive, builtLayer, builtField, realId } from "./document.js";
import { PayloadEditor } from "./payload.js";
import { menuItems, moveAmong, useDismiss } from "./menu.js";

const EXPRESSION_KINDS = new Set(["EXPRESSION", "TCP_OPTIONS", "IP_OPTIONS"]);

/** A field is one Tab stop, its input: the "⋮" actions open from it by these keys (keys.js). */
const MENU_KEYS = "Shift+F10 Alt+Enter";
const MENU_HINT = "Actions: Shift+F10, the menu key or Alt+Enter";

/** Whether the server gave the field's value as a value object of `vtype` (BYTES, EXPRESSION). */
function builtAs(built, vtype) {
  return !!built && !isPrimitive(built.value) && built.value.vtype === vtype;
}

/** What a field shows: the server's rendering of the built packet, else what the user set. */
function shownValue(built, value) {
  if (built) {
    if (builtAs(built, "EXPRESSION")) return built.value.expr;
    if (built.hvalue === "" && typeof built.value === "number") return String(built.value); // flags at 0
    return built.hvalue ?? String(built.value ?? "");
  }
  if (value === undefined) return "";
  if (isPrimitive(value)) return String(value);
  return value.vtype === "EXPRESSION" ? value.expr : "";
}

function position(layerResult, built) {
  if (!layerResult || !built || built.offset === undefined || built.length === undefined) return "meta-field";
  if (built.ignored) return "ignored";
  const begin = layerResult.offset + built.offset;
  const hex = (n) => n.toString(16).padStart(4, "0");
  if (built.length > 0) return `${hex(begin)}-${hex(begin + built.length - 1)} [${String(built.length).padStart(4, "0")}]`;
  if (built.bit_length !== undefined) return `${hex(begin)}-${hex(begin)} [bits]`;
  return `${hex(begin)} [0000]`;
}

export function layerTitle(meta, layer, layerResult) {
  const name = meta ? meta.name : layer.id;
  const real = layerResult && realId(layerResult);
  if (!layerResult) return `${name} as Payload`;
  if (!layerResult.valid_structure) return `${name} as ${real || "Payload"}`;
  if (real && real !== layer.id) return `${name} as ${real}`;
  return name;
}

/** Why a layer is shown "as" another: it cannot follow the layer before it in Scapy's dissection. */
function misplacedNote(meta, layer, layerResult, doc, index) {
  const name = meta ? meta.name : layer.id;
  const before = doc.layers[index - 1].id;
  const real = layerResult && realId(layerResult);
  const readAs = real ? `as ${real}` : "as the payload of an earlier layer";
  return `${name} cannot follow ${before} here: the packet is sent as built, but its bytes read back ${readAs}.`;
}

export function LayerPane({ tab, index }) {
  const doc = tab.doc.value;
  const layer = doc.layers[index];
  const result = tab.result.value;
  const layerResult = builtLayer(doc, result, index);
  const meta = app.defs.value.protocols.get(layer.id);
  const path = layerPath(doc, index);
  const collapsed = !!tab.collapsed.value[path];
  const title = layerTitle(meta, layer, layerResult);
  const real = layerResult && realId(layerResult);
  const invalid = layerResult ? !layerResult.valid_structure || (real && real !== layer.id) : true;
  const fields = meta ? meta.fields : (layerResult ? layerResult.fields.map((f) => ({ id: f.id, name: f.id })) : []);
  const error = tab.errors.value[ErrorKey.layer(index)];
  return html`
    <section id=${`${path}-pane`} class=${`layer ${invalid ? "invalid-layer" : ""} ${collapsed ? "collapsed" : "expanded"}`}
             aria-label=${`Layer ${title}`}>
      <h3 class="layer-title">
        <button type="button" class="layer-toggle" aria-expanded=${!collapsed} aria-controls=${`${path}-fields`}
                id=${`${path}-toggle`} onClick=${() => S.toggleLayer(tab, path)}>
          <span aria-hidden="true">${collapsed ? "▸" : "▾"}</span> ${title}
          ${layerResult ? html`<span class="layer-offset">@${layerResult.offset}</span>` : null}
        </button>
        ${index > 0 ? html`
          <span class="layer-actions">
            <button type="button" aria-label=${`Move ${layer.id} up`} title="Move layer up" disabled=${index < 2}
                    id=${`${path}-up`} onClick=${() => S.moveLayer(tab, index, -1)}>↑</button>
            <button type="button" aria-label=${`Move ${layer.id} down`} title="Move layer down"
                    disabled=${index >= doc.layers.length - 1} id=${`${path}-down`}
                    onClick=${() => S.moveLayer(tab, index, 1)}>↓</button>
            <button type="button" aria-label=${`Delete ${layer.id}`} title="Delete layer" id=${`${path}-delete`}
                    onClick=${() => S.deleteLayer(tab, index)}>✕</button>
          </span>` : null}
      </h3>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${invalid && index > 0 ? html`<p class="note" role="note" id=${`${path}-note`}>${misplacedNote(meta, layer, layerResult, doc, index)}</p>` : null}
      <div id=${`${path}-fields`} class="fields" hidden=${collapsed}>
        ${fields.map((fmeta) => html`<${FieldRow} key=${fmeta.id} tab=${tab} index=${index} meta=${fmeta}
                                        path=${path} layerResult=${layerResult} />`)}
      </div>
    </section>`;
}

function FieldRow({ tab, index, meta, path, layerResult }) {
  const layer = tab.doc.value.layers[index];
  const id = `${path}-${meta.id}`;
  const built = builtField(layerResult, meta.id);
  const value = layer.fields[meta.id];
  const isSet = value !== undefined;
  const kind = fieldKind(meta);
  const stale = tab.stale.value[`${index}:${meta.id}`];
  const state = stale !== undefined ? "field-value-stale"
    : isSet ? "field-value-set" : meta.auto ? "field-value-auto" : "field-value-default";
  const selection = tab.selection.value;
  const selected = selection && selection.layer === index && selection.field === meta.id;
  const error = tab.errors.value[ErrorKey.field(index, meta.id)];
  const [menu, setMenu] = useState(false);
  const [payloadOpen, setPayloadOpen] = useState(false);
  const row = useRef(null);
  useEffect(() => {
    if (selected && row.current && selection.fromHex) row.current.scrollIntoView({ block: "nearest" });
  }, [selected, selection]);
  const select = () => {
    if (!selected) S.select(tab, { layer: index, field: meta.id });
  };
  const onContext = (event) => {
    event.preventDefault();
    setMenu(true);
  };
  let editor;
  if (kind === "BYTES" || builtAs(built, "BYTES")) {
    editor = html`<input id=${id} class=${`field-input payload-value ${state}`} readonly value=${shownValue(built, value)}
                         aria-describedby=${error ? `${id}-error` : undefined} aria-haspopup="dialog"
                         title=${`Enter or click to edit the payload. ${MENU_HINT}`} aria-keyshortcuts=${MENU_KEYS}
                         onFocus=${select} onClick=${() => setPayloadOpen(true)}
                         onKeyDown=${(e) => { if ((e.key === "Enter" && !e.altKey) || e.key === " ") { e.preventDefault(); setPayloadOpen(true); } }} />`;
  } else {
    editor = html`<${TextEditor} tab=${tab} index=${index} meta=${meta} id=${id} kind=${kind} built=${built}
                                 value=${value} state=${state} error=${error} onFocus=${select} />`;
  }
  return html`
    <div class=${`field-row ${selected ? "selected" : ""}`} ref=${row} onContextMenu=${onContext}
         onClick=${select} data-field=${id}>
      <span class="field-position">${position(layerResult, built)}</span>
      <label class="field-name" for=${id} id=${`${id}-label`} title=${meta.id}>${meta.name || meta.id}</label>
      <span class="field-editor">
        ${editor}
        <button type="button" class="field-menu-button" aria-label=${`Actions for ${meta.name || meta.id}`}
                aria-haspopup="menu" aria-expanded=${menu} id=${`${id}-menu`} tabindex="-1" title=${MENU_HINT}
                onClick=${() => setMenu(!menu)}>⋮</button>
        ${menu ? html`<${FieldMenu} tab=${tab} index=${index} meta=${meta} built=${built} id=${id} close=${() => setMenu(false)} />` : null}
      </span>
      ${stale !== undefined ? html`<p class="stale-note" id=${`${id}-stale`}>
        Scapy computes ${stale} for this packet
        <button type="button" id=${`${id}-fix`} aria-label=${`Set ${meta.name || meta.id} to the computed ${stale}`}
                onClick=${() => S.fixStale(tab, index, meta.id)}>Use ${stale}</button></p>` : null}
      ${error ? html`<p class="error field-error" id=${`${id}-error`} role="alert">${error}</p>` : null}
      ${payloadOpen ? html`<${PayloadEditor} tab=${tab} index=${index} fieldId=${meta.id} value=${value} built=${built}
                              close=${() => setPayloadOpen(false)} id=${id} />` : null}
      ${kind === "BITMASK" && meta.bits ? html`<${BitRows} tab=${tab} index=${index} meta=${meta} id=${id} built=${built} />` : null}
      ${EXPRESSION_KINDS.has(kind) && built && built.value && built.value.expr ? html`<${OptionRows} expr=${built.value.expr} id=${id} />` : null}
    </div>`;
}

function TextEditor({ tab, index, meta, id, kind, built, value, state, error, onFocus }) {
  const shown = shownValue(built, value);
  const [text, setText] = useState(shown);
  const [dirty, setDirty] = useState(false); // typed: the text is the user's until the edit is made
  const [entered, setEntered] = useState(null); // the text entered, on its way to the server
  const latest = useRef(text);
  latest.current = text;
  useEffect(() => {
    if (!dirty) setText(shown);
  }, [shown, dirty]);
  const expression = EXPRESSION_KINDS.has(kind) || builtAs(built, "EXPRESSION");
  const commit = async (typed) => {
    if (typed === entered) return; // entered already (Enter, then the click that leaves the field)
    const problem = typed === shown ? "" : checkField(kind, meta, typed);
    if (problem) {
      S.setFieldError(tab, index, meta.id, problem);
      return;
    }
    let newValue = typed.trim() === "" ? undefined : expression ? { vtype: "EXPRESSION", expr: typed } : typed.trim();
    setEntered(typed);
    const ok = await S.editField(tab, index, meta.id, newValue);
    setEntered(null);
    if (ok && latest.current === typed) setDirty(false); // unless more was typed meanwhile
  };
  const onKeyDown = (event) => {
    if (event.key === "Enter" && !event.altKey) {
      event.preventDefault();
      commit(event.currentTarget.value);
    } else if (event.key === "Escape") {
      event.preventDefault();
      setText(shown);
      setDirty(false);
      S.setFieldError(tab, index, meta.id, null);
    }
  };
  const options = kind === "ENUM" && meta.values_dict ? Object.keys(meta.values_dict) : null;
  return html`
    <input id=${id} class=${`field-input ${state}`} value=${text} spellcheck=${false} autocomplete="off"
           data-dirty=${dirty && text !== entered ? "true" : "false"} title=${MENU_HINT} aria-keyshortcuts=${MENU_KEYS}
           list=${options ? `${id}-values` : undefined} aria-invalid=${error ? "true" : "false"}
           aria-describedby=${error ? `${id}-error` : undefined}
           onInput=${(e) => { setText(e.currentTarget.value); setDirty(true); }}
           onKeyDown=${onKeyDown} onFocus=${(e) => { onFocus(); e.currentTarget.select(); }}
           onBlur=${(e) => { if (dirty) commit(e.currentTarget.value); }} />
    ${options ? html`<datalist id=${`${id}-values`}>${options.map((o) => html`<option value=${o} />`)}</datalist>` : null}`;
}

/** A flag's checkbox label: what checking it sets ("Don't fragment"), else the flag's name. */
function bitLabel(bit) {
  const on = bit.values[1].name.replace(/\s*\(1\)$/, "");
  return /^(set|on|yes)$/i.test(on) ? bit.name : on;
}

function BitRows({ tab, index, meta, id, built }) {
  const [pending, setPending] = useState(null); // the value asked for, shown until the server answers
  const current = pending ?? (built && typeof built.value === "number" ? built.value : 0);
  const set = async (mask, bitValue) => {
    const wanted = (current & ~mask) | bitValue;
    setPending(wanted);
    await S.editField(tab, index, meta.id, String(wanted));
    setPending(null);
  };
  // The bits are for the mouse: from the keyboard the field's own input takes the flags ("DF", "SA"),
  // so a field stays one Tab stop.
  return html`
    <div class="sub-rows" role="group" aria-label=${`${meta.name || meta.id} bits`}>
      ${meta.bits.map((bit) => {
        const bitId = `${id}-${bit.name.replace(/[^A-Za-z0-9_]/g, "_")}`;
        const values = bit.values || [];
        const mask = bit.mask.toString(2).padStart(8, "0").replace(/0/g, ".");
        if (values.length === 2 && values[0].value === 0) {
          const on = (current & bit.mask) === values[1].value;
          return html`<div class="sub-row"><span class="field-position">${mask}</span>
            <label class="bit-label"><input type="checkbox" id=${bitId} checked=${on} tabindex="-1"
              onChange=${(e) => set(bit.mask, e.currentTarget.checked ? values[1].value : 0)} /> ${bitLabel(bit)}</label></div>`;
        }
        return html`<div class="sub-row"><span class="field-position">${mask}</span>
          <label class="bit-label" for=${bitId}>${bit.name}</label>
          <select id=${bitId} tabindex="-1" onChange=${(e) => set(bit.mask, Number(e.currentTarget.value))}>
            ${values.map((v) => html`<option value=${v.value} selected=${(current & bit.mask) === v.value}>${v.name}</option>`)}
          </select></div>`;
      })}
    </div>`;
}

/** Top-level items of a Python list literal such as `[('MSS', 1460), ('NOP', None)]`. */
export function splitOptions(expr) {
  const text = expr.trim();
  if (!text.startsWith("[") || !text.endsWith("]")) return [];
  const items = [];
  let depth = 0, quote = null, start = 1;
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      items.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start, text.length - 1).trim();
  if (last) items.push(last);
  return items;
}

function OptionRows({ expr, id }) {
  const items = splitOptions(expr);
  if (!items.length) return null;
  return html`<ul class="sub-rows option-rows" aria-label="Options" id=${`${id}-options`}>
    ${items.map((item) => {
      const m = /^\(\s*'([^']*)'\s*,\s*(.*)\)$/s.exec(item);
      return html`<li class="sub-row"><span class="option-name">${m ? m[1] : "option"}</span>
        <span class="option-value">${m ? m[2] : item}</span></li>`;
    })}</ul>`;
}

/** A field's actions: Up/Down/Home/End move, Escape gives the focus back to the field's input, a click
 * or the focus elsewhere closes it. */
function FieldMenu({ tab, index, meta, built, id, close }) {
  const popup = useRef(null);
  useLayoutEffect(() => menuItems(popup.current)[0]?.focus(), []);
  useDismiss(popup, close, () => document.getElementById(`${id}-menu`));
  const backToField = () => {
    close();
    document.getElementById(id)?.focus();
  };
  const generate = () => {
    backToField();
    S.generateField(tab, index, meta.id);
  };
  const reset = () => {
    backToField();
    S.editField(tab, index, meta.id, undefined);
  };
  const feTemplate = (template) => {
    close();
    S.addFieldTemplate(tab, index, meta.id, template, built, meta);
  };
  const onKeyDown = (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      backToField();
    } else if (moveAmong(menuItems(popup.current), e.target, e.key)) {
      e.preventDefault();
    }
  };
  return html`<div class="menu-popup" role="menu" aria-label=${`${meta.id} actions`} ref=${popup} onKeyDown=${onKeyDown}>
    <button type="button" role="menuitem" tabindex="-1" onClick=${generate}>Generate</button>
    <button type="button" role="menuitem" tabindex="-1" onClick=${reset}>Set to default</button>
    ${app.defs.value.feTemplates.map((t) => html`<button type="button" role="menuitem" tabindex="-1" onClick=${() => feTemplate(t)}>
      Field engine: ${t.name}</button>`)}
  </div>`;
}
