// File > Export as TRex profile…: the format (Python, JSON or YAML), the streams (this tab's, or one
// per tab) and a small form for each stream's mode and rate. The server (export_profile) builds each
// tab's packet and compiles its Field Engine as build_pkt_ex does and checks the settings; a value it
// refuses is said under its stream, at its field (`streams[1].mode.pps: must be a number`). The file
// downloads; the server's notes (what TRex will not load as written) stay shown in the dialog.
// Opening a profile (File > Open) is store.openFile's.
import { useState } from "preact/hooks";
import { html } from "./html.js";
import * as S from "./store.js";
import { app, MODE_TYPES, RATE_TYPES } from "./store.js";
import { Modal } from "./overlay.js";

const FORMATS = [
  ["python", "Python (.py)", "TRex's native profile: Scapy code and STLVm instructions"],
  ["json", "JSON (.json)", "as STLProfile.to_json() writes it"],
  ["yaml", "YAML (.yaml)", "trex-console's start -f reads it"],
];
const MODE_LABELS = { continuous: "Continuous", single_burst: "Single burst", multi_burst: "Multi-burst" };
const RATE_LABELS = { pps: "packets/s", bps_L1: "bits/s (L1)", bps_L2: "bits/s (L2)", percentage: "% of the port" };
const BURST_FIELDS = {
  single_burst: [["total_pkts", "Packets"]],
  multi_burst: [["pkts_per_burst", "Packets per burst"], ["count", "Bursts"], ["ibg", "Gap between bursts (µs)"]],
};

/** Where a server message puts its error: `streams[i]`, and the form's field for the value it names
 * (`mode.pps` is the rate, `mode.total_pkts` its own field); null for the profile as a whole. */
export function errorPlace(message) {
  const m = /^streams\[(\d+)\](?:\.(\w+)(?:\.(\w+))?)?/.exec(message);
  if (!m) return null;
  let field = null;
  if (m[2] === "name") field = "name";
  else if (m[2] === "mode" && RATE_TYPES.includes(m[3])) field = "rate";
  else if (m[2] === "mode" && m[3]) field = m[3] === "type" ? "type" : m[3];
  return { index: Number(m[1]), field };
}

function StreamForm({ form, index, error, onChange, onEnter }) {
  const id = (key) => `export-stream-${index}-${key}`;
  const errorId = id("error");
  const invalid = (key) => (error && error.field === key ? { "aria-invalid": "true", "aria-describedby": errorId } : {});
  const input = (key, label, width = "") => html`<label class="export-field" for=${id(key)}>${label}
    <input id=${id(key)} class=${width} value=${form[key]} spellcheck=${false} autocomplete="off" ...${invalid(key)}
           onInput=${(e) => onChange(key, e.currentTarget.value)} onKeyDown=${onEnter} /></label>`;
  return html`<fieldset class="export-stream" id=${`export-stream-${index}`}>
    <legend>Stream ${index + 1}: ${form.tab.name.value}</legend>
    ${input("name", "Name")}
    <label class="export-field" for=${id("type")}>Mode
      <select id=${id("type")} value=${form.type} ...${invalid("type")} onChange=${(e) => onChange("type", e.currentTarget.value)}>
        ${MODE_TYPES.map((t) => html`<option value=${t}>${MODE_LABELS[t]}</option>`)}</select></label>
    <span class="export-field">
      ${input("rate", "Rate", "export-number")}
      <label class="visually-hidden" for=${id("rate-type")}>Rate unit</label>
      <select id=${id("rate-type")} value=${form.rateType} onChange=${(e) => onChange("rateType", e.currentTarget.value)}>
        ${RATE_TYPES.map((t) => html`<option value=${t}>${RATE_LABELS[t]}</option>`)}</select></span>
    ${(BURST_FIELDS[form.type] || []).map(([key, label]) => input(key, label, "export-number"))}
    ${error ? html`<p class="error" role="alert" id=${errorId}>${error.message}</p>` : null}
  </fieldset>`;
}

export function ExportProfileDialog({ dialog }) {
  const [format, setFormat] = useState("python");
  const [scope, setScope] = useState("tab");
  const [forms, setForms] = useState(dialog.forms);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null); // {message, index?, field?}
  const [done, setDone] = useState(null); // {file, notes}
  const here = Math.max(0, app.tabs.value.indexOf(dialog.tab));
  const shown = scope === "all" ? forms : [forms[here]];
  const change = (index, key, value) => {
    const at = scope === "all" ? index : here;
    setForms(forms.map((f, i) => (i === at ? { ...f, [key]: value } : f)));
    setError(null);
    setDone(null);
  };
  const run = async () => {
    if (busy) return; // not disabled meanwhile: the focus stays on the button, in the dialog
    setBusy(true);
    setError(null);
    setDone(null);
    const outcome = await S.exportProfile(shown, format);
    setBusy(false);
    if (outcome.error) setError({ message: outcome.error, ...errorPlace(outcome.error) });
    else if (outcome.notes.length) setDone(outcome);
    else S.closeDialog();
  };
  const onEnter = (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      run();
    }
  };
  const rowError = (i) => (error && error.index === i ? error : null);
  const general = error && error.index === undefined ? error.message : null;
  const count = app.tabs.value.length;
  return html`<${Modal} id="export-profile" title="Export as TRex profile" onClose=${S.closeDialog}>
    <fieldset class="export-choice"><legend>Format</legend>
      ${FORMATS.map(([value, label, help]) => html`<label class="export-option" title=${help}>
        <input type="radio" name="export-format" id=${`export-format-${value}`} value=${value} checked=${format === value}
               data-autofocus=${format === value ? "" : undefined} onChange=${() => { setFormat(value); setDone(null); }} />
        ${label}</label>`)}
    </fieldset>
    <fieldset class="export-choice"><legend>Streams</legend>
      <label class="export-option"><input type="radio" name="export-scope" id="export-scope-tab" checked=${scope === "tab"}
        onChange=${() => { setScope("tab"); setError(null); setDone(null); }} /> This tab</label>
      <label class="export-option"><input type="radio" name="export-scope" id="export-scope-all" checked=${scope === "all"}
        onChange=${() => { setScope("all"); setError(null); setDone(null); }} /> Every tab (${count}), one stream each</label>
    </fieldset>
    <div class="export-streams">${shown.map((form, i) => html`<${StreamForm} key=${form.tab.key} form=${form} index=${i}
        error=${rowError(i)} onChange=${(key, value) => change(i, key, value)} onEnter=${onEnter} />`)}</div>
    ${general ? html`<p class="error" role="alert" id="export-error">${general}</p>` : null}
    ${done ? html`<div id="export-notes" role="status"><p>Saved ${done.file}. TRex will not load all of it as written:</p>
        <ul>${done.notes.map((n) => html`<li>${n}</li>`)}</ul></div>` : null}
    <div class="dialog-buttons">
      <button type="button" id="export-profile-button" aria-disabled=${busy ? "true" : "false"} onClick=${run}>${busy ? "Exporting…" : "Export"}</button>
      <button type="button" id="export-cancel-button" onClick=${S.closeDialog}>${done ? "Close" : "Cancel"}</button></div>
  <//>`;
}
