// base64 <-> bytes, and Python-literal renderings of bytes.

export function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text || ""), (c) => c.charCodeAt(0));
}

/** The number of bytes base64 text stands for. */
export function byteLength(text) {
  const b64 = text || "";
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
}

export function textToBase64(text) {
  return toBase64(new TextEncoder().encode(text));
}

export function base64ToText(text) {
  return new TextDecoder("utf-8", { fatal: false }).decode(fromBase64(text));
}

export function pyBytes(bytes) {
  let out = "b'";
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x27) out += "\\'";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out + "'";
}

export function pyString(text) {
  return "'" + String(text).replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'";
}
