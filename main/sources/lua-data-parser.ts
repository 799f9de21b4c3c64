/**
 * A strict reader for the Lua data files of Prosody's internal storage
 * (`<data>/<host>/<store>/<user>.dat`, written by util.datamanager as
 * `"return " .. serialize(data) .. ";\n"`).
 *
 * The files are Lua source, but they are read here as data only: literals and table
 * constructors are accepted, everything else (names, calls, operators, functions) is a parse
 * error. Nothing is ever executed. The parser is iterative, so deep nesting cannot overflow the
 * stack, and every size it allocates is bounded by {@link LuaDataLimits}.
 */

/** A table key: Lua tables here are keyed by strings, numbers or booleans. */
export type LuaKey = string | number | boolean;
/** A Lua table. Positional values get the keys 1, 2, 3, … as in Lua. */
export type LuaTable = Map<LuaKey, LuaValue>;
/** A Lua value as stored by Prosody. `nil` never appears inside a table (it means "absent"). */
export type LuaValue = string | number | boolean | LuaTable;

export interface LuaDataLimits {
  /** How many tables may be nested inside each other (`{}` alone is depth 1). */
  maxDepth: number;
  /** The longest string, in bytes, once escapes are decoded. */
  maxStringLength: number;
  /** The most fields one table constructor may hold (nil fields included). */
  maxEntries: number;
}

export const DEFAULT_LUA_DATA_LIMITS: Readonly<LuaDataLimits> = Object.freeze({
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxEntries: 10_000,
});

export type LuaDataResult =
  { ok: true; value: LuaValue | null } | { ok: false; error: string; offset: number };

/**
 * A lexical or syntax error at `offset` (an index into the text, in UTF-16 code units).
 * Exported for prosody-config-parser.ts, which reuses the string and number readers.
 */
export class LuaSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'LuaSyntaxError';
  }
}

/** Lua's reserved words: none of them may be a field name or a value (except true/false/nil). */
export const LUA_KEYWORDS: ReadonlySet<string> = new Set(
  (
    'and break do else elseif end false for function goto if in local nil not or repeat return ' +
    'then true until while'
  ).split(' '),
);

// ---------------------------------------------------------------------------------------------
// Character classes, as Lua's lexer sees them in the C locale.

/** Lua's whitespace: space, \t, \n, \v, \f, \r. */
export function isLuaSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Letters and underscore: what may start a Lua name. */
export function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

export function isNameChar(c: number): boolean {
  return isNameStart(c) || isDigit(c);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

function describeChar(text: string, pos: number): string {
  const cp = text.codePointAt(pos);
  if (cp === undefined) return 'end of input';
  if (cp >= 0x21 && cp <= 0x7e) return `'${String.fromCharCode(cp)}'`;
  return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Lexer pieces, shared with the config reader.

/**
 * At a `[`: the level of the long bracket that opens there (`[[` is 0, `[==[` is 2), or -1 when
 * the `[` is a plain bracket. Throws on `[=` not followed by `[`, as Lua does.
 */
export function longBracketLevel(text: string, pos: number): number {
  let i = pos + 1;
  while (text.charCodeAt(i) === 0x3d) i++;
  if (text.charCodeAt(i) === 0x5b) return i - pos - 1;
  if (i > pos + 1) throw new LuaSyntaxError('invalid long string delimiter', pos);
  return -1;
}

/** The index just past the long bracket that closes a comment or string opened at `pos`. */
function findLongBracketEnd(text: string, pos: number, level: number, what: string): number {
  const close = ']' + '='.repeat(level) + ']';
  const at = text.indexOf(close, pos + level + 2);
  if (at < 0) throw new LuaSyntaxError(`unfinished long ${what}`, pos);
  return at + close.length;
}

/** Skips whitespace and comments (`-- …`, `--[[ … ]]`, `--[==[ … ]==]`). */
export function skipSpaceAndComments(text: string, pos: number): number {
  const n = text.length;
  for (;;) {
    while (pos < n && isLuaSpace(text.charCodeAt(pos))) pos++;
    if (text.charCodeAt(pos) !== 0x2d || text.charCodeAt(pos + 1) !== 0x2d) return pos;
    const start = pos;
    pos += 2;
    if (text.charCodeAt(pos) === 0x5b) {
      // Inside a comment, `[=` without a second `[` just starts a short comment.
      let i = pos + 1;
      while (text.charCodeAt(i) === 0x3d) i++;
      if (text.charCodeAt(i) === 0x5b) {
        const close = ']' + '='.repeat(i - pos - 1) + ']';
        const at = text.indexOf(close, i + 1);
        if (at < 0) throw new LuaSyntaxError('unfinished long comment', start);
        pos = at + close.length;
        continue;
      }
    }
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c === 0x0a || c === 0x0d) break;
      pos++;
    }
  }
}

/** Lua's end of line: \n, \r, \r\n or \n\r. Returns the index after it. */
function skipNewline(text: string, pos: number): number {
  const c = text.charCodeAt(pos);
  const d = text.charCodeAt(pos + 1);
  return (d === 0x0a || d === 0x0d) && d !== c ? pos + 2 : pos + 1;
}

/** Collects a string's bytes: raw characters of the text plus bytes from escapes. */
class StringBuilder {
  private readonly parts: string[] = [];
  private bytes: number[] = [];
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly start: number,
  ) {}

  private grow(n: number): void {
    this.size += n;
    if (this.size > this.maxBytes) {
      throw new LuaSyntaxError(`string longer than ${this.maxBytes} bytes`, this.start);
    }
  }

  raw(chunk: string): void {
    if (chunk.length === 0) return;
    this.grow(Buffer.byteLength(chunk, 'utf8'));
    this.flushBytes();
    this.parts.push(chunk);
  }

  byte(b: number): void {
    this.grow(1);
    this.bytes.push(b);
  }

  private flushBytes(): void {
    if (this.bytes.length === 0) return;
    // Escaped bytes are UTF-8 (Prosody escapes every byte above 126 as \ddd); invalid sequences
    // become U+FFFD rather than failing the whole file.
    this.parts.push(Buffer.from(this.bytes).toString('utf8'));
    this.bytes = [];
  }

  finish(): string {
    this.flushBytes();
    return this.parts.join('');
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
  '"': 0x22,
  "'": 0x27,
};

/** Appends Lua's (extended, up to 2^31) UTF-8 encoding of `x`, as `\u{…}` does. */
function pushUtf8Escape(out: StringBuilder, x: number): void {
  if (x < 0x80) {
    out.byte(x);
    return;
  }
  const tail: number[] = [];
  let mfb = 0x3f; // the largest value that still fits in the first byte
  do {
    tail.push(0x80 | (x & 0x3f));
    x = Math.floor(x / 64);
    mfb >>= 1;
  } while (x > mfb);
  out.byte(((~mfb << 1) | x) & 0xff);
  for (let i = tail.length - 1; i >= 0; i--) out.byte(tail[i] as number);
}

/**
 * Reads a short string ('…' or "…") starting at its opening quote, with every Lua 5.1–5.4
 * escape. Returns the decoded value and the index after the closing quote.
 */
export function readShortString(
  text: string,
  pos: number,
  maxBytes: number,
): { value: string; end: number } {
  const quote = text.charCodeAt(pos);
  const out = new StringBuilder(maxBytes, pos);
  const n = text.length;
  let i = pos + 1;
  let runStart = i;
  for (;;) {
    if (i >= n) throw new LuaSyntaxError('unfinished string', pos);
    const c = text.charCodeAt(i);
    if (c === quote) {
      out.raw(text.slice(runStart, i));
      return { value: out.finish(), end: i + 1 };
    }
    if (c === 0x0a || c === 0x0d) throw new LuaSyntaxError('unfinished string', pos);
    if (c !== 0x5c) {
      i++;
      continue;
    }
    out.raw(text.slice(runStart, i));
    const escAt = i;
    i++;
    if (i >= n) throw new LuaSyntaxError('unfinished string', pos);
    const e = text.charCodeAt(i);
    const simple = SIMPLE_ESCAPES[text[i] as string];
    if (simple !== undefined) {
      out.byte(simple);
      i++;
    } else if (e === 0x0a || e === 0x0d) {
      out.byte(0x0a);
      i = skipNewline(text, i);
    } else if (isDigit(e)) {
      let v = 0;
      let k = 0;
      while (k < 3 && isDigit(text.charCodeAt(i))) {
        v = v * 10 + (text.charCodeAt(i) - 0x30);
        i++;
        k++;
      }
      if (v > 255) throw new LuaSyntaxError('decimal escape too large', escAt);
      out.byte(v);
    } else if (e === 0x78 /* x */) {
      const h1 = text.charCodeAt(i + 1);
      const h2 = text.charCodeAt(i + 2);
      if (!isHexDigit(h1) || !isHexDigit(h2)) {
        throw new LuaSyntaxError('hexadecimal digit expected', escAt);
      }
      out.byte(hexValue(h1) * 16 + hexValue(h2));
      i += 3;
    } else if (e === 0x7a /* z */) {
      i++;
      while (i < n && isLuaSpace(text.charCodeAt(i))) i++;
    } else if (e === 0x75 /* u */) {
      if (text.charCodeAt(i + 1) !== 0x7b)
        throw new LuaSyntaxError("missing '{' in \\u{xxxx}", escAt);
      i += 2;
      let v = 0;
      let digits = 0;
      while (isHexDigit(text.charCodeAt(i))) {
        v = v * 16 + hexValue(text.charCodeAt(i));
        if (v > 0x7fffffff) throw new LuaSyntaxError('UTF-8 value too large', escAt);
        i++;
        digits++;
      }
      if (digits === 0) throw new LuaSyntaxError('hexadecimal digit expected', escAt);
      if (text.charCodeAt(i) !== 0x7d) throw new LuaSyntaxError("missing '}' in \\u{xxxx}", escAt);
      i++;
      pushUtf8Escape(out, v);
    } else {
      throw new LuaSyntaxError('invalid escape sequence', escAt);
    }
    runStart = i;
  }
}

/**
 * Reads a long string (`[[…]]`, `[==[…]==]`) whose opening bracket of `level` starts at `pos`.
 * As in Lua: no escapes, a newline right after the opening bracket is dropped, and every end of
 * line inside becomes "\n".
 */
export function readLongString(
  text: string,
  pos: number,
  level: number,
  maxBytes: number,
): { value: string; end: number } {
  const end = findLongBracketEnd(text, pos, level, 'string');
  let from = pos + level + 2;
  const first = text.charCodeAt(from);
  if (first === 0x0a || first === 0x0d) from = skipNewline(text, from);
  const to = end - level - 2;
  const value = from < to ? text.slice(from, to).replace(/\r\n|\n\r|\r|\n/g, '\n') : '';
  if (Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw new LuaSyntaxError(`string longer than ${maxBytes} bytes`, pos);
  }
  return { value, end };
}

const DECIMAL_NUMERAL = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_NUMERAL = /^0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?$/;

function hexNumeralValue(lexeme: string): number {
  const body = lexeme.slice(2);
  const p = body.search(/[pP]/);
  const mantissa = p < 0 ? body : body.slice(0, p);
  const exponent = p < 0 ? 0 : Number(body.slice(p + 1));
  const dot = mantissa.indexOf('.');
  if (dot < 0 && p < 0) {
    // A hex integer: Lua 5.3+ wraps it around modulo 2^64.
    return Number(BigInt.asIntN(64, BigInt('0x' + mantissa)));
  }
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const fraction = dot < 0 ? 0 : mantissa.length - dot - 1;
  let m = 0;
  for (let i = 0; i < digits.length; i++) m = m * 16 + hexValue(digits.charCodeAt(i));
  return m * Math.pow(2, exponent - 4 * fraction);
}

/**
 * Reads a numeral (decimal or hex, with fraction and exponent) starting at `pos`, the way Lua's
 * lexer delimits it: a numeral running into a letter is malformed (`3x`, `1..2`).
 */
export function readNumeral(text: string, pos: number): { value: number; end: number } {
  const hex = text.charCodeAt(pos) === 0x30 && (text.charCodeAt(pos + 1) | 0x20) === 0x78;
  const expo = hex ? 0x70 : 0x65; // p or e
  let i = hex ? pos + 2 : pos;
  for (;;) {
    const c = text.charCodeAt(i);
    if ((c | 0x20) === expo) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
    } else if (isHexDigit(c) || c === 0x2e) {
      i++;
    } else {
      break;
    }
  }
  if (isNameChar(text.charCodeAt(i))) i++;
  const lexeme = text.slice(pos, i);
  if (hex ? !HEX_NUMERAL.test(lexeme) : !DECIMAL_NUMERAL.test(lexeme)) {
    throw new LuaSyntaxError(`malformed number '${lexeme.slice(0, 40)}'`, pos);
  }
  return { value: hex ? hexNumeralValue(lexeme) : Number(lexeme), end: i };
}

// ---------------------------------------------------------------------------------------------
// The data parser.

/** How util.serialization writes non-finite numbers: `(1/0)`, `(-1/0)` and `(0/0)`. */
const NON_FINITE: ReadonlyArray<readonly [string, number]> = [
  ['(1/0)', Infinity],
  ['(-1/0)', -Infinity],
  ['(0/0)', NaN],
];

interface Frame {
  readonly table: LuaTable;
  readonly start: number;
  /** Keys of `key = nil` fields, kept only to reject duplicates. */
  nilKeys: Set<LuaKey> | null;
  nextIndex: number;
  fields: number;
  /** The key (and where it was written) of the field whose value is being read. */
  key: LuaKey;
  keyAt: number;
}

type ValueStart =
  { open: true; end: number } | { open: false; value: LuaValue | null; end: number };

class DataParser {
  private readonly n: number;

  constructor(
    private readonly text: string,
    private readonly limits: LuaDataLimits,
  ) {
    this.n = text.length;
  }

  private skip(pos: number): number {
    return skipSpaceAndComments(this.text, pos);
  }

  private name(pos: number): string {
    let i = pos;
    while (isNameChar(this.text.charCodeAt(i))) i++;
    return this.text.slice(pos, i);
  }

  /** Reads one value starting at `pos` (already past whitespace), or sees a table open. */
  private value(pos: number): ValueStart {
    const { text } = this;
    if (pos >= this.n) throw new LuaSyntaxError('unexpected end of input', pos);
    const c = text.charCodeAt(pos);
    if (c === 0x7b) return { open: true, end: pos + 1 };
    if (c === 0x22 || c === 0x27) {
      const s = readShortString(text, pos, this.limits.maxStringLength);
      return { open: false, value: s.value, end: s.end };
    }
    if (c === 0x5b) {
      const level = longBracketLevel(text, pos);
      if (level < 0) throw new LuaSyntaxError("unexpected '['", pos);
      const s = readLongString(text, pos, level, this.limits.maxStringLength);
      return { open: false, value: s.value, end: s.end };
    }
    if (isDigit(c) || (c === 0x2e && isDigit(text.charCodeAt(pos + 1)))) {
      const num = readNumeral(text, pos);
      return { open: false, value: num.value, end: num.end };
    }
    if (c === 0x2d) {
      const at = this.skip(pos + 1);
      const d = text.charCodeAt(at);
      if (!(isDigit(d) || (d === 0x2e && isDigit(text.charCodeAt(at + 1))))) {
        throw new LuaSyntaxError("expected a number after '-'", pos);
      }
      const num = readNumeral(text, at);
      return { open: false, value: -num.value, end: num.end };
    }
    if (c === 0x28) {
      for (const [literal, v] of NON_FINITE) {
        if (text.startsWith(literal, pos))
          return { open: false, value: v, end: pos + literal.length };
      }
      throw new LuaSyntaxError('expressions are not data', pos);
    }
    if (isNameStart(c)) {
      const word = this.name(pos);
      const end = pos + word.length;
      if (word === 'true') return { open: false, value: true, end };
      if (word === 'false') return { open: false, value: false, end };
      if (word === 'nil') return { open: false, value: null, end };
      if (LUA_KEYWORDS.has(word)) throw new LuaSyntaxError(`'${word}' is not data`, pos);
      throw new LuaSyntaxError(`name '${word.slice(0, 40)}' is not data`, pos);
    }
    throw new LuaSyntaxError(`unexpected ${describeChar(text, pos)}`, pos);
  }

  private open(stack: Frame[], pos: number): void {
    if (stack.length >= this.limits.maxDepth) {
      throw new LuaSyntaxError(`tables nested deeper than ${this.limits.maxDepth}`, pos);
    }
    stack.push({
      table: new Map(),
      start: pos,
      nilKeys: null,
      nextIndex: 1,
      fields: 0,
      key: 0,
      keyAt: pos,
    });
  }

  /** Stores the value of the field being read in `frame`. */
  private store(frame: Frame, value: LuaValue | null): void {
    const { key } = frame;
    if (frame.table.has(key) || frame.nilKeys?.has(key)) {
      throw new LuaSyntaxError('duplicate key in table', frame.keyAt);
    }
    if (value === null) {
      frame.nilKeys ??= new Set();
      frame.nilKeys.add(key);
    } else {
      frame.table.set(key, value);
    }
  }

  /** Reads `[key] =`, `name =` or nothing (positional) and returns where the value starts. */
  private fieldKey(frame: Frame, pos: number): number {
    const { text } = this;
    frame.fields++;
    if (frame.fields > this.limits.maxEntries) {
      throw new LuaSyntaxError(`more than ${this.limits.maxEntries} entries in a table`, pos);
    }
    frame.keyAt = pos;
    const c = text.charCodeAt(pos);
    if (c === 0x5b && longBracketLevel(text, pos) < 0) {
      const keyStart = this.skip(pos + 1);
      const k = this.value(keyStart);
      if (k.open) throw new LuaSyntaxError('tables as keys are not supported', keyStart);
      if (k.value === null) throw new LuaSyntaxError('table key is nil', keyStart);
      if (typeof k.value === 'number' && Number.isNaN(k.value)) {
        throw new LuaSyntaxError('table key is NaN', keyStart);
      }
      let at = this.skip(k.end);
      if (text.charCodeAt(at) !== 0x5d) throw new LuaSyntaxError("expected ']'", at);
      at = this.skip(at + 1);
      if (text.charCodeAt(at) !== 0x3d) throw new LuaSyntaxError("expected '='", at);
      frame.key = k.value as LuaKey;
      return this.skip(at + 1);
    }
    if (isNameStart(c)) {
      const word = this.name(pos);
      if (!LUA_KEYWORDS.has(word)) {
        const at = this.skip(pos + word.length);
        if (text.charCodeAt(at) !== 0x3d) {
          throw new LuaSyntaxError(`name '${word.slice(0, 40)}' is not data`, pos);
        }
        frame.key = word;
        return this.skip(at + 1);
      }
      // true / false / nil are positional values; other keywords fail in value().
    }
    frame.key = frame.nextIndex++;
    return pos;
  }

  parse(): LuaValue | null {
    const { text } = this;
    let pos = this.skip(0);
    if (text.startsWith('return', pos) && !isNameChar(text.charCodeAt(pos + 6))) {
      pos = this.skip(pos + 6);
    }
    const stack: Frame[] = [];
    let root: LuaValue | null;
    const first = this.value(pos);
    if (first.open) {
      this.open(stack, pos);
      pos = first.end;
      // 'field': expecting a field or '}'; 'separator': expecting ',', ';' or '}'.
      let state: 'field' | 'separator' = 'field';
      for (;;) {
        const frame = stack[stack.length - 1] as Frame;
        pos = this.skip(pos);
        const c = text.charCodeAt(pos);
        if (c === 0x7d) {
          pos++;
          stack.pop();
          const parent = stack[stack.length - 1];
          if (parent === undefined) {
            root = frame.table;
            break;
          }
          this.store(parent, frame.table);
          state = 'separator';
        } else if (state === 'separator') {
          if (c !== 0x2c && c !== 0x3b) {
            if (pos >= this.n) throw new LuaSyntaxError('unfinished table', frame.start);
            throw new LuaSyntaxError(
              `expected ',', ';' or '}' but found ${describeChar(text, pos)}`,
              pos,
            );
          }
          pos++;
          state = 'field';
        } else {
          if (pos >= this.n) throw new LuaSyntaxError('unfinished table', frame.start);
          const valueAt = this.fieldKey(frame, pos);
          const v = this.value(valueAt);
          if (v.open) {
            this.open(stack, valueAt);
            state = 'field';
          } else {
            this.store(frame, v.value);
            state = 'separator';
          }
          pos = v.end;
        }
      }
    } else {
      root = first.value;
      pos = first.end;
    }
    pos = this.skip(pos);
    if (text.charCodeAt(pos) === 0x3b) pos = this.skip(pos + 1);
    if (pos < this.n) {
      throw new LuaSyntaxError(`expected end of input but found ${describeChar(text, pos)}`, pos);
    }
    return root;
  }
}

/** The UTF-8 byte offset of `index` (a UTF-16 index into `text`). */
function byteOffset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index), 'utf8');
}

/**
 * Parses the text of one internal-storage file as data: an optional `return`, one value and an
 * optional `;`. Returns `null` as the value for `return nil`. Never executes anything and never
 * throws on bad input: errors come back with a short message and the UTF-8 byte offset.
 */
export function parseLuaData(text: string, limits?: Partial<LuaDataLimits>): LuaDataResult {
  const effective: LuaDataLimits = { ...DEFAULT_LUA_DATA_LIMITS };
  for (const key of ['maxDepth', 'maxStringLength', 'maxEntries'] as const) {
    const v = limits?.[key];
    if (v !== undefined && !Number.isNaN(v)) effective[key] = v;
  }
  try {
    return { ok: true, value: new DataParser(text, effective).parse() };
  } catch (e) {
    if (e instanceof LuaSyntaxError) {
      return { ok: false, error: e.message, offset: byteOffset(text, e.offset) };
    }
    throw e;
  }
}
