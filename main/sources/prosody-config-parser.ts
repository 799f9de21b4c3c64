/**
 * Reads the facts this app needs from a Prosody config file (`/etc/prosody/prosody.cfg.lua`)
 * without executing it: where the data lives (`data_path`), which storage backend each host uses
 * (`storage`, `default_storage`, `sql`), `modules_enabled` and `Include` lines.
 *
 * The config is Lua. It is tokenized and scanned statement by statement; only assignments of
 * literal values are understood. A value built at run time (`..`, a call, a variable) is recorded
 * as unknown, never guessed. Anything else a valid config may contain (functions, `if` blocks,
 * `local`s) is stepped over. Prosody's scoping is followed: options before the first
 * `VirtualHost`/`Component` line are global, those after one belong to that host until the next.
 */

import {
  LUA_KEYWORDS,
  LuaSyntaxError,
  isNameChar,
  isNameStart,
  longBracketLevel,
  readLongString,
  readNumeral,
  readShortString,
  skipSpaceAndComments,
} from './lua-data-parser.js';

/** The storage-related options of one section (global, or one VirtualHost/Component). */
export interface HostSettings {
  /** `storage = "sql"` (every store) or `storage = { store_name = "driver", … }`. */
  storage?: string | Record<string, string>;
  defaultStorage?: string;
  /** The `sql` table's literal fields (strings, numbers, booleans). */
  sql?: { driver?: string; database?: string; [k: string]: unknown };
  modulesEnabled?: string[];
  /** `authentication = "…"`: the provider whose `is_enabled` Prosody 13's module asks. */
  authentication?: string;
  /** `measure_active_users_count_disabled = true|false`. */
  countDisabled?: boolean;
  /**
   * Options set in this section to something that cannot be read without running the config
   * (`storage`, `default_storage`, `sql`, `modules_enabled`, `data_path`), or single fields of
   * them (`storage.archive`, `sql.database`). Absent when there are none.
   */
  unknown?: string[];
}

export type HostSection = { name: string; component: boolean } & HostSettings;

export interface ProsodyConfigFacts {
  /** `data_path` as written (relative paths are relative to the config file's folder). */
  dataPath?: string;
  global: HostSettings;
  /** One entry per VirtualHost/Component, in order of first appearance; names as Prosody preps them. */
  hosts: HostSection[];
  /** `Include "…"` arguments as written (they may be relative, and may be wildcard patterns). */
  includes: string[];
  /** What the scanner could not follow (for diagnostics only). Absent when there is nothing. */
  warnings?: string[];
  /**
   * Where reading stopped, when the file is not Lua Prosody could load (a lexical error, nesting
   * too deep): what comes after was not read, so the facts above may be incomplete.
   */
  unreadable?: { line: number; reason: string };
}

export type ActivityStore = 'lastlog2' | 'account_activity';

export type ActivityStorage =
  | { backend: 'internal' }
  | {
      backend: 'sql';
      driver: string;
      database: string;
      /** The `sql` table as written (absent when unset): a server's host, port, username… */
      sql?: Record<string, unknown>;
    }
  | { backend: 'other'; name: string };

/** The `name` reported by {@link activityStorage} when the storage setting is not a literal. */
export const UNKNOWN_STORAGE = 'unknown';

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { t: 'name'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'string'; s: string; at: number }
  | { t: 'number'; n: number; at: number }
  | { t: 'eof'; at: number };

/** Config strings may be long, but not unboundedly. */
const MAX_CONFIG_STRING = 1024 * 1024;

// Longest first, so that `...` wins over `..` and `.`.
const OPERATORS =
  '... .. == ~= <= >= << >> // :: + - * / % ^ # & ~ | < > = ( ) { } [ ] ; : , .'.split(' ');

/** Where a scan stopped early, as an offset into the text. */
interface Stop {
  offset: number;
  reason: string;
}

/** Splits Lua source into tokens; stops (with a warning) at the first lexical error. */
function tokenize(text: string, warnings: string[], stop: { at?: Stop }): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  // Lua skips a first line starting with '#' (a shebang).
  if (text.startsWith('#')) {
    pos = text.search(/[\r\n]/);
    if (pos < 0) pos = text.length;
  }
  try {
    for (;;) {
      pos = skipSpaceAndComments(text, pos);
      if (pos >= text.length) break;
      const c = text.charCodeAt(pos);
      if (isNameStart(c)) {
        let i = pos + 1;
        while (isNameChar(text.charCodeAt(i))) i++;
        tokens.push({ t: 'name', v: text.slice(pos, i), at: pos });
        pos = i;
      } else if (c === 0x22 || c === 0x27) {
        const s = readShortString(text, pos, MAX_CONFIG_STRING);
        tokens.push({ t: 'string', s: s.value, at: pos });
        pos = s.end;
      } else if (c >= 0x30 && c <= 0x39) {
        const num = readNumeral(text, pos);
        tokens.push({ t: 'number', n: num.value, at: pos });
        pos = num.end;
      } else if (
        c === 0x2e &&
        text.charCodeAt(pos + 1) >= 0x30 &&
        text.charCodeAt(pos + 1) <= 0x39
      ) {
        const num = readNumeral(text, pos);
        tokens.push({ t: 'number', n: num.value, at: pos });
        pos = num.end;
      } else if (c === 0x5b && longBracketLevel(text, pos) >= 0) {
        const s = readLongString(text, pos, longBracketLevel(text, pos), MAX_CONFIG_STRING);
        tokens.push({ t: 'string', s: s.value, at: pos });
        pos = s.end;
      } else {
        const op = OPERATORS.find((o) => text.startsWith(o, pos));
        if (op === undefined) throw new LuaSyntaxError('unexpected character', pos);
        tokens.push({ t: 'op', v: op, at: pos });
        pos += op.length;
      }
    }
  } catch (e) {
    if (!(e instanceof LuaSyntaxError)) throw e;
    warnings.push(`${e.message} at offset ${e.offset}; the rest of the file was not read`);
    stop.at = { offset: e.offset, reason: e.message };
  }
  tokens.push({ t: 'eof', at: text.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Values the scanner understands

/** A value that only running the config would tell. */
const UNKNOWN: unique symbol = Symbol('unknown');
type Scalar = string | number | boolean;
/** A table constructor of literals; unknown values stay in it as UNKNOWN. */
type ConfigTable = { kind: 'table'; fields: Map<Scalar, ConfigValue> };
/** null is Lua's nil. */
type ConfigValue = Scalar | null | ConfigTable | typeof UNKNOWN;

function isTable(v: ConfigValue): v is ConfigTable {
  return typeof v === 'object' && v !== null;
}

const BINARY_OPERATORS: ReadonlySet<string> = new Set(
  '+ - * / // % ^ .. == ~= < <= > >= & | ~ << >> and or'.split(' '),
);

const BLOCK_END: ReadonlySet<string> = new Set(['end', 'else', 'elseif', 'until']);
const HOST_DECLARATIONS: ReadonlySet<string> = new Set([
  'VirtualHost',
  'Host',
  'host',
  'Component',
  'component',
]);
const INCLUDES: ReadonlySet<string> = new Set(['Include', 'include']);

/** Nesting of blocks, expressions and tables the scanner follows before giving up. */
const MAX_NESTING = 200;

class TooDeep extends Error {}

/** Mutable settings of one section while scanning. */
class Section {
  readonly settings: HostSettings = {};
  readonly unknown = new Set<string>();

  constructor(
    readonly name: string | null,
    public component = false,
  ) {}

  forget(option: string): void {
    for (const u of [...this.unknown]) {
      if (u === option || u.startsWith(option + '.')) this.unknown.delete(u);
    }
  }

  toSettings(): HostSettings {
    const out: HostSettings = { ...this.settings };
    if (this.unknown.size > 0) out.unknown = [...this.unknown];
    return out;
  }
}

/** Sets an own property even for names like `__proto__`. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Prosody nameprep()s host names; lower-casing after NFKC is what matters for real names. */
function prepHost(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

class ConfigScanner {
  private p = 0;
  private depth = 0;
  /** How many blocks (if/for/while/do/repeat/function bodies) enclose the current statement. */
  private blockDepth = 0;
  private readonly global = new Section(null);
  private readonly hosts = new Map<string, Section>();
  /** Where top-level assignments go; null after a host line whose name is not a literal. */
  private current: Section | null = this.global;
  private dataPath: string | undefined;
  private readonly includes: string[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly warnings: string[],
    private readonly stop: { at?: Stop } = {},
  ) {}

  // --- token helpers

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.p + offset, this.tokens.length - 1)] as Token;
  }

  private isOp(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'op' && t.v === v;
  }

  private isWord(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'name' && t.v === v;
  }

  private atEnd(): boolean {
    return this.peek().t === 'eof';
  }

  private accept(kind: 'op' | 'word', v: string): boolean {
    if (kind === 'op' ? this.isOp(v) : this.isWord(v)) {
      this.p++;
      return true;
    }
    return false;
  }

  private isBlockEnd(): boolean {
    const t = this.peek();
    return t.t === 'eof' || (t.t === 'name' && BLOCK_END.has(t.v));
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING) throw new TooDeep();
  }

  private leave(): void {
    this.depth--;
  }

  // --- statements

  scan(): ProsodyConfigFacts {
    try {
      while (!this.atEnd()) {
        const before = this.p;
        this.statement();
        if (this.p === before) this.p++; // a stray token: step over it
      }
    } catch (e) {
      if (!(e instanceof TooDeep)) throw e;
      this.warnings.push(
        `nesting deeper than ${MAX_NESTING} at offset ${this.peek().at}; the rest of the file was not read`,
      );
      this.stop.at ??= { offset: this.peek().at, reason: `nesting deeper than ${MAX_NESTING}` };
    }
    const facts: ProsodyConfigFacts = {
      global: this.global.toSettings(),
      hosts: [...this.hosts.values()].map((s) => ({
        name: s.name as string,
        component: s.component,
        ...s.toSettings(),
      })),
      includes: this.includes,
    };
    if (this.dataPath !== undefined) facts.dataPath = this.dataPath;
    if (this.warnings.length > 0) facts.warnings = this.warnings;
    return facts;
  }

  private block(): void {
    this.enter();
    this.blockDepth++;
    while (!this.isBlockEnd()) {
      const before = this.p;
      this.statement();
      if (this.p === before) this.p++;
    }
    this.blockDepth--;
    this.leave();
  }

  private statement(): void {
    const t = this.peek();
    if (t.t === 'op') {
      if (t.v === ';') this.p++;
      else if (t.v === '::') this.p += 3;
      else if (t.v === '(') this.expressionStatement();
      return;
    }
    if (t.t !== 'name') return;
    switch (t.v) {
      case 'if':
        this.p++;
        this.expression();
        this.accept('word', 'then');
        this.block();
        while (this.accept('word', 'elseif')) {
          this.expression();
          this.accept('word', 'then');
          this.block();
        }
        if (this.accept('word', 'else')) this.block();
        this.accept('word', 'end');
        return;
      case 'while':
        this.p++;
        this.expression();
        this.accept('word', 'do');
        this.block();
        this.accept('word', 'end');
        return;
      case 'do':
        this.p++;
        this.block();
        this.accept('word', 'end');
        return;
      case 'for':
        this.p++;
        while (this.peek().t === 'name' || this.isOp(',')) {
          if (this.isWord('in') || this.isWord('do')) break;
          this.p++;
        }
        if (this.accept('op', '=') || this.accept('word', 'in')) this.expressionList();
        this.accept('word', 'do');
        this.block();
        this.accept('word', 'end');
        return;
      case 'repeat':
        this.p++;
        this.block();
        if (this.accept('word', 'until')) this.expression();
        return;
      case 'function': {
        this.p++;
        const target = this.peek();
        const simple = target.t === 'name' && !this.isOp('.', 1) && !this.isOp(':', 1);
        while (this.peek().t === 'name' || this.isOp('.') || this.isOp(':')) this.p++;
        // `function storage() … end` assigns a function to the option.
        if (simple) this.assign(target.v, UNKNOWN);
        this.functionBody();
        return;
      }
      case 'local':
        this.p++;
        if (this.accept('word', 'function')) {
          if (this.peek().t === 'name') this.p++;
          this.functionBody();
          return;
        }
        // local a <const>, b = …
        while (this.peek().t === 'name' || this.isOp(',') || this.isOp('<') || this.isOp('>')) {
          this.p++;
        }
        if (this.accept('op', '=')) this.expressionList();
        return;
      case 'return':
        this.p++;
        if (!this.isBlockEnd() && !this.isOp(';')) this.expressionList();
        return;
      case 'break':
        this.p++;
        return;
      case 'goto':
        this.p += 2;
        return;
      default:
        if (LUA_KEYWORDS.has(t.v)) return; // stray keyword: the caller steps over it
        if (this.blockDepth === 0 && HOST_DECLARATIONS.has(t.v) && this.startsCall(1)) {
          this.hostDeclaration(t.v);
        } else if (this.blockDepth === 0 && INCLUDES.has(t.v) && this.startsCall(1)) {
          this.include();
        } else {
          this.expressionStatement();
        }
    }
  }

  /** Whether the token at `offset` begins call arguments: a string, a table or `(`. */
  private startsCall(offset: number): boolean {
    const t = this.peek(offset);
    return t.t === 'string' || (t.t === 'op' && (t.v === '(' || t.v === '{'));
  }

  /** A call or an assignment (`a = 1`, `a, b = 1, 2`, `t.x = 1`, `f(x)`). */
  private expressionStatement(): void {
    const targets: Array<string | null> = [this.suffixedExpression()];
    while (this.accept('op', ',')) targets.push(this.suffixedExpression());
    if (!this.accept('op', '=')) return;
    const values = this.expressionList();
    const last = values[values.length - 1];
    targets.forEach((name, i) => {
      if (name === null) return;
      // Missing values are nil, unless the last expression could return several.
      const v = i < values.length ? values[i] : last === UNKNOWN ? UNKNOWN : null;
      this.assign(name, v as ConfigValue);
    });
  }

  /** `VirtualHost "name"`, `Component "name" "plugin"`, with or without parentheses or options. */
  private hostDeclaration(kind: string): void {
    this.p++;
    const component = kind === 'Component' || kind === 'component';
    const name = this.callArgument();
    let section: Section | null = null;
    if (typeof name === 'string') {
      const prepped = prepHost(name);
      section = this.hosts.get(prepped) ?? new Section(prepped);
      this.hosts.set(prepped, section);
      if (component) section.component = true;
    } else {
      this.warnings.push(
        `${kind} with a name that is not a literal string; its options are ignored`,
      );
    }
    this.current = section;
    // Component "name" "plugin"
    if (this.peek().t === 'string' || (this.isOp('(') && this.peek(1).t === 'string')) {
      this.callArgument();
    }
    // … { option = value, … }: options for this host, then back to the global section.
    if (this.isOp('{') || (this.isOp('(') && this.isOp('{', 1))) {
      const options = this.callArgument();
      this.current = this.global;
      if (section !== null && isTable(options)) {
        for (const [key, value] of options.fields) {
          if (typeof key === 'string') this.assignTo(section, key, value);
        }
      }
    }
  }

  private include(): void {
    this.p++;
    const file = this.callArgument();
    if (typeof file === 'string') this.includes.push(file);
    else this.warnings.push('Include with an argument that is not a literal string');
  }

  /** One call's arguments: `"s"`, `{…}` or `( … )`; the value of a single literal argument. */
  private callArgument(): ConfigValue {
    const t = this.peek();
    if (t.t === 'string') {
      this.p++;
      return t.s;
    }
    if (this.isOp('{')) return this.table();
    if (this.accept('op', '(')) {
      const values = this.isOp(')') ? [] : this.expressionList();
      const closed = this.accept('op', ')');
      return closed && values.length === 1 ? (values[0] as ConfigValue) : UNKNOWN;
    }
    return UNKNOWN;
  }

  // --- assignments

  private assign(option: string, value: ConfigValue): void {
    if (this.current === null) return;
    if (this.blockDepth > 0) {
      // Set (or not) at run time: whatever the literal, it cannot be known here.
      this.assignTo(this.current, option, UNKNOWN);
      return;
    }
    this.assignTo(this.current, option, value);
  }

  private assignTo(section: Section, option: string, value: ConfigValue): void {
    const s = section.settings;
    switch (option) {
      case 'data_path':
        // Prosody reads data_path from the global section only.
        if (section !== this.global) return;
        section.forget(option);
        this.dataPath = undefined;
        if (typeof value === 'string') this.dataPath = value;
        else if (value !== null) section.unknown.add(option);
        return;
      case 'storage':
        section.forget(option);
        delete s.storage;
        if (typeof value === 'string') {
          s.storage = value;
        } else if (isTable(value)) {
          const stores: Record<string, string> = {};
          for (const [k, v] of value.fields) {
            if (typeof k !== 'string') continue;
            if (typeof v === 'string') define(stores, k, v);
            else if (v === UNKNOWN) section.unknown.add(`storage.${k}`);
          }
          s.storage = stores;
        } else if (value === UNKNOWN) {
          section.unknown.add(option);
        }
        return;
      case 'default_storage':
        section.forget(option);
        delete s.defaultStorage;
        if (typeof value === 'string') s.defaultStorage = value;
        else if (value === UNKNOWN) section.unknown.add(option);
        return;
      case 'sql':
        section.forget(option);
        delete s.sql;
        if (isTable(value)) {
          const sql: Record<string, unknown> = {};
          for (const [k, v] of value.fields) {
            if (typeof k !== 'string') continue;
            if (v === UNKNOWN) section.unknown.add(`sql.${k}`);
            else if (!isTable(v)) define(sql, k, v);
          }
          s.sql = sql;
        } else if (value !== null) {
          section.unknown.add(option);
        }
        return;
      case 'authentication':
        section.forget(option);
        delete s.authentication;
        if (typeof value === 'string') s.authentication = value;
        else if (value !== null) section.unknown.add(option);
        return;
      case 'measure_active_users_count_disabled':
        section.forget(option);
        delete s.countDisabled;
        if (typeof value === 'boolean') s.countDisabled = value;
        else if (value !== null) section.unknown.add(option);
        return;
      case 'modules_enabled':
        section.forget(option);
        delete s.modulesEnabled;
        if (isTable(value)) {
          const list: string[] = [];
          let readable = true;
          for (const v of value.fields.values()) {
            if (typeof v === 'string') list.push(v);
            else if (v === UNKNOWN) readable = false;
          }
          if (readable) s.modulesEnabled = list;
          else section.unknown.add(option);
        } else if (value !== null) {
          section.unknown.add(option);
        }
        return;
      default:
        return;
    }
  }

  // --- expressions

  private expressionList(): ConfigValue[] {
    const values: ConfigValue[] = [this.expression()];
    while (this.accept('op', ',')) values.push(this.expression());
    return values;
  }

  /** Any expression; its value when it is a literal (or a table of them), else UNKNOWN. */
  private expression(): ConfigValue {
    this.enter();
    let value = this.unaryExpression();
    for (;;) {
      const t = this.peek();
      if (!((t.t === 'op' || t.t === 'name') && BINARY_OPERATORS.has(t.v))) break;
      this.p++;
      this.unaryExpression();
      value = UNKNOWN;
    }
    this.leave();
    return value;
  }

  private unaryExpression(): ConfigValue {
    const t = this.peek();
    if ((t.t === 'op' && (t.v === '-' || t.v === '#' || t.v === '~')) || this.isWord('not')) {
      this.p++;
      this.enter();
      const operand = this.unaryExpression();
      this.leave();
      // `-1` is a literal; everything else (`not x`, `#t`, `-x`) is computed.
      return t.t === 'op' && t.v === '-' && typeof operand === 'number' ? -operand : UNKNOWN;
    }
    return this.simpleExpression();
  }

  private simpleExpression(): ConfigValue {
    const t = this.peek();
    switch (t.t) {
      case 'number':
        this.p++;
        return t.n;
      case 'string':
        this.p++;
        return t.s;
      case 'op':
        if (t.v === '{') return this.table();
        if (t.v === '...') {
          this.p++;
          return UNKNOWN;
        }
        break;
      case 'name':
        if (t.v === 'nil' || t.v === 'true' || t.v === 'false') {
          this.p++;
          return t.v === 'nil' ? null : t.v === 'true';
        }
        if (t.v === 'function') {
          this.p++;
          this.functionBody();
          return UNKNOWN;
        }
        break;
      default:
        return UNKNOWN;
    }
    this.suffixedExpression();
    return UNKNOWN;
  }

  /**
   * A name or `( expr )` followed by any field accesses, indexing and calls. Returns the name
   * when the expression is that name alone (an assignable option), else null.
   */
  private suffixedExpression(): string | null {
    this.enter();
    const t = this.peek();
    let simple: string | null = null;
    if (t.t === 'name' && !LUA_KEYWORDS.has(t.v)) {
      this.p++;
      simple = t.v;
    } else if (this.accept('op', '(')) {
      this.expression();
      this.accept('op', ')');
    } else {
      this.leave();
      return null;
    }
    for (;;) {
      if (this.accept('op', '.')) {
        if (this.peek().t === 'name') this.p++;
      } else if (this.accept('op', '[')) {
        this.expression();
        this.accept('op', ']');
      } else if (this.accept('op', ':')) {
        if (this.peek().t === 'name') this.p++;
        this.callArgument();
      } else if (this.startsCall(0)) {
        this.callArgument();
      } else {
        break;
      }
      simple = null;
    }
    this.leave();
    return simple;
  }

  private table(): ConfigTable {
    this.enter();
    this.p++; // {
    const fields = new Map<Scalar, ConfigValue>();
    let index = 1;
    while (!this.atEnd() && !this.isOp('}')) {
      const before = this.p;
      let key: ConfigValue;
      if (this.accept('op', '[')) {
        key = this.expression();
        this.accept('op', ']');
        this.accept('op', '=');
      } else if (this.peek().t === 'name' && this.isOp('=', 1)) {
        key = (this.peek() as { v: string }).v;
        this.p += 2;
      } else {
        key = index++;
      }
      const value = this.expression();
      if (key !== null && key !== UNKNOWN && !isTable(key) && !Number.isNaN(key)) {
        if (value === null) fields.delete(key);
        else fields.set(key, value);
      }
      if (this.accept('op', ',') || this.accept('op', ';')) continue;
      if (this.p === before) this.p++; // not a field: step over the token
    }
    this.accept('op', '}');
    this.leave();
    return { kind: 'table', fields };
  }

  private functionBody(): void {
    if (this.accept('op', '(')) {
      while (!this.atEnd() && !this.isOp(')')) this.p++;
      this.accept('op', ')');
    }
    this.block();
    this.accept('word', 'end');
  }
}

/**
 * Reads the facts of one config file. Never executes it and never fails: what cannot be read
 * without running Lua is reported as unknown (see {@link HostSettings.unknown}).
 */
export function parseProsodyConfig(text: string): ProsodyConfigFacts {
  const warnings: string[] = [];
  const stop: { at?: Stop } = {};
  const facts = new ConfigScanner(tokenize(text, warnings, stop), warnings, stop).scan();
  if (stop.at !== undefined) {
    facts.unreadable = { line: lineOf(text, stop.at.offset), reason: stop.at.reason };
  }
  return facts;
}

/** The 1-based line of an offset, counting line feeds (a lone CR is rare in configs). */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

// ---------------------------------------------------------------------------------------------
// Prosody's storage choice

function mentions(settings: HostSettings, option: string, key: keyof HostSettings): boolean {
  return (
    settings[key] !== undefined ||
    (settings.unknown ?? []).some((u) => u === option || u.startsWith(option + '.'))
  );
}

function isUnknown(settings: HostSettings, what: string): boolean {
  return settings.unknown?.includes(what) ?? false;
}

/**
 * Where Prosody keeps `store` for `host` (null: the global section), following
 * core/storagemanager.lua: a host's own option replaces the global one; `storage` as a string
 * names the driver of every store, as a table the driver of the stores it lists; otherwise
 * `default_storage`, otherwise "internal". "sql2" is an old name of "sql". For SQL, the `sql`
 * table (the host's, else the global one) gives driver (default "SQLite3") and database (default
 * "prosody.sqlite", relative to data_path). A setting that is not a literal gives
 * `{ backend: 'other', name: 'unknown' }` (or `'sql (unknown settings)'`).
 */
/**
 * What the config says about a host's counting rule (see core/account-rule.ts): the host's own
 * `authentication` and `measure_active_users_count_disabled`, else the global ones. A value that
 * is not a literal is left out, so the rule says it assumed Prosody's default.
 */
export function ruleConfig(
  facts: ProsodyConfigFacts,
  host: string | null,
): { authentication?: string; countDisabled?: boolean; configRead: boolean } {
  const wanted = host === null ? null : prepHost(host);
  const section = wanted === null ? undefined : facts.hosts.find((h) => h.name === wanted);
  const pick = <K extends 'authentication' | 'countDisabled'>(
    option: string,
    key: K,
  ): HostSettings[K] | 'unknown' => {
    const owner = section !== undefined && mentions(section, option, key) ? section : facts.global;
    return isUnknown(owner, option) ? 'unknown' : owner[key];
  };
  const authentication = pick('authentication', 'authentication');
  const countDisabled = pick('measure_active_users_count_disabled', 'countDisabled');
  const out: { authentication?: string; countDisabled?: boolean; configRead: boolean } = {
    configRead: authentication !== 'unknown',
  };
  if (authentication !== undefined && authentication !== 'unknown') {
    out.authentication = authentication;
  }
  if (typeof countDisabled === 'boolean') out.countDisabled = countDisabled;
  return out;
}

export function activityStorage(
  facts: ProsodyConfigFacts,
  host: string | null,
  store: ActivityStore,
): ActivityStorage {
  const wanted = host === null ? null : prepHost(host);
  const section = wanted === null ? undefined : facts.hosts.find((h) => h.name === wanted);
  const owner = (option: string, key: keyof HostSettings): HostSettings =>
    section !== undefined && mentions(section, option, key) ? section : facts.global;

  const storageOwner = owner('storage', 'storage');
  if (isUnknown(storageOwner, 'storage')) return { backend: 'other', name: UNKNOWN_STORAGE };
  const storage = storageOwner.storage;
  let driver: string | undefined;
  if (typeof storage === 'string') {
    driver = storage;
  } else if (storage !== undefined) {
    if (isUnknown(storageOwner, `storage.${store}`)) {
      return { backend: 'other', name: UNKNOWN_STORAGE };
    }
    driver = Object.hasOwn(storage, store) ? storage[store] : undefined;
  }
  if (driver === undefined) {
    const defaultOwner = owner('default_storage', 'defaultStorage');
    if (isUnknown(defaultOwner, 'default_storage')) {
      return { backend: 'other', name: UNKNOWN_STORAGE };
    }
    driver = defaultOwner.defaultStorage ?? 'internal';
  }
  if (driver === 'sql2') driver = 'sql';

  if (driver === 'internal') return { backend: 'internal' };
  if (driver !== 'sql') return { backend: 'other', name: driver };

  const sqlOwner = owner('sql', 'sql');
  if (['sql', 'sql.driver', 'sql.database'].some((u) => isUnknown(sqlOwner, u))) {
    return { backend: 'other', name: 'sql (unknown settings)' };
  }
  const sql = sqlOwner.sql ?? {};
  return {
    backend: 'sql',
    driver: typeof sql.driver === 'string' ? sql.driver : 'SQLite3',
    database: typeof sql.database === 'string' ? sql.database : 'prosody.sqlite',
    ...(sqlOwner.sql === undefined ? {} : { sql: sqlOwner.sql }),
  };
}
