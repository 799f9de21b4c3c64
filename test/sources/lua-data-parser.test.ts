import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type LuaKey,
  type LuaTable,
  type LuaValue,
  parseLuaData,
} from '../../main/sources/lua-data-parser.js';

/** Builds a LuaTable from entries, nesting plain arrays of entries as tables. */
type Entries = Array<[LuaKey, LuaValue | Entries]>;
function table(entries: Entries): LuaTable {
  return new Map(entries.map(([k, v]): [LuaKey, LuaValue] => [k, Array.isArray(v) ? table(v) : v]));
}

function valueOf(text: string): LuaValue | null {
  const r = parseLuaData(text);
  assert.ok(r.ok, r.ok ? '' : `${r.error} at ${r.offset}`);
  return r.value;
}

function errorOf(
  text: string,
  limits?: Parameters<typeof parseLuaData>[1],
): { error: string; offset: number } {
  const r = parseLuaData(text, limits);
  assert.equal(r.ok, false, `expected a parse error for ${JSON.stringify(text.slice(0, 80))}`);
  const { error, offset } = r as { error: string; offset: number };
  return { error, offset };
}

// Files exactly as Prosody 0.12.3's util.datamanager writes them.
const LASTLOG2 =
  'return {\n' +
  '\t["logout"] = {\n' +
  '\t\t["timestamp"] = 1795536286;\n' +
  '\t};\n' +
  '\t["login"] = {\n' +
  '\t\t["ip"] = "2001:db8::1";\n' +
  '\t\t["timestamp"] = 1795536286;\n' +
  '\t};\n' +
  '\t["registered"] = {\n' +
  '\t\t["timestamp"] = 1795536000;\n' +
  '\t};\n' +
  '};\n';
const ACCOUNT_ACTIVITY = 'return {\n\t["timestamp"] = 1795536272;\n};\n';
const COMPONENT_ROW = 'return {\n\t["muc.example.org"] = "message";\n};\n';
/** What the serializer writes for every kind of value (checked against lua5.4 + util.serialization). */
const EVERY_KIND =
  'return {\n' +
  '\t"a";\n' +
  '\t"b";\n' +
  '\t[4] = "d";\n' +
  '\t["h"] = -0;\n' +
  '\t["i"] = 9.22337203685477581e+18;\n' +
  '\t["w"] = (0/0);\n' +
  '\t["t"] = true;\n' +
  '\t["u"] = false;\n' +
  '\t["z"] = (-1/0);\n' +
  '\t["g"] = 0.100000000000000006;\n' +
  '\t["y"] = (1/0);\n' +
  '\t["k"] = {\n' +
  '\t\t{\n' +
  '\t\t\t{};\n' +
  '\t\t};\n' +
  '\t};\n' +
  '\t["s"] = "zo\\195\\171\\n\\t\\"\\\'\\\\\\000\\127\\r\\001";\n' +
  '};\n';

// ---------------------------------------------------------------------------------------------
// Prosody's own files

test('a lastlog2 file with login, logout, registered and an IP address is read as nested tables', () => {
  assert.deepEqual(
    valueOf(LASTLOG2),
    table([
      ['logout', [['timestamp', 1795536286]]],
      [
        'login',
        [
          ['ip', '2001:db8::1'],
          ['timestamp', 1795536286],
        ],
      ],
      ['registered', [['timestamp', 1795536000]]],
    ]),
  );
});

test("Prosody 13's account_activity file is read as a table with one timestamp", () => {
  assert.deepEqual(valueOf(ACCOUNT_ACTIVITY), table([['timestamp', 1795536272]]));
});

test('a component row keyed by a host name with a plain string value is read as it is', () => {
  assert.deepEqual(valueOf(COMPONENT_ROW), table([['muc.example.org', 'message']]));
});

test('every kind of value util.serialization writes is read back, escapes and all', () => {
  assert.deepEqual(
    valueOf(EVERY_KIND),
    table([
      [1, 'a'],
      [2, 'b'],
      [4, 'd'],
      ['h', -0],
      ['i', 2 ** 63], // 9.22337203685477581e+18 as a double
      ['w', NaN],
      ['t', true],
      ['u', false],
      ['z', -Infinity],
      ['g', 0.1],
      ['y', Infinity],
      ['k', [[1, [[1, []]]]]],
      ['s', 'zoë\n\t"\'\\\u0000\u007f\r\u0001'],
    ]),
  );
});

test('negative zero keeps its sign', () => {
  assert.ok(Object.is(valueOf('return -0;'), -0));
});

test('"return nil;" is read as null', () => {
  assert.equal(valueOf('return nil;\n'), null);
});

test('an empty table is read as an empty map', () => {
  assert.deepEqual(valueOf('return {};\n'), new Map());
});

test('a value without "return" is accepted', () => {
  assert.deepEqual(valueOf('{ ["a"] = 1 }'), table([['a', 1]]));
});

test('positional values get the keys 1, 2, 3 and a positional nil leaves a gap', () => {
  assert.deepEqual(
    valueOf('return { "x", nil, "z" }'),
    table([
      [1, 'x'],
      [3, 'z'],
    ]),
  );
});

test('a field set to nil is absent from the table', () => {
  assert.deepEqual(valueOf('return { a = nil, b = 2 }'), table([['b', 2]]));
});

test('name keys, commas, semicolons and a trailing separator are all accepted', () => {
  assert.deepEqual(
    valueOf('return { a = \'x\', ["b"] = 2; [3] = true, [false] = 1.5, }'),
    table([
      ['a', 'x'],
      ['b', 2],
      [3, true],
      [false, 1.5],
    ]),
  );
});

test('comments of every form may appear wherever whitespace may', () => {
  const text =
    '-- written by hand\n--[[ a long\ncomment ]] return --[==[ ]] ]==] { -- after the brace\n' +
    '  a --[[x]] = --[=[y]=] 1 -- trailing\n } --[[ end ]] ; -- done';
  assert.deepEqual(valueOf(text), table([['a', 1]]));
});

test('a comment that looks like a long bracket but is not one ends at the line end', () => {
  assert.deepEqual(valueOf('return --[= not long\n{ 1 }'), table([[1, 1]]));
});

// ---------------------------------------------------------------------------------------------
// Strings

const escapes: Array<[source: string, value: string]> = [
  ['\\a\\b\\f\\n\\r\\t\\v', '\x07\b\f\n\r\t\v'],
  ['\\\\ \\" \\\'', '\\ " \''],
  ['a\\\nb', 'a\nb'],
  ['a\\\r\nb', 'a\nb'],
  ['a\\\n\rb', 'a\nb'],
  ['a\\\rb', 'a\nb'],
  ['\\0\\65\\0659', '\0AA9'],
  ['\\255\\195\\169', '\uFFFDé'],
  ['\\x41\\x7a\\xC3\\xA9', 'Azé'],
  ['a\\z   \n\t  b', 'ab'],
  ['\\u{41}\\u{e9}\\u{20AC}\\u{1F600}', 'Aé€😀'],
  ['\\u{000000041}', 'A'],
  ['zoë raw', 'zoë raw'],
];

for (const [source, value] of escapes) {
  test(`the string escape ${JSON.stringify(source)} is decoded as Lua does`, () => {
    assert.equal(valueOf(`return "${source}"`), value);
  });
}

test('a single-quoted string may contain double quotes unescaped', () => {
  assert.equal(valueOf(`return 'say "hi"'`), 'say "hi"');
});

test('decimal-escaped UTF-8 bytes are decoded as one character', () => {
  assert.equal(valueOf('return "zo\\195\\171"'), 'zoë');
});

test('escaped bytes that are not UTF-8 become U+FFFD instead of failing the file', () => {
  assert.equal(valueOf('return "a\\255b\\195"'), 'a\uFFFDb\uFFFD');
});

test('a long string drops the newline after its opening bracket and normalises line ends', () => {
  assert.equal(valueOf('return [[\r\none\r\ntwo\rthree\n\rfour]]'), 'one\ntwo\nthree\nfour');
});

test('a long string of level 2 may contain ]] and escapes are not decoded in it', () => {
  assert.equal(valueOf('return [==[a]]b]=]c\\n]==]'), 'a]]b]=]c\\n');
});

test('a long string can be a positional value and a key', () => {
  assert.deepEqual(
    valueOf('return { [[x]], [ [=[k]=] ] = 1 }'),
    table([
      [1, 'x'],
      ['k', 1],
    ]),
  );
});

// ---------------------------------------------------------------------------------------------
// Numbers

const numbers: Array<[source: string, value: number]> = [
  ['1795536286', 1795536286],
  ['-42', -42],
  ['- 42', -42],
  ['1.5', 1.5],
  ['.5', 0.5],
  ['5.', 5],
  ['1e3', 1000],
  ['1.5E-3', 0.0015],
  ['1e+400', Infinity],
  ['0x10', 16],
  ['0XfF', 255],
  ['0xffffffffffffffff', -1],
  ['0x7fffffffffffffff', 2 ** 63], // math.maxinteger, rounded to a double
  ['0xA.8p1', 21],
  ['0x.8', 0.5],
  ['0x1P-2', 0.25],
  ['1.00000000000000005e+300', 1e300],
  ['00012', 12],
];

for (const [source, value] of numbers) {
  test(`the numeral ${source} is read as ${value}`, () => {
    assert.equal(valueOf(`return ${source}`), value);
  });
}

// ---------------------------------------------------------------------------------------------
// What is not data

const rejected: Array<[what: string, text: string]> = [
  ['a call to os.execute', 'return os.execute("rm -rf /")'],
  ['an immediately called function', 'return (function() end)()'],
  ['a call to io.open inside a table', 'return {x = io.open("f")}'],
  ['string concatenation', 'return "a" .. "b"'],
  ['concatenation inside a table', 'return { ["a"] = "x" .. "y" }'],
  ['arithmetic', 'return { ["timestamp"] = 1 + 1 }'],
  ['a bare name as a value', 'return { x }'],
  ['a global name', 'return _G'],
  ['a function definition', 'return { f = function() return 1 end }'],
  ['a goto statement', 'goto x'],
  ['two statements', 'return {}; os.exit()'],
  ['a second value', 'return {} {}'],
  ['a second return', 'return 1; return 2'],
  ['two semicolons', 'return 1;;'],
  ['math.huge', 'return math.huge'],
  ['-math.huge', 'return -math.huge'],
  ["a parenthesised expression other than the serializer's", 'return (1+0)'],
  ['a parenthesised string', 'return ("a")'],
  ['a double minus that is really a comment', 'return --1'],
  ['a minus before a non-number', 'return -"1"'],
  ['a keyword as a field name', 'return { end = 1 }'],
  ['a keyword as a value', 'return { function }'],
  ['a method call', 'return ("x"):rep(10)'],
  ['an index expression', 'return {}[1]'],
  ['a length operator', 'return #"abc"'],
  ['a vararg', 'return ...'],
  ['a table used as a key', 'return { [{}] = 1 }'],
  ['a nil key', 'return { [nil] = 1 }'],
  ['a NaN key', 'return { [(0/0)] = 1 }'],
  ['a duplicate key', 'return { a = 1, ["a"] = 2 }'],
  ['a positional value on an explicit key', 'return { [1] = "a", "b" }'],
  ['a duplicate of a nil field', 'return { a = nil, a = 1 }'],
  ['an empty field', 'return { 1,, 2 }'],
  ['a lone separator', 'return { ; }'],
  ['a missing separator', 'return { 1 2 }'],
  ['a missing value', 'return { a = }'],
  ['a missing key', 'return { = 1 }'],
  ['an unclosed key bracket', 'return { [1 = 2 }'],
  ['an unfinished string', 'return "abc'],
  ['a raw newline in a string', 'return "a\nb"'],
  ['an invalid escape', 'return "\\q"'],
  ['a decimal escape above 255', 'return "\\256"'],
  ['a short hex escape', 'return "\\x4"'],
  ['a \\u escape without braces', 'return "\\u41"'],
  ['an empty \\u escape', 'return "\\u{}"'],
  ['a \\u escape above 2^31', 'return "\\u{80000000}"'],
  ['a malformed number running into a letter', 'return 3x'],
  ['a number with two dots', 'return 1..2'],
  ['a bare hex prefix', 'return 0x'],
  ['an exponent without digits', 'return 1e'],
  ['an invalid long bracket', 'return [=x]=]'],
  ['an unfinished long string', 'return [[abc'],
  ['an unfinished long comment', '--[[ never closed\nreturn 1'],
  ['"return" alone', 'return'],
  ['"return" glued to a name', 'returnx'],
  ['an empty file', ''],
  ['only a comment', '-- nothing'],
  ['a shebang line', '#!/usr/bin/lua\nreturn 1'],
  ['a non-ASCII name', 'return { zoë = 1 }'],
];

for (const [what, text] of rejected) {
  test(`${what} is a parse error`, () => {
    const e = errorOf(text);
    assert.ok(e.error.length > 0 && e.error.length < 80, e.error);
    assert.ok(e.offset >= 0 && e.offset <= Buffer.byteLength(text), String(e.offset));
  });
}

test('the error points at the byte where the code starts', () => {
  assert.deepEqual(errorOf('return os.execute("rm -rf /")'), {
    error: "name 'os' is not data",
    offset: 7,
  });
});

test('the error offset counts UTF-8 bytes, not characters', () => {
  assert.equal(errorOf('return { "zoë", x }').offset, 17);
});

// ---------------------------------------------------------------------------------------------
// Limits

test('100 000 nested tables are rejected by the depth limit', () => {
  const e = errorOf('return ' + '{'.repeat(100_000));
  assert.match(e.error, /nested deeper than 32/);
  assert.equal(e.offset, 7 + 32);
});

test('100 000 unclosed tables without a depth limit end in an error, not a stack overflow', () => {
  const e = errorOf('return ' + '{'.repeat(100_000), { maxDepth: Infinity });
  assert.match(e.error, /unfinished table/);
});

test('100 000 nested tables are parsed without recursion when the limit allows it', () => {
  const r = parseLuaData('return ' + '{'.repeat(100_000) + '}'.repeat(100_000), {
    maxDepth: Infinity,
  });
  assert.ok(r.ok);
  let depth = 0;
  for (let v = r.value; v instanceof Map; v = v.get(1) ?? null) depth++;
  assert.equal(depth, 100_000);
});

test('tables nested exactly as deep as the limit are accepted', () => {
  assert.ok(parseLuaData('{'.repeat(32) + '}'.repeat(32)).ok);
});

test('one table deeper than the limit is rejected', () => {
  assert.match(errorOf('{'.repeat(33) + '}'.repeat(33)).error, /nested deeper/);
});

test('a string of exactly the length limit is accepted', () => {
  const s = 'x'.repeat(64 * 1024);
  assert.equal(valueOf(`return "${s}"`), s);
});

test('a string one byte over the length limit is rejected at its start', () => {
  const e = errorOf(`return "${'x'.repeat(64 * 1024 + 1)}"`);
  assert.match(e.error, /string longer than 65536 bytes/);
  assert.equal(e.offset, 7);
});

test('a huge string is rejected by the length limit', () => {
  assert.match(errorOf(`return { "${'a'.repeat(10_000_000)}" }`).error, /string longer/);
});

test('the string limit counts decoded bytes of escapes', () => {
  assert.ok(parseLuaData('return "\\065\\066"', { maxStringLength: 2 }).ok);
  assert.match(errorOf('return "\\065\\066\\067"', { maxStringLength: 2 }).error, /longer/);
});

test('the string limit counts UTF-8 bytes of raw characters', () => {
  assert.match(errorOf('return "ëë"', { maxStringLength: 3 }).error, /longer/);
});

test('the string limit applies to long strings', () => {
  assert.match(errorOf('return [[abcd]]', { maxStringLength: 3 }).error, /longer/);
});

test('the string limit applies to keys', () => {
  assert.match(errorOf('return { ["abcd"] = 1 }', { maxStringLength: 3 }).error, /longer/);
});

test('a table with exactly the entry limit is accepted', () => {
  const r = parseLuaData('return {' + '1,'.repeat(10_000) + '}');
  assert.ok(r.ok && r.value instanceof Map && r.value.size === 10_000);
});

test('a table with one entry over the limit is rejected', () => {
  assert.match(errorOf('return {' + '1,'.repeat(10_001) + '}').error, /more than 10000 entries/);
});

test('nil fields count towards the entry limit', () => {
  assert.match(errorOf('return { nil, nil, nil }', { maxEntries: 2 }).error, /more than 2/);
});

test('an undefined limit keeps the default', () => {
  assert.match(errorOf('{'.repeat(40), { maxDepth: undefined }).error, /deeper than 32/);
});

// ---------------------------------------------------------------------------------------------
// Truncated files

for (const [name, file] of [
  ['lastlog2', LASTLOG2],
  ['account_activity', ACCOUNT_ACTIVITY],
  ['component row', COMPONENT_ROW],
  ['every kind of value', EVERY_KIND],
] as const) {
  test(`every truncation of the ${name} file is an error unless it is itself complete`, () => {
    const full = valueOf(file);
    for (let end = 0; end < file.length; end++) {
      const r = parseLuaData(file.slice(0, end));
      if (r.ok) {
        // Only "return {…}" without its ";\n" (or without "\n") is a complete file.
        assert.ok(end >= file.lastIndexOf('}') + 1, `prefix of ${end} chars parsed`);
        assert.deepEqual(r.value, full);
      } else {
        assert.ok(r.offset >= 0 && r.offset <= end, `offset ${r.offset} past ${end}`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Properties

/** Lua data values (no nil inside tables, no NaN keys), a few levels deep. */
const luaKey: fc.Arbitrary<LuaKey> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('login', 'logout', 'registered', 'timestamp', 'ip', 'end', 'nil', '_x1'),
  fc.integer({ min: -5, max: 12 }),
  fc.double({ noNaN: true }),
  fc.boolean(),
);

const luaValue: fc.Arbitrary<LuaValue> = fc.letrec<{ value: LuaValue; table: LuaTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary-ascii', maxLength: 20 }),
    fc.double(),
    fc.integer({ min: 0, max: 2 ** 32 }),
    fc.boolean(),
    tie('table'),
  ),
  table: fc
    .array(fc.tuple(luaKey, tie('value')), { maxLength: 6 })
    .map((entries) => new Map(entries)),
})).value;

const NAMED: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
  "'": "\\'",
};

/** Writes one character (code point) of a double-quoted string, escaped one of several ways. */
function writeChar(ch: string, pick: number): string {
  const cp = ch.codePointAt(0) as number;
  const bytes = [...Buffer.from(ch, 'utf8')];
  const mustEscape = cp < 0x20 || cp === 0x22 || cp === 0x5c || cp === 0x7f;
  switch (pick % 5) {
    case 0: // Prosody: named escapes, then \ddd for control characters and bytes >= 127
      if (NAMED[ch] !== undefined) return NAMED[ch];
      if (cp < 0x20 || cp >= 0x7f)
        return bytes.map((b) => '\\' + String(b).padStart(3, '0')).join('');
      return ch;
    case 1:
      return bytes.map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    case 2:
      return `\\u{${cp.toString(16)}}`;
    case 3: // shortest decimal escapes; the last one padded in case a digit follows
      return bytes
        .map((b, i) => `\\${i === bytes.length - 1 ? String(b).padStart(3, '0') : b}`)
        .join('');
    default:
      // \z skips the line break and indentation that follow it
      return mustEscape
        ? '\\z \n  ' + bytes.map((b) => `\\${String(b).padStart(3, '0')}`).join('')
        : ch;
  }
}

function writeString(s: string, picks: number[]): string {
  let i = 0;
  let out = '"';
  for (const ch of s) out += writeChar(ch, picks[i++ % picks.length] as number);
  return out + '"';
}

function writeNumber(n: number): string {
  if (Number.isNaN(n)) return '(0/0)';
  if (n === Infinity) return '(1/0)';
  if (n === -Infinity) return '(-1/0)';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['end', 'nil', 'true', 'false', 'return', 'function', 'and', 'or']);

function writeScalar(v: string | number | boolean, picks: number[]): string {
  if (typeof v === 'string') return writeString(v, picks);
  if (typeof v === 'number') return writeNumber(v);
  return v ? 'true' : 'false';
}

/** A small serializer in the style of util.serialization, with random spellings. */
function serialize(value: LuaValue, picks: number[], depth = 1): string {
  if (!(value instanceof Map)) return writeScalar(value, picks);
  if (value.size === 0) return '{}';
  const indent = '\t'.repeat(depth);
  let numkey = 1;
  let i = depth;
  const items: string[] = [];
  for (const [k, v] of value) {
    const pick = picks[i++ % picks.length] as number;
    let item: string;
    if (k === numkey) {
      numkey++;
      item = '';
    } else if (typeof k === 'string' && IDENTIFIER.test(k) && !KEYWORDS.has(k) && pick % 2 === 0) {
      item = `${k} = `;
    } else {
      item = `[${writeScalar(k, picks)}] = `;
    }
    const sep = pick % 3 === 0 ? ',' : ';';
    const comment = pick % 7 === 0 ? ' -- note' : pick % 7 === 1 ? ' --[[ c ]]' : '';
    items.push(`\n${indent}${item}${serialize(v, picks, depth + 1)}${sep}${comment}`);
  }
  return '{' + items.join('') + '\n' + '\t'.repeat(depth - 1) + '}';
}

test('any Lua data value written in Prosody style with random escapes reads back equal', () => {
  fc.assert(
    fc.property(luaValue, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (value, picks) => {
      const text = 'return ' + serialize(value, picks) + ';\n';
      const r = parseLuaData(text);
      assert.ok(r.ok, r.ok ? '' : `${r.error} at ${r.offset} in ${text}`);
      assert.deepEqual(r.value, value);
    }),
    { numRuns: 500 },
  );
});

test('the parser never throws on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      const r = parseLuaData(text);
      if (!r.ok) assert.ok(r.offset >= 0 && r.offset <= Buffer.byteLength(text));
    }),
    { numRuns: 2000 },
  );
});

test('the parser never throws on arbitrary grapheme text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
      parseLuaData(text);
    }),
    { numRuns: 1000 },
  );
});

test('the parser never throws on random bytes read as Latin-1', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      parseLuaData(Buffer.from(bytes).toString('latin1'));
    }),
    { numRuns: 2000 },
  );
});

test('the parser never throws on text made of Lua punctuation, digits and escapes', () => {
  const piece = fc.constantFrom(
    ...'{ } [ ] [[ ]] [=[ ]=] = , ; " \' \\ \\x \\u{ \\z \\9 -- --[[ ( ) 0x 1 . e - + return nil true a \n'.split(
      ' ',
    ),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
      const r = parseLuaData(pieces.join(''), { maxDepth: 4, maxEntries: 5, maxStringLength: 8 });
      if (!r.ok) assert.ok(r.error.length > 0);
    }),
    { numRuns: 3000 },
  );
});

test('a valid file with one byte changed never makes the parser throw', () => {
  fc.assert(
    fc.property(fc.nat(LASTLOG2.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
      parseLuaData(LASTLOG2.slice(0, at) + String.fromCharCode(byte) + LASTLOG2.slice(at + 1));
    }),
    { numRuns: 2000 },
  );
});
