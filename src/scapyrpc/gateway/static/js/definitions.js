// Protocol and field-engine metadata from GET /definitions (get_definitions(null), cached by md5).

export async function loadDefinitions() {
  const response = await fetch("/definitions", { credentials: "same-origin" });
  const reply = await response.json();
  if (reply.error) throw new Error(reply.error.message);
  return indexDefinitions(reply.result);
}

export function indexDefinitions(result) {
  const protocols = new Map(result.protocols.map((p) => [p.id, p]));
  const feInstructions = new Map(result.feInstructions.map((i) => [i.id, i]));
  const feParams = new Map(result.feInstructionParameters.map((p) => [p.id, p]));
  const protocolIds = [...protocols.keys()].sort((a, b) => a.localeCompare(b));
  return {
    protocols,
    protocolIds,
    feInstructions,
    feParams,
    feParameters: result.feParameters,
    feTemplates: result.feTemplates,
    /** The protocol with this id, else the one with this name (the append box takes either); then
     * the same ignoring case, when that names one protocol only. */
    protocol(text) {
      const exact = protocols.get(text) || [...protocols.values()].find((p) => p.name === text);
      if (exact) return exact;
      const lower = text.toLowerCase();
      const found = [...protocols.values()].filter((p) => p.id.toLowerCase() === lower || (p.name || "").toLowerCase() === lower);
      return new Set(found.map((p) => p.id)).size === 1 ? found[0] : undefined;
    },
    /** Up to three protocol ids like `text`, the valid next layers `preferred` first. */
    similar(text, preferred = []) {
      const lower = text.toLowerCase();
      if (!lower) return [];
      const score = (id) => {
        const l = id.toLowerCase();
        if (l === lower) return 0;
        if (l.startsWith(lower) || lower.startsWith(l)) return 1 + Math.abs(l.length - lower.length) / 100;
        if (l.includes(lower)) return 2;
        const d = editDistance(l, lower);
        return d <= Math.max(1, Math.floor(lower.length / 3)) ? 3 + d : Infinity;
      };
      const ranked = protocolIds.map((id) => [id, score(id) - (preferred.includes(id) ? 0.5 : 0)])
        .filter(([, s]) => s !== Infinity).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
      return ranked.slice(0, 3).map(([id]) => id);
    },
    field(protocolId, fieldId) {
      const proto = protocols.get(protocolId);
      return proto ? proto.fields.find((f) => f.id === fieldId) : undefined;
    },
  };
}

function editDistance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

const ADDRESS_TYPES = new Set(["MAC_ADDRESS", "IP_ADDRESS"]);

/** Whether Scapy computes the field from the packet's own content (checksums, lengths, counts): an
 * auto field that is not an address (Scapy takes those from the host's routes, not the packet). */
export function computedField(meta) {
  return !!meta && !!meta.auto && !ADDRESS_TYPES.has(meta.type);
}

/** The editor kind of a field: the GUI forces ENUM when values_dict is not empty. */
export function fieldKind(meta) {
  if (!meta) return "STRING";
  if (meta.values_dict && Object.keys(meta.values_dict).length && meta.type !== "BITMASK") return "ENUM";
  return meta.type || "STRING";
}
