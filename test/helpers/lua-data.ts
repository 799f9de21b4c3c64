// Test-only helpers for the Lua data files Prosody's internal storage writes
// (util/datamanager.lua + util/serialization.lua in Prosody 0.12).
//
// Format facts (checked against files written by a running Prosody 0.12.3):
//   * a keyval/map store file is  "return " .. serialize(data) .. ";\n"
//   * serialize() uses the default preset: keys always quoted as ["key"], " = ",
//     items start with "\n" + one tab per nesting level, end with ";", the closing
//     brace sits on its own line indented one level less; an empty table is "{}".
//   * strings are double-quoted; bytes 0-31, ", ', \ and 127-255 are escaped
//     (\a \b \f \n \r \t \v \\ \" \' by name, the rest as \ddd decimal).
//   * integers are written with %d, other numbers with %.18g, (1/0), (-1/0), (0/0).
//   * path components are encoded byte by byte: every byte that is not an ASCII
//     letter or digit becomes "%" + two lowercase hex digits (store names keep "_").

import {
  type LuaValue as ParsedLuaValue,
  parseLuaData,
} from '../../main/sources/lua-data-parser.js';
import { encodeProsodyName } from '../../main/sources/prosody-name-encoding.js';

export type LuaValue = string | number | boolean | LuaTable;
export interface LuaTable {
  [key: string]: LuaValue;
}

const NAMED_ESCAPES: Record<number, string> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
  0x5c: '\\\\',
  0x22: '\\"',
  0x27: "\\'",
};

/** A Lua string literal exactly as util.serialization writes it (byte-wise over UTF-8). */
export function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const named = NAMED_ESCAPES[byte];
    if (named !== undefined) out += named;
    else if (byte < 32 || byte >= 127) out += '\\' + String(byte).padStart(3, '0');
    else out += String.fromCharCode(byte);
  }
  return out + '"';
}

/** C's printf("%.18g", x) for a finite, non-integer double. */
function formatG18(x: number): string {
  const exp = Number(x.toExponential(17).split('e')[1]);
  if (exp < -4 || exp >= 18) {
    const [mantissa = '', e = ''] = x.toExponential(17).split('e');
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    const sign = e.startsWith('-') ? '-' : '+';
    return `${m}e${sign}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, 17 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

export function luaNumber(n: number): string {
  if (Number.isNaN(n)) return '(0/0)';
  if (n === Infinity) return '(1/0)';
  if (n === -Infinity) return '(-1/0)';
  if (Number.isSafeInteger(n)) return String(n === 0 ? 0 : n);
  return formatG18(n);
}

function serializeValue(v: LuaValue, depth: number): string {
  switch (typeof v) {
    case 'string':
      return luaString(v);
    case 'number':
      return luaNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default: {
      const entries = Object.entries(v);
      if (entries.length === 0) return '{}';
      const indent = '\t'.repeat(depth);
      let out = '{';
      for (const [k, val] of entries) {
        out += `\n${indent}[${luaString(k)}] = ${serializeValue(val, depth + 1)};`;
      }
      return `${out}\n${'\t'.repeat(depth - 1)}}`;
    }
  }
}

/** util.serialization.serialize(value) with Prosody's default options (string keys only). */
export function serializeLua(value: LuaValue): string {
  return serializeValue(value, 1);
}

/** The exact content of a datamanager .dat file holding `data`. */
export function datFileContent(data: LuaTable): string {
  return `return ${serializeLua(data)};\n`;
}

export { encodeProsodyName };

/** datamanager's store_encode(): like encodeProsodyName but "_" is kept. */
export function encodeProsodyStoreName(store: string): string {
  return encodeProsodyName(store).replace(/%5f/g, '_');
}

function toPlain(v: ParsedLuaValue): LuaValue {
  if (!(v instanceof Map)) return v;
  const out: LuaTable = {};
  for (const [k, val] of v) out[String(k)] = toPlain(val);
  return out;
}

/**
 * Reads a datamanager .dat file with the app's own strict parser (tested on its own in
 * test/sources), as plain objects for easy comparison. Throws on anything that is not data.
 */
export function parseDatFile(content: string | Buffer): LuaValue {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const parsed = parseLuaData(text);
  if (!parsed.ok)
    throw new Error(`not a Prosody data file: ${parsed.error} at byte ${parsed.offset}`);
  if (parsed.value === null) throw new Error('not a Prosody data file: it returns nil');
  return toPlain(parsed.value);
}
