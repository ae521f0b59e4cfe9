// Client-side checks typed from get_definitions; the server has the last word (its message is shown).
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;

function isIPv6(text) {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(":")) return false;
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h ? h.split(":") : []));
  const last = groups[groups.length - 1] || "";
  const v4 = last.includes(".");
  if (v4 && !IPV4.test(last)) return false;
  const hex = v4 ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? count < 8 : count === 8;
}

function number(text) {
  if (/^-?\d+$/.test(text)) return BigInt(text);
  if (/^0x[0-9A-Fa-f]+$/.test(text)) return BigInt(text);
  return null;
}

/** An error message for `text` typed into a field of kind `kind`, or "" when it may be sent. */
export function checkField(kind, meta, text) {
  const value = text.trim();
  if (value === "") return "";
  if (kind === "NUMBER") {
    const n = number(value);
    if (n === null && !/^[A-Za-z_][\w-]*$/.test(value)) return "must be a number (decimal or 0x hex) or a name";
    if (n === null) return ""; // a name such as 'http': the server knows the field's names
    if (meta.min !== undefined && n < BigInt(meta.min)) return `must be at least ${meta.min}`;
    if (meta.max !== undefined && n > BigInt(meta.max)) return `must be at most ${meta.max}`;
  }
  if (kind === "MAC_ADDRESS" && !MAC.test(value)) return "must be a MAC address such as 00:11:22:33:44:55";
  if (kind === "IP_ADDRESS" && !IPV4.test(value) && !isIPv6(value)) return "must be an IPv4 or IPv6 address";
  if (kind === "ENUM" && meta.values_dict && !(value in meta.values_dict)) {
    const n = number(value);
    if (n === null) return `unknown name; use one of the listed names, a number or 0x hex`;
  }
  if (meta.regex && kind !== "MAC_ADDRESS") {
    try {
      if (!new RegExp(meta.regex).test(value)) return "does not have the expected format";
    } catch {
      /* a regex the browser cannot compile is not the user's fault */
    }
  }
  return "";
}
