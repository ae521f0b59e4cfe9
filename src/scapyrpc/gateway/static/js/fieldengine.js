// The Field Engine tab: global parameters, instructions with typed parameters and server-side choices,
// help texts, each instruction's error and warnings under it, the stream preview, the compiled
// program, and import of a raw VM (decompile_vm_raw). Parameters keep TRex's ids on the wire; the tab
// shows readable labels (the id in the tooltip).
import { useState } from "preact/hooks";
import { html } from "./html.js";
import * as S from "./store.js";
import { app, ErrorKey } from "./store.js";
import { base64ToText } from "./bytes.js";
import { StreamPreview } from "./preview.js";
import { UNSET_VALUES } from "./document.js";

/** What each instruction does, shown beside its TRex class name. */
const INSTRUCTION_TITLES = {
  STLVmFlowVar: "Flow variable",
  STLVmFlowVarRepeatableRandom: "Repeatable random variable",
  STLVmWrFlowVar: "Write a variable into the packet",
  STLVmWrMaskFlowVar: "Write a variable through a mask",
  STLVmFixIpv4: "Fix the IPv4 checksum",
  STLVmFixChecksumHw: "Fix checksums (NIC offload)",
  STLVmFixIcmpv6: "Fix the ICMPv6 checksum",
  STLVmTrimPktSize: "Trim the packet to a variable's size",
  STLVmTupleGen: "Tuple generator (IP and port)",
};

/** Labels for the parameters whose definition names are their ids or unclear. */
const PARAM_LABELS = {
  name: "Variable name",
  fv_name: "Variable",
  pkt_offset: "Field (or byte offset)",
  offset: "Layer",
  offset_fixup: "Offset fix-up (bytes)",
  add_val: "Add to the value",
  add_value: "Add to the value",
  is_big: "Byte order",
  size: "Size (bytes)",
  pkt_cast_size: "Write size (bytes)",
  value_list: "Value list",
  limit_flows: "Flows limit",
  port_min: "Min port",
  port_max: "Max port",
};

/** Readable labels of choices whose definition labels are codes. */
const CHOICE_LABELS = {
  is_big: { true: "Big-endian (network order)", false: "Little-endian" },
  l4_type: { 11: "UDP", 13: "TCP" },
};

export function instructionTitle(id) {
  return INSTRUCTION_TITLES[id] || id;
}

function paramLabel(pid, meta) {
  return PARAM_LABELS[pid] || (meta && meta.name) || pid;
}

/** A parameter's value as the tab shows it: TRex's "None"/"Not defined" placeholders are no value. */
function shownParameter(value) {
  return value === undefined || value === null || UNSET_VALUES.has(String(value)) ? "" : String(value);
}

function ParamInput({ tab, index, pid, value, onCommit }) {
  const meta = app.defs.value.feParams.get(pid) || { id: pid, name: pid };
  const id = `fe-${index}-${pid}`;
  const [text, setText] = useState(null);
  const [choices, setChoices] = useState(null);
  const current = shownParameter(value);
  const shown = text ?? current;
  const commit = () => {
    if (text !== null && text !== current) onCommit(pid, text.trim() === "" ? undefined : text);
    setText(null);
  };
  const loadChoices = async () => {
    if (!choices) setChoices(await S.parameterChoices(tab, pid));
  };
  let control;
  if (meta.dict && meta.editable !== true) {
    const labels = CHOICE_LABELS[pid] || {};
    control = html`<select id=${id} value=${String(value ?? meta.defaultValue ?? "")} title=${pid}
                           onChange=${(e) => onCommit(pid, e.currentTarget.value)}>
      ${Object.entries(meta.dict).map(([k, label]) => html`<option value=${k}>${labels[k] ?? label}</option>`)}</select>`;
  } else {
    control = html`<input id=${id} value=${shown} autocomplete="off" spellcheck=${false} list=${`${id}-choices`}
        title=${pid} placeholder=${meta.required ? "required" : "none"}
        onFocus=${loadChoices} onInput=${(e) => setText(e.currentTarget.value)} onBlur=${commit}
        onKeyDown=${(e) => { if (e.key === "Enter") { e.preventDefault(); commit(); } else if (e.key === "Escape") setText(null); }} />
      <datalist id=${`${id}-choices`}>${(choices || []).map(([k, label]) => html`<option value=${k}>${label !== k ? label : ""}</option>`)}</datalist>`;
  }
  return html`<div class="fe-param"><label for=${id} title=${pid}>${paramLabel(pid, meta)}${meta.required ? " *" : ""}</label>${control}</div>`;
}

function Instruction({ tab, index, instruction, warnings, error }) {
  const meta = app.defs.value.feInstructions.get(instruction.id);
  const params = meta ? meta.parameters : Object.keys(instruction.parameters);
  const commit = (pid, value) => S.setInstructionParameter(tab, index, pid, value);
  const remove = () => S.removeInstruction(tab, index);
  return html`<li class=${`fe-instruction${error ? " has-error" : ""}`} id=${`fe-${index}`}>
    <h3><span>${instructionTitle(instruction.id)} <code class="fe-class">${instruction.id}</code></span>
      <button type="button" id=${`fe-${index}-remove`} aria-label=${`Remove instruction ${index + 1} ${instruction.id}`}
              onClick=${remove}>Remove</button></h3>
    ${error ? html`<p class="error" role="alert" id=${`fe-${index}-error`} title=${error.original}>${error.message}</p>` : null}
    ${meta && meta.help ? html`<details class="fe-help"><summary>Help</summary><pre>${base64ToText(meta.help)}</pre></details>` : null}
    <div class="fe-params">${params.map((pid) => html`<${ParamInput} key=${pid} tab=${tab} index=${index} pid=${pid}
        value=${instruction.parameters[pid]} onCommit=${commit} />`)}</div>
    ${warnings.length ? html`<ul class="fe-warnings" id=${`fe-${index}-warnings`} aria-label="Warnings">
        ${warnings.map((w) => html`<li class="warning">${w.message}</li>`)}</ul>` : null}
  </li>`;
}

export function FieldEngineTab({ tab }) {
  const defs = app.defs.value;
  const doc = tab.doc.value;
  const result = tab.result.value;
  const fe = result && result.field_engine;
  const [adding, setAdding] = useState(defs.feInstructions.keys().next().value);
  const [vmText, setVmText] = useState("");
  const vmError = tab.errors.value[ErrorKey.vm];
  const detail = fe && fe.error ? fe.error_detail || { instruction: null, message: fe.error } : null;
  const at = detail && detail.instruction !== null && detail.instruction < doc.fe.instructions.length ? detail.instruction : null;
  const problem = tab.errors.value[ErrorKey.fe]
    || (detail && (at === null ? detail.message : `Instruction ${at + 1} (${doc.fe.instructions[at].id}): ${detail.message}`));
  return html`<section class="fe-tab" aria-label="Field engine">
    <h2 class="panel-title">Global parameters</h2>
    <div class="fe-params">
      ${defs.feParameters.map((p) => html`<div class="fe-param"><label for=${`fe-global-${p.id}`}>${p.name}</label>
        <input id=${`fe-global-${p.id}`} value=${doc.fe.global[p.id] ?? ""}
               onChange=${(e) => S.setFeGlobal(tab, p.id, e.currentTarget.value)} /></div>`)}
    </div>
    <h2 class="panel-title">Instructions</h2>
    ${problem ? html`<p class="error" role="alert" id="fe-error">${problem}</p>` : null}
    <ol class="fe-instructions">${doc.fe.instructions.map((ins, i) => html`<${Instruction} key=${i} tab=${tab} index=${i}
        instruction=${ins} warnings=${((fe && fe.warnings) || []).filter((w) => w.instruction === i)}
        error=${at === i ? { message: detail.message, original: fe.error } : null} />`)}</ol>
    <div class="fe-add">
      <label for="append-instruction-select">New instruction</label>
      <select id="append-instruction-select" value=${adding} onChange=${(e) => setAdding(e.currentTarget.value)}>
        ${[...defs.feInstructions.keys()].map((id) => html`<option value=${id}>${instructionTitle(id)} (${id})</option>`)}
      </select>
      <button type="button" id="append-instruction-button" onClick=${() => S.addInstruction(tab, adding)}>Add instruction</button>
    </div>
    <${StreamPreview} tab=${tab} />
    <h2 class="panel-title">Compiled program</h2>
    <pre id="fe-compiled" class="fe-compiled">${fe && fe.instructions ? JSON.stringify(fe.instructions, null, 1) : ""}</pre>
    <h2 class="panel-title">Import a raw VM</h2>
    <label for="vm-raw">VM program (JSON, as in a TRex stream)</label>
    <textarea id="vm-raw" rows="4" value=${vmText} onInput=${(e) => setVmText(e.currentTarget.value)}></textarea>
    <button type="button" id="vm-import-button" onClick=${() => S.importVm(tab, vmText)}>Import VM</button>
    ${vmError ? html`<p class="error" role="alert" id="vm-error">${vmError}</p>` : null}
  </section>`;
}
