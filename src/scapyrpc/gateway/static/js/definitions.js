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
    /** The protocol with this id, else the one with this name (the append box takes either). */
    protocol(text) {
      return protocols.get(text) || [...protocols.values()].find((p) => p.name === text);
    },
    field(protocolId, fieldId) {
      const proto = protocols.get(protocolId);
      return proto ? proto.fields.find((f) => f.id === fieldId) : undefined;
    },
  };
}

/** The editor kind of a field: the GUI forces ENUM when values_dict is not empty. */
export function fieldKind(meta) {
  if (!meta) return "STRING";
  if (meta.values_dict && Object.keys(meta.values_dict).length && meta.type !== "BITMASK") return "ENUM";
  return meta.type || "STRING";
}
