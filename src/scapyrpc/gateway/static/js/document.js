// The user's document: a layer stack of values the user set, plus field-engine instructions.
// Pure functions over plain objects (documents are never mutated; edits make new ones).
import { fromBase64, pyBytes, pyString, textToBase64, base64ToText } from "./bytes.js";

export const FILE_TYPE = "trex-packet-editor";

export function newFe() {
  return { instructions: [], global: { cache_size: "1000" } };
}

export function newDocument(layerIds = ["Ether"]) {
  return {
    layers: layerIds.map((id) => ({ id, fields: {} })),
    fe: newFe(),
    metadata: { caption: "", description: "" },
  };
}

/** `Ether-IP-TCP`: the ids of layers 0..index, the prefix of every element id of that layer. */
export function layerPath(doc, index) {
  return doc.layers.slice(0, index + 1).map((l) => l.id).join("-");
}

/** The class a result layer stands for: the server sends Padding as Raw, with `padding` set. */
export function resultId(layerResult) {
  return layerResult.padding ? "Padding" : layerResult.id;
}

/** The class found at a result layer's depth when dissected back (`real_id`), Padding told apart. */
export function realId(layerResult) {
  const padding = layerResult.padding && layerResult.valid_structure && layerResult.real_id === "Raw";
  return padding ? "Padding" : layerResult.real_id;
}

/** The server's dissection of layer `index`, or null when the built packet has another layer there. */
export function builtLayer(doc, result, index) {
  const layer = result && result.data[index];
  return layer && resultId(layer) === doc.layers[index].id ? layer : null;
}

/** A field of a dissected layer (`layerResult` may be null), or null. */
export function builtField(layerResult, fieldId) {
  return (layerResult && layerResult.fields.find((f) => f.id === fieldId)) || null;
}

export function isPrimitive(value) {
  return value === null || typeof value !== "object";
}

/** The packet model (docs/api.md, "Packet model"): set fields only; primitives are human values (strings). */
export function toModel(doc) {
  return doc.layers.map((layer) => ({
    id: layer.id,
    fields: Object.entries(layer.fields).map(([id, value]) => ({ id, value: isPrimitive(value) ? String(value) : value })),
  }));
}

export function feOptions(doc) {
  const global = {};
  for (const [key, value] of Object.entries(doc.fe.global)) if (value !== "" && value != null) global[key] = value;
  return { field_engine: { instructions: doc.fe.instructions, global_parameters: global } };
}

export function withField(doc, index, fieldId, value) {
  const layers = doc.layers.map((layer, i) => {
    if (i !== index) return layer;
    const fields = { ...layer.fields };
    if (value === undefined || value === "") delete fields[fieldId];
    else fields[fieldId] = value;
    return { ...layer, fields };
  });
  return { ...doc, layers };
}

export function withLayers(doc, layers) {
  return { ...doc, layers };
}

export function withFe(doc, fe) {
  return { ...doc, fe };
}

export function withFeGlobal(doc, id, value) {
  return withFe(doc, { ...doc.fe, global: { ...doc.fe.global, [id]: value } });
}

export function withInstructions(doc, instructions) {
  return withFe(doc, { ...doc.fe, instructions });
}

/** Parameter `pid` of instruction `index` set to `value` (undefined or "": no value, its default). */
export function withInstructionParameter(doc, index, pid, value) {
  return withInstructions(doc, doc.fe.instructions.map((ins, i) => {
    if (i !== index) return ins;
    const parameters = { ...ins.parameters };
    if (value === undefined || value === "") delete parameters[pid];
    else parameters[pid] = value;
    return { ...ins, parameters };
  }));
}

/** Defaults in TRex's definitions that mean "no value" ("None", "Not defined"): never shown or sent. */
export const UNSET_VALUES = new Set(["None", "Not defined"]);

/** The field engine of a decompiled raw VM (decompile_vm_raw): its instructions, parameters as text,
 * and the global parameters of `fe` with the VM's cache size. */
export function feFromVm(decompiled, fe) {
  const instructions = (decompiled.instructions || []).map((i) => ({
    id: i.id, parameters: Object.fromEntries(Object.entries(i.parameters || {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
  }));
  const global = { ...fe.global };
  if (decompiled.global_parameters && decompiled.global_parameters.cache_size !== undefined) {
    global.cache_size = String(decompiled.global_parameters.cache_size);
  }
  return { instructions, global };
}

/** The desktop editor's `.trp` JSON (DocumentFile), so files move between the two editors. */
export function toTrp(doc) {
  return {
    fileType: FILE_TYPE,
    version: "1.0.0",
    metadata: doc.metadata,
    packet: toModel(doc).map((l) => ({ id: l.id, fields: l.fields })),
    fePrarameters: { ...doc.fe.global },
    feInstructions: doc.fe.instructions.map((i) => ({ id: i.id, parameters: { ...i.parameters } })),
  };
}

export function fromTrp(data) {
  if (!data || typeof data !== "object" || !Array.isArray(data.packet)) {
    throw new Error("not a packet editor document (no 'packet' list)");
  }
  if (data.fileType && data.fileType !== FILE_TYPE) throw new Error(`unknown document type '${data.fileType}'`);
  const layers = data.packet.map((p) => {
    if (!p || typeof p.id !== "string") throw new Error("a layer without an id");
    const fields = {};
    for (const f of p.fields || []) if (f && typeof f.id === "string" && f.value !== undefined && f.value !== null) fields[f.id] = f.value;
    return { id: p.id, fields };
  });
  const global = { ...newFe().global, ...(data.fePrarameters || {}) };
  const instructions = (data.feInstructions || []).map((i) => ({ id: i.id, parameters: { ...(i.parameters || {}) } }));
  const metadata = { caption: "", description: "", ...(data.metadata || {}) };
  return { layers, fe: { instructions, global }, metadata };
}

/** A document that rebuilds a dissected packet: every field it carries, as the server rendered it. */
export function fromPacket(result, fe) {
  const layers = result.data.map((layer) => {
    const fields = {};
    for (const f of layer.fields) {
      if (f.ignored) continue;
      if (isPrimitive(f.value)) fields[f.id] = f.hvalue;
      else if (f.value.vtype === "BYTES") fields[f.id] = { vtype: "BYTES", base64: f.value.base64 };
      else if (f.value.vtype === "EXPRESSION") fields[f.id] = { vtype: "EXPRESSION", expr: f.value.expr };
    }
    return { id: resultId(layer), fields };
  });
  return { ...newDocument([]), layers, fe: fe || newFe() };
}

function pyValue(value) {
  if (value === null || value === undefined) return "None";
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return pyString(value);
  if (value.vtype === "BYTES" && value.base64 !== undefined) return pyBytes(fromBase64(value.base64));
  if (value.vtype === "EXPRESSION") return value.expr;
  return pyString(JSON.stringify(value));
}

/** "Copy as Scapy code": a Python expression that rebuilds the packet (values as built). */
export function scapyCode(doc, result) {
  return doc.layers.map((layer, i) => {
    const built = builtLayer(doc, result, i);
    const args = Object.entries(layer.fields).map(([fid, value]) => {
      const field = builtField(built, fid);
      return `${fid}=${pyValue(field ? field.value : value)}`;
    });
    return `${layer.id}(${args.join(", ")})`;
  }).join("/");
}

export function encodeFragment(doc) {
  return "doc=" + textToBase64(JSON.stringify(toTrp(doc))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeFragment(hash) {
  const match = /(?:^#?|&)doc=([A-Za-z0-9_-]+)/.exec(hash || "");
  if (!match) return null;
  const b64 = match[1].replace(/-/g, "+").replace(/_/g, "/");
  return fromTrp(JSON.parse(base64ToText(b64 + "=".repeat((4 - (b64.length % 4)) % 4))));
}

/** Parameters a field-engine template puts on a field: a variable sized to the field (a write that
 * never spills into the next field, a masked write for a bit field), a range that is valid from the
 * start and begins at the field's current value, values shown as the field shows them (addresses
 * as text), and a seed for a repeatable random variable. */
export function templateInstructions(doc, index, fieldId, template, defs, built, meta) {
  const layer = doc.layers[index];
  const same = doc.layers.slice(0, index).filter((l) => l.id === layer.id).length;
  const tag = same > 0 ? `:${same}` : "";
  const varName = `${layer.id}${tag}_${fieldId}`;
  const fit = fieldVariable(built, meta);
  const preset = { name: varName, fv_name: varName, pkt_offset: `${layer.id}${tag}.${fieldId}`, ...fit.preset };
  return template.instructionIds.map((id) => {
    if (id === "STLVmFlowVarRepeatableRandom") return newInstruction(id, defs, { ...preset, ...fit.random });
    return newInstruction(fit.bits && id === "STLVmWrFlowVar" ? "STLVmWrMaskFlowVar" : id, defs, preset);
  });
}

const SIZES = [1, 2, 4, 8];
const HELP_RANGE = 255n; // "Default 0..255", as STLVmFlowVar's help says

function toBigInt(value) {
  try {
    return typeof value === "number" || typeof value === "bigint" || /^(0x[0-9a-f]+|\d+)$/i.test(String(value)) ? BigInt(value) : null;
  } catch {
    return null;
  }
}

function ipv4ToInt(text) {
  const parts = String(text).split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((acc, p) => (acc << 8n) + BigInt(p), 0n);
}

function intToIpv4(n) {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 255n)).join(".");
}

/** The low `size` bytes of a MAC or IPv6 address, as a number. */
function lowBytes(text, size) {
  const hex = String(text).includes(":") && !String(text).includes("::") && String(text).split(":").length === 6
    ? String(text).replace(/:/g, "")
    : null;
  if (hex === null || !/^[0-9a-f]{12}$/i.test(hex)) return null;
  return BigInt("0x" + hex) & ((1n << BigInt(8 * size)) - 1n);
}

const hexText = (n, size) => "0x" + n.toString(16).padStart(2 * size, "0");

/** How a variable fits the field `built` (its packet-result entry) of metadata `meta`. */
export function fieldVariable(built, meta) {
  if (!built || built.offset === undefined) return { preset: {}, random: {}, bits: null };
  if (built.bit_length) {
    const bits = built.bit_length;
    const castSize = [1, 2, 4].find((n) => n * 8 >= built.bit_offset + bits) || 4;
    const shift = castSize * 8 - built.bit_offset - bits;
    const top = (1n << BigInt(bits)) - 1n;
    const size = bits <= 8 ? 1 : bits <= 16 ? 2 : 4;
    const current = toBigInt(built.value) ?? 0n;
    return {
      bits: true,
      preset: {
        size: String(size), min_value: "0", max_value: String(top < HELP_RANGE ? top : HELP_RANGE),
        init_value: String(current <= top ? current : 0n), pkt_cast_size: String(castSize),
        mask: hexText(top << BigInt(shift), castSize), shift: String(shift), seed: seedText(),
      },
      random: { min_value: "0", max_value: String(top) },
    };
  }
  const length = built.length || 1;
  const size = SIZES.includes(length) ? length : length > 4 ? 4 : length >= 2 ? 2 : 1;
  const fixup = SIZES.includes(length) ? 0 : length - size;
  const top = (1n << BigInt(8 * size)) - 1n;
  const kind = meta ? meta.type : "";
  let current = toBigInt(built.value);
  let show = (n) => String(n);
  if (kind === "IP_ADDRESS" && size === 4 && ipv4ToInt(built.value) !== null) {
    current = ipv4ToInt(built.value);
    show = intToIpv4;
  } else if (fixup > 0 || kind === "MAC_ADDRESS") {
    current = lowBytes(built.value, size) ?? 0n;
    show = (n) => hexText(n, size);
  }
  current = current === null || current > top ? 0n : current;
  const low = current <= HELP_RANGE ? 0n : current;
  const high = low + HELP_RANGE < top ? low + HELP_RANGE : top;
  return {
    bits: null,
    preset: {
      size: String(size), min_value: show(low), max_value: show(high), init_value: show(current),
      offset_fixup: String(fixup), seed: seedText(),
    },
    random: { min_value: show(0n), max_value: show(top) }, // "0 up to the largest value of the size"
  };
}

/** A seed for a repeatable random variable: shown, so the sequence can be repeated. */
function seedText() {
  return String(1 + Math.floor(Math.random() * 0x7fffffff));
}

/** Instruction `id` with the `preset` values of its parameters, the others at their defaults. */
export function newInstruction(id, defs, preset = {}) {
  const meta = defs.feInstructions.get(id);
  const parameters = {};
  for (const pid of meta ? meta.parameters : []) {
    const pmeta = defs.feParams.get(pid) || {};
    if (preset[pid] !== undefined) parameters[pid] = preset[pid];
    else if (pmeta.defaultValue !== undefined && !UNSET_VALUES.has(String(pmeta.defaultValue))) {
      parameters[pid] = String(pmeta.defaultValue);
    }
  }
  return { id, parameters };
}
