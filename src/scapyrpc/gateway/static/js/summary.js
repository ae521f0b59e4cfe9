// Packet results reduced for a table: which fields vary between packets, and which bytes differ.
// Pure functions over read_pcap results.
import { fromBase64 } from "./bytes.js";

export const PREVIEW_DEFAULT = 16;
export const PREVIEW_MAX = 1000;

/** Columns (the fields whose value differs between packets, `Layer.field`) and rows (their values
 * per packet) of dissected packets (read_pcap results). */
export function summarize(results) {
  const columns = [];
  const seen = new Map(); // "layerIndex:fieldId" -> column index
  const first = results[0];
  if (!first) return { columns, rows: [] };
  const valueAt = (result, li, fid) => {
    const layer = result.data[li];
    const field = layer && layer.fields.find((f) => f.id === fid);
    return field ? field.hvalue : "";
  };
  first.data.forEach((layer, li) => {
    for (const field of layer.fields) {
      if (field.ignored) continue;
      const values = new Set(results.map((r) => valueAt(r, li, field.id)));
      if (values.size > 1 && !seen.has(`${li}:${field.id}`)) {
        seen.set(`${li}:${field.id}`, columns.length);
        columns.push({ layer: li, field: field.id, label: `${layer.id} ${field.id}` });
      }
    }
  });
  const rows = results.map((r, i) => ({ index: i, size: fromBase64(r.binary).length,
    values: columns.map((c) => valueAt(r, c.layer, c.field)) }));
  return { columns, rows };
}

/** Byte offsets at which `bytes` differs from `reference`. */
export function differing(bytes, reference) {
  const out = new Set();
  for (let i = 0; i < Math.max(bytes.length, reference.length); i++) if (bytes[i] !== reference[i]) out.add(i);
  return out;
}
