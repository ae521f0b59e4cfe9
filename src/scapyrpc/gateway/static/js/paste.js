// A packet pasted as text: its bytes, and the layer they start with. Pure functions (no DOM, no
// server): parsePacketText(text) -> {bytes, format} or {error}; firstLayer(bytes) -> "Ether" | "IP" | "IPv6".
//
// What is read, tried in this order; the first kind whose shape the text has decides, and its error
// is the answer (a text is never read two ways):
//
// 1. A hex dump: lines that start with an offset. An offset is 4 to 8 hex digits with `:` after them
//    (tcpdump's `0x0000:`, xxd's `00000000:`), or without when it is wider than the hex group after it
//    (Wireshark's and Scapy's `0000  45 00`, `od -Ax -tx1`'s `000000 45`, `hexdump -C`'s
//    `00000000  45`), or alone on the dump's last line (the length od and hexdump -C end with).
//    Two such lines make a dump, or one with `:`, or one at offset 0 followed by 3 spaces or
//    with an ASCII column (a packet of 16 bytes or fewer). Lines before the first offset 0 are a
//    title (tcpdump's summary lines) and are skipped, unless they look like a dump line whose offset
//    is broken (some text, then four hex groups); a dump ends at text without an offset, or at
//    offset 0 again (tcpdump prints several packets: the first is read).
//    - A line holds exactly the bytes the offset of the next line says; whatever follows them must be
//      the ASCII column of those bytes (`|..|` and `>..<` allowed, printable ASCII as itself, anything
//      may show as `.`, a space after 8 bytes allowed), so the ASCII column is never read as bytes.
//    - The last line (no offset after it) holds at most as many bytes as the widest line before it;
//      its bytes end at a gap of 3 or more spaces, or at a gap of 2 after which the ASCII of the bytes
//      read so far follows, or at text that is not hex. When the lines before it had an ASCII column,
//      it must have one too.
//    - `*` (od, hexdump -C) repeats the line before it up to the next offset.
//    - Offsets that do not follow from the bytes (a line missing, doubled, or a byte short) are errors,
//      and so is text after the dump that looks like a dump line with a broken offset.
// 2. A Python bytes literal: `b'E\x00\x00T...'` (escapes, printable characters, several literals
//    joined by spaces, `+` or line ends, in parentheses or a call such as `bytes(...)`, after `name =`),
//    `bytes.fromhex("45 00 ...")`, or a plain quoted string of escapes (Wireshark's Copy as Escaped
//    String, a C string).
// 3. A C byte array: `{0x45, 0x00, ...}` after an optional declaration (`unsigned char pkt[] =`),
//    comments allowed (Wireshark's Copy as C Array puts the ASCII in them); items 0x.., decimal or
//    'c'. More arrays after the first are left out.
// 4. Plain hex: hex digits with or without spaces, colons, commas, hyphens and line breaks between
//    bytes, optionally `0x` before each token. A token of one or two digits after `0x` is one byte;
//    otherwise tokens have an even number of digits (lines with no separator are joined first, so a
//    long hex string wrapped anywhere is read whole).
// 5. Base64: lines of base64 characters with no space inside a line, `=` padding optional.
// 6. Hex dump lines without offsets: hex groups, then the ASCII column (checked as in 1.); every line
//    but the last holds as many bytes as the first.
//
// Ambiguities, and how they are settled:
// - Text made only of hex digits is hex, never base64 (even all-hex text of a length base64 allows);
//   an odd number of hex digits is an error, not base64.
// - A single word of letters of one case (`hello`, `PACKET`) is a word, not base64.
// - `0000 0c07 ac01 ...` (first group as wide as the next) is plain hex, not a dump at offset 0.
// - A packet is at least 14 bytes (an Ethernet header); fewer is an error, whatever the format.
//
// The first layer (firstLayer): IPv4 when the version is 4, the IHL at least 5, the total length
// fits the bytes and the header checksum is right; IPv6 when the version is 6 and the payload length
// fits (when it leaves bytes over, only if bytes 12-13 are not a known EtherType, which would make
// it an Ethernet header whose destination MAC starts with 6); Ethernet otherwise.

export const MIN_BYTES = 14;

export const EXPECTED =
  "expected a hex dump (tcpdump -xx, Wireshark, od -Ax -tx1, hexdump -C, xxd, Scapy's hexdump), " +
  "plain hex, base64, or a C/Python byte array";

/** The bytes `text` stands for, and the name of its format; or why it stands for none. */
export function parsePacketText(text) {
  const source = String(text ?? "").replace(/\r\n?/g, "\n");
  let read;
  try {
    read = readText(source);
  } catch (err) {
    if (!(err instanceof PasteError)) throw err;
    return { error: `${EXPECTED}; ${err.message}` };
  }
  if (read.bytes.length < MIN_BYTES) {
    return {
      error: `${EXPECTED}; read as ${read.format} it is ${read.bytes.length} byte${read.bytes.length === 1 ? "" : "s"}, ` +
        `too short for a packet (an Ethernet header alone is ${MIN_BYTES})`,
    };
  }
  return { bytes: Uint8Array.from(read.bytes), format: read.format };
}

class PasteError extends Error {}

function fail(message) {
  throw new PasteError(message);
}

/** A line for a message: quoted, cut at 48 characters. */
function quote(line) {
  const text = line.trim().replace(/\s+/g, " ");
  return `"${text.length > 48 ? text.slice(0, 47) + "…" : text}"`;
}

const HEX = /^[0-9a-fA-F]+$/;

function readText(text) {
  if (!text.trim()) fail("the text is empty");
  const lines = text.split("\n");
  const dump = dumpShape(lines);
  if (dump) return readDump(lines, dump);
  const trimmed = text.trim();
  if (PYTHON_START.test(trimmed)) return readPython(trimmed);
  if (trimmed.includes("{")) return readCArray(trimmed);
  if (/^[\s0-9a-fA-F:,;-]*$/.test(trimmed.replace(/\b0x/gi, ""))) return readPlainHex(lines);
  const base64 = readBase64(lines);
  if (base64) return base64;
  return readHexWithAscii(lines);
}

// ---- hex dumps ----------------------------------------------------------------------------------

const OFFSET_LINE = /^\s*(0x)?([0-9a-fA-F]{4,8})(:?)(?=\s|$)(.*)$/;

/** The offset a line starts with, and the rest of the line; null for a line that has none. */
function offsetOf(line) {
  const m = OFFSET_LINE.exec(line);
  if (!m) return null;
  const [, prefix, digits, colon, rest] = m;
  if (prefix && !colon) return null; // `0x4500 0x0054`: hex groups, not tcpdump's `0x0000:`
  const marked = Boolean(colon);
  const next = /^\s+(\S+)/.exec(rest);
  if (!marked && next && (!HEX.test(next[1]) || next[1].length >= digits.length)) return null;
  return { offset: parseInt(digits, 16), rest, marked, digits };
}

/** The offsets of the lines when the text is a hex dump, else null. */
function dumpShape(lines) {
  const offsets = lines.map(offsetOf);
  const rows = offsets.filter((o) => o && o.rest.trim());
  const firstRow = offsets.findIndex((o) => o && o.rest.trim());
  const totalLine = offsets.some((o, i) => o && i > firstRow && !o.rest.trim());
  if (rows.length >= 2 || (rows.length === 1 && (rows[0].marked || totalLine))) return offsets;
  if (rows.length === 1 && rows[0].offset === 0 && (/^ {3}/.test(rows[0].rest) || asciiAfter(rows[0].rest))) return offsets;
  return null;
}

/** Whether a line's bytes are followed by an ASCII column. */
function asciiAfter(rest) {
  try {
    return lineBytes(rest, null, null, "", "").ascii;
  } catch {
    return false;
  }
}

function readDump(lines, offsets) {
  const start = offsets.findIndex((o) => o && o.offset === 0 && o.rest.trim());
  if (start < 0) {
    const first = offsets.findIndex((o) => o && o.rest.trim());
    fail(`read as a hex dump it must start at offset 0: line ${first + 1} is ${quote(lines[first])}`);
  }
  const broken = lines.findIndex((line, i) => i < start && !offsets[i] && looksLikeDumpLine(line));
  if (broken >= 0) fail(`read as a hex dump, line ${broken + 1} is ${quote(lines[broken])}: not a line of the dump (no offset)`);
  const rows = []; // {line, offset, rest} or {line, repeat: true}
  let packets = 1;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    if (line.trim() === "*") {
      rows.push({ line: i, repeat: true });
      continue;
    }
    const o = offsets[i];
    if (o && o.offset === 0 && rows.length) {
      packets += offsets.slice(i + 1).filter((p) => p && p.offset === 0 && p.rest.trim()).length + 1;
      break;
    }
    if (!o) {
      const next = offsets.findIndex((p, j) => j > i && p && p.rest.trim());
      const another = next >= 0 && offsets[next].offset === 0;
      if ((next >= 0 && !another) || (!another && looksLikeDumpLine(line))) {
        fail(`read as a hex dump, line ${i + 1} is ${quote(line)}: not a line of the dump (no offset)`);
      }
      if (another) packets += offsets.slice(next).filter((p) => p && p.offset === 0 && p.rest.trim()).length;
      break;
    }
    rows.push({ line: i, offset: o.offset, rest: o.rest });
  }
  const bytes = [];
  let widest = 0;
  let hadAscii = false;
  let before = null; // the bytes of the last line read, for `*`
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const where = `line ${row.line + 1} (${quote(lines[row.line])})`;
    if (row.repeat) {
      const next = rows[r + 1];
      if (!before || !next || next.repeat) fail(`read as a hex dump, ${where} repeats a line, but no offset says up to where`);
      const missing = next.offset - bytes.length;
      if (missing <= 0 || missing % before.length) {
        fail(`read as a hex dump, line ${next.line + 1} is at offset 0x${hex(next.offset)}: ` +
          `not a whole number of repeats of the ${before.length} bytes before ${where}`);
      }
      for (let n = 0; n < missing; n += before.length) bytes.push(...before);
      continue;
    }
    if (row.offset !== bytes.length) {
      fail(`read as a hex dump, ${where} is at offset 0x${hex(row.offset)} where 0x${hex(bytes.length)} was expected ` +
        `(a line missing, doubled or cut short)`);
    }
    const next = rows[r + 1];
    const count = next && !next.repeat ? next.offset - row.offset : null;
    if (count !== null && (count <= 0 || count > 256)) {
      fail(`read as a hex dump, the offsets of ${where} and line ${next.line + 1} (0x${hex(row.offset)}, ` +
        `0x${hex(next.offset)}) give it ${count} bytes`);
    }
    if (!row.rest.trim()) {
      if (count !== null) fail(`read as a hex dump, ${where} holds no bytes but the next offset says ${count}`);
      break; // the total length od and hexdump -C end with
    }
    const line = lineBytes(row.rest, count, widest || null, where, "read as a hex dump, ");
    if (count === null && !next && hadAscii && !line.ascii) {
      fail(`read as a hex dump, ${where} has no ASCII column after its bytes while the lines before it have one`);
    }
    hadAscii ||= line.ascii;
    widest = Math.max(widest, line.bytes.length);
    bytes.push(...line.bytes);
    before = line.bytes;
  }
  const tool = dumpTool(offsets[start], lines[start], hadAscii);
  return { bytes, format: packets > 1 ? `${tool}, the first of ${packets} packets` : tool };
}

/** Text after a dump that was meant as one of its lines: something, then four or more hex groups. */
function looksLikeDumpLine(line) {
  return /^\s*\S+\s+(?:[0-9a-fA-F]{2,4}\s+){3}[0-9a-fA-F]{2,4}\b/.test(line);
}

function hex(n) {
  return n.toString(16).padStart(4, "0");
}

/** The tool whose dump this looks like (for the message: the bytes do not depend on it). */
function dumpTool(first, line, ascii) {
  let tool;
  if (/^\s*0x/i.test(line)) tool = ascii ? "tcpdump -X" : "tcpdump -xx";
  else if (first.marked) tool = "xxd";
  else if (first.digits.length >= 8) tool = "hexdump -C";
  else if (first.digits.length >= 6) tool = "od -Ax -tx1";
  else {
    const groups = first.rest.trim().split(/\s+/).slice(0, 16).filter((g) => /^[0-9a-fA-F]{2}$/.test(g)).join("");
    const scapy = /[A-F]/.test(groups) || (!/[a-f]/.test(groups) && /^ {2}\S/.test(first.rest));
    tool = scapy ? "Scapy hexdump" : "Wireshark";
  }
  return `hex dump (${tool})`;
}

/** What a byte looks like in an ASCII column. */
function shown(b) {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
}

function sameAscii(text, expected) {
  if (text.length !== expected.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const e = expected[i];
    if (c !== e && c !== "." && !(e === "." && c.charCodeAt(0) > 0x7e)) return false;
  }
  return true;
}

/** Whether `tail` (what follows some bytes on a line) is their ASCII column. */
function isAsciiOf(tail, bytes) {
  const text = tail.replace(/\s+$/, "");
  if (!text.trim() || !bytes.length) return false;
  const plain = bytes.map(shown).join("");
  const forms = [plain];
  if (bytes.length > 8) forms.push(plain.slice(0, 8) + " " + plain.slice(8));
  const enclosed = /^\s*([|>])(.*)([|<])$/.exec(text);
  if (enclosed && (enclosed[1] === "|") === (enclosed[3] === "|") && forms.some((f) => sameAscii(enclosed[2], f))) return true;
  // a column may lose the spaces (bytes 0x20) at its ends to the gap and the line end, or show them as "."
  const bare = text.trim();
  return forms.some((f) => [f, f.trim(), f.trimStart(), f.trimEnd()].some((g) => sameAscii(bare, g)));
}

/** The bytes at the start of `rest`. `count`: the bytes the offsets give the line, or null (last line,
 * or no offsets); `widest`: at most this many then. What follows the bytes must be their ASCII. */
function lineBytes(rest, count, widest, where, context) {
  const tokens = [...rest.matchAll(/(\s*)(\S+)/g)];
  const limit = count ?? widest ?? Infinity;
  const bytes = [];
  let end = 0;
  for (let t = 0; t < tokens.length && bytes.length < limit; t++) {
    const [whole, gap, token] = tokens[t];
    const at = tokens[t].index;
    if (count === null && t > 0) {
      if (gap.length >= 3) break;
      if (gap.length === 2 && isAsciiOf(rest.slice(at), bytes)) break;
    }
    if (!HEX.test(token) || token.length % 2) {
      if (count === null && t > 0 && gap.length >= 2) break;
      if (count !== null && t > 0 && isAsciiOf(rest.slice(at), bytes)) break; // too few bytes: said below
      const want = count !== null ? ` (its offsets give it ${count} bytes)` : "";
      fail(`${context}${where}: "${token}" stands where byte ${bytes.length + 1} of the line should be${want}`);
    }
    if (bytes.length + token.length / 2 > limit) {
      fail(`${context}${where} holds more than ${limit} bytes${count !== null ? ", the bytes its offsets give it" : ""}`);
    }
    for (let i = 0; i < token.length; i += 2) bytes.push(parseInt(token.slice(i, i + 2), 16));
    end = at + whole.length;
  }
  if (count !== null && bytes.length < count) {
    fail(`${context}${where} holds ${bytes.length} bytes where its offsets say ${count} (a line or bytes missing)`);
  }
  const tail = rest.slice(end);
  const ascii = Boolean(tail.trim());
  if (ascii && !isAsciiOf(tail, bytes)) {
    fail(`${context}${where}: ${quote(tail)} after its ${bytes.length} bytes is neither bytes nor their ASCII`);
  }
  return { bytes, ascii };
}

/** Dump lines without offsets: hex groups then an ASCII column; all lines as wide as the first. */
function readHexWithAscii(lines) {
  const numbered = lines.map((line, i) => ({ line, i })).filter((l) => l.line.trim());
  const first = numbered[0];
  if (!/^\s*(?:[0-9a-fA-F]{2}|[0-9a-fA-F]{4})(?:\s+(?:[0-9a-fA-F]{2}|[0-9a-fA-F]{4})){3}\b/.test(first.line)) {
    const bad = numbered.find((l) => !/^[\s0-9a-fA-F:,;-]*$/.test(l.line.replace(/\b0x/gi, ""))) || first;
    fail(`line ${bad.i + 1} is ${quote(bad.line)}`);
  }
  const bytes = [];
  let width = null;
  let hadAscii = false;
  numbered.forEach(({ line, i }, n) => {
    const where = `line ${i + 1} (${quote(line)})`;
    const last = n === numbered.length - 1;
    const read = lineBytes(line, null, width, where, "read as hex lines with an ASCII column, ");
    if (width !== null && !last && read.bytes.length !== width) {
      fail(`read as hex lines with an ASCII column, ${where} holds ${read.bytes.length} bytes where the first holds ${width}`);
    }
    if (last && hadAscii && !read.ascii) fail(`read as hex lines with an ASCII column, ${where} has none`);
    hadAscii ||= read.ascii;
    width ??= read.bytes.length;
    bytes.push(...read.bytes);
  });
  if (!hadAscii) fail(`line ${first.i + 1} is ${quote(first.line)}`);
  return { bytes, format: "hex dump without offsets" };
}

// ---- plain hex and base64 -------------------------------------------------------------------------

function readPlainHex(lines) {
  const tokens = lines.map((line, i) => ({ line, i, tokens: line.split(/[\s:,;-]+/).filter(Boolean) }));
  const bytes = [];
  const take = (digits) => {
    for (let k = 0; k < digits.length; k += 2) bytes.push(parseInt(digits.slice(k, k + 2), 16));
  };
  if (tokens.every((l) => l.tokens.length <= 1) && !tokens.some((l) => /^0x.{1,2}$/i.test(l.tokens[0] || ""))) {
    // one run of digits per line: a hex string, wrapped anywhere
    const digits = tokens.map((l) => (l.tokens[0] || "").replace(/^0x/i, "")).join("");
    if (digits.length % 2) fail(`read as hex, ${digits.length} hex digits are an odd number: a digit is missing`);
    take(digits);
    return { bytes, format: "plain hex" };
  }
  for (const { line, i, tokens: parts } of tokens) {
    for (const token of parts) {
      const prefixed = /^0x/i.test(token);
      const digits = prefixed ? token.slice(2) : token;
      if (!HEX.test(digits)) fail(`read as hex, line ${i + 1} (${quote(line)}) has "${token}"`);
      if (prefixed && digits.length <= 2) bytes.push(parseInt(digits, 16));
      else if (digits.length % 2) {
        fail(`read as hex, line ${i + 1} (${quote(line)}) has "${token}": an odd number of hex digits`);
      } else take(digits);
    }
  }
  return { bytes, format: "plain hex" };
}

/** Base64 lines, or null when the text does not have their shape. */
function readBase64(lines) {
  const body = lines.map((l) => l.trim()).filter(Boolean);
  if (body.some((l) => /\s/.test(l))) return null;
  let text = body.join("");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  if (/^[a-z]+$/.test(text) || /^[A-Z]+$/.test(text)) return null; // a word
  text = text.replace(/-/g, "+").replace(/_/g, "/");
  const unpadded = text.replace(/=+$/, "");
  if (unpadded.length % 4 === 1 || (text.length !== unpadded.length && text.length % 4)) {
    fail(`read as base64, ${text.length} characters cannot be whole bytes (a character is missing or too many)`);
  }
  const padded = unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4);
  return { bytes: Array.from(atob(padded), (c) => c.charCodeAt(0)), format: "base64" };
}

// ---- Python and C -----------------------------------------------------------------------------------

const PYTHON_START = /^(?:[A-Za-z_]\w*\s*=\s*)?(?:\(\s*)*(?:[A-Za-z_][\w.]*\(\s*)*(?:[rR]?[bB]|[bB][rR])?(?:'|")/;

function readPython(text) {
  let s = text.replace(/^[A-Za-z_]\w*\s*=\s*/, "").replace(/;\s*$/, "").trim();
  const fromhex = /^(?:bytes|bytearray)\.fromhex\(([\s\S]*)\)$/.exec(s);
  if (fromhex) {
    const literal = literals(fromhex[1].trim().replace(/,$/, ""), "bytes.fromhex");
    if (literal.bytes.some((b) => b > 0x7f)) fail("read as bytes.fromhex, its string is not ASCII");
    const digits = latin1(literal.bytes);
    const pairs = digits.split(/\s+/).join("");
    if (!HEX.test(pairs)) fail(`read as bytes.fromhex, its string has ${quote(digits.replace(/[\s0-9a-fA-F]+/g, " "))}, which is not hex`);
    if (pairs.length % 2) fail(`read as bytes.fromhex, ${pairs.length} hex digits are an odd number`);
    const bytes = [];
    for (let k = 0; k < pairs.length; k += 2) bytes.push(parseInt(pairs.slice(k, k + 2), 16));
    return { bytes, format: "bytes.fromhex" };
  }
  for (let m; (m = /^(?:[A-Za-z_][\w.]*)?\(([\s\S]*)\)$/.exec(s)); ) s = m[1].trim().replace(/,$/, "").trim();
  const read = literals(s, "a Python bytes literal");
  const content = latin1(read.bytes);
  if (!read.prefixed && /[0-9a-fA-F]/.test(content) && /^[\s0-9a-fA-F:,;-]*$/.test(content.replace(/\b0x/gi, ""))) {
    return { ...readPlainHex(content.split("\n")), format: "quoted hex" };
  }
  return { bytes: read.bytes, format: read.prefixed ? "Python bytes literal" : "quoted string of escapes" };
}

function latin1(bytes) {
  return bytes.map((b) => String.fromCharCode(b)).join("");
}

const SIMPLE_ESCAPES = { "\\": 0x5c, "'": 0x27, '"': 0x22, a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

/** The bytes of one or more string literals joined by spaces, `+`, line ends or `\` line ends. */
function literals(text, what) {
  const bytes = [];
  let prefixed = false;
  let i = 0;
  let count = 0;
  const lineAt = (at) => text.slice(0, at).split("\n").length;
  while (true) {
    while (i < text.length && (/[\s+]/.test(text[i]) || (text[i] === "\\" && text[i + 1] === "\n"))) i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) break;
    const m = /^([rRbB]{0,2})('''|"""|'|")/.exec(text.slice(i));
    const prefix = m ? m[1].toLowerCase() : "";
    if (!m || (prefix.length === 2 && prefix[0] === prefix[1])) {
      fail(`read as ${what}, line ${lineAt(i)} has ${quote(text.slice(i, i + 24))} where a quoted literal should be`);
    }
    const raw = prefix.includes("r");
    prefixed ||= prefix.includes("b");
    const delimiter = m[2];
    i += m[0].length;
    count++;
    for (;;) {
      if (i >= text.length) fail(`read as ${what}, literal ${count} has no closing ${delimiter}`);
      if (text.startsWith(delimiter, i)) {
        i += delimiter.length;
        break;
      }
      const c = text[i];
      if (c === "\n" && delimiter.length === 1) fail(`read as ${what}, literal ${count} has no closing ${delimiter} on line ${lineAt(i)}`);
      if (c.charCodeAt(0) > 0x7f) fail(`read as ${what}, line ${lineAt(i)} has "${c}", not an ASCII character`);
      if (c !== "\\") {
        bytes.push(c.charCodeAt(0));
        i++;
        continue;
      }
      const e = text[i + 1];
      if (raw) {
        bytes.push(0x5c);
        if (e === delimiter[0] || e === "\\") bytes.push(e.charCodeAt(0));
        i += e === delimiter[0] || e === "\\" ? 2 : 1;
      } else if (e === "\n") {
        i += 2;
      } else if (e === "x") {
        const digits = text.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(digits)) fail(`read as ${what}, line ${lineAt(i)} has ${quote(text.slice(i, i + 4))}: \\x needs two hex digits`);
        bytes.push(parseInt(digits, 16));
        i += 4;
      } else if (/[0-7]/.test(e)) {
        const digits = /^[0-7]{1,3}/.exec(text.slice(i + 1))[0];
        const value = parseInt(digits, 8);
        if (value > 0xff) fail(`read as ${what}, line ${lineAt(i)} has \\${digits}: more than a byte`);
        bytes.push(value);
        i += 1 + digits.length;
      } else if (e !== undefined && e in SIMPLE_ESCAPES) {
        bytes.push(SIMPLE_ESCAPES[e]);
        i += 2;
      } else {
        bytes.push(0x5c); // Python keeps an unknown escape as it is
        i++;
      }
    }
  }
  if (!count) fail(`read as ${what}, there is no literal`);
  return { bytes, prefixed };
}

function readCArray(text) {
  // comments become spaces, their line breaks kept (for the line numbers)
  const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, " "));
  const open = code.indexOf("{");
  const close = code.indexOf("}", open);
  const lineAt = (at) => code.slice(0, at).split("\n").length;
  if (close < 0) fail("read as a C array, it has no closing }");
  const head = code.slice(0, open).trim();
  if (!/^[\w\s[\]*:=]*$/.test(head)) fail(`read as a C array, ${quote(head)} before { is not a declaration`);
  const after = code.slice(close + 1).trim();
  if (after && !/^;/.test(after) && !/^,?\s*[\w\s[\]*:=]*\{/.test(after)) fail(`read as a C array, ${quote(after)} follows its }`);
  const bytes = [];
  const parts = code.slice(open + 1, close).split(",");
  let at = open + 1;
  parts.forEach((part, k) => {
    const start = at + part.length - part.trimStart().length;
    at += part.length + 1;
    const item = part.trim().replace(/^\((?:unsigned\s+char|signed\s+char|char|u?int8_t|uint8|byte|u8)\)\s*/, "");
    if (!item && k === parts.length - 1 && k > 0) return; // a trailing comma
    let value;
    let c;
    if (/^0x[0-9a-fA-F]+$/i.test(item)) value = parseInt(item.slice(2), 16);
    else if (/^-?\d+$/.test(item)) value = Number(item) < 0 && Number(item) >= -128 ? Number(item) + 256 : Number(item);
    else if ((c = /^'(\\x[0-9a-fA-F]{2}|\\[0-7]{1,3}|\\.|[ -~])'$/.exec(item))) value = literals(`'${c[1]}'`, "a C character").bytes[0];
    else fail(`read as a C array, item ${k + 1} (line ${lineAt(start)}) is ${quote(item || "nothing")}, not a byte`);
    if (!(value >= 0 && value <= 0xff)) fail(`read as a C array, item ${k + 1} (line ${lineAt(start)}) is ${item}: more than a byte`);
    bytes.push(value);
  });
  const more = after.includes("{") ? ", the first of several arrays" : "";
  return { bytes, format: `C byte array${more}` };
}

// ---- the first layer --------------------------------------------------------------------------------

const ETHERTYPES = new Set([0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x8847, 0x8848, 0x8863, 0x8864, 0x88cc, 0x8035, 0x88e5, 0x8906, 0x893a]);

function isIPv4(b) {
  if (b.length < 20 || b[0] >> 4 !== 4) return false;
  const ihl = (b[0] & 0x0f) * 4;
  const total = (b[2] << 8) | b[3];
  if (ihl < 20 || ihl > b.length || total < ihl || total > b.length) return false;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (b[i] << 8) | b[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return sum === 0xffff;
}

function isIPv6(b) {
  if (b.length < 40 || b[0] >> 4 !== 6) return false;
  const end = 40 + ((b[4] << 8) | b[5]);
  if (end > b.length) return false;
  return end === b.length || !ETHERTYPES.has((b[12] << 8) | b[13]);
}

/** The layer the bytes start with: "IP", "IPv6" (a packet without a link header) or "Ether". */
export function firstLayer(bytes) {
  if (isIPv4(bytes)) return "IP";
  if (isIPv6(bytes)) return "IPv6";
  return "Ether";
}
