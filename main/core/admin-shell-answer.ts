import type { LiveHost, LoadedModules, ModuleGauges } from './live-snapshot.js';
import { setOwn } from './host-record.js';

/**
 * The one line sent to Prosody's admin shell (mod_admin_shell, through mod_admin_socket). The
 * leading `>` runs it as Lua in Prosody's global environment: a read-only walk that returns one
 * string, so the answer has a shape we define rather than a table meant for people. Names are
 * sent hex-encoded, so that no name can break a line or the XML around it. It reads, per
 * VirtualHost: the modules loaded, the accounts with sessions (the same `hosts[h].sessions` table
 * mod_measure_active_users looks at) and the module's last gauges from Prosody's own statistics.
 * Nothing is written; no password, address or message leaves the server.
 */
export const LIVE_QUERY = [
  '>local function x(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end',
  'local o = { "pau-live 1" }',
  'local cm = require("core.configmanager")',
  'if type(prosody.version) == "string" and prosody.version ~= "" then o[#o+1] = "v "..x(prosody.version) end',
  'for name, h in pairs(prosody.hosts) do if h.type == "local" then',
  ' local m = h.modules or {}',
  ' local function b(k) return m[k] and "1" or "0" end',
  ' o[#o+1] = "h "..x(name).." "..b("lastlog2").." "..b("account_activity").." "..b("measure_active_users")',
  ' for user, u in pairs(h.sessions or {}) do if type(user) == "string" and u then o[#o+1] = "u "..x(name).." "..x(user) end end',
  ' local auth = h.users and rawget(h.users, "name")',
  ' if type(auth) == "string" and auth ~= "" then o[#o+1] = "a "..x(name).." "..x(auth) end',
  ' local cd = cm.get(name, "measure_active_users_count_disabled")',
  ' if type(cd) == "boolean" then o[#o+1] = "c "..x(name).." "..(cd and "1" or "0") end',
  'end end',
  'local ok, reg = pcall(function() return require("core.statsmanager").get_metric_registry() end)',
  'if ok and reg then local ok2, text = pcall(reg.render, reg) if ok2 and type(text) == "string" then',
  ' for w, labels, v in text:gmatch("prosody_mod_measure_active_users__active_users_(%d+d)(%b{}) ([^\\n]+)") do',
  '  local host = labels:match("host=\\"(.-)\\"")',
  '  if host then o[#o+1] = "g "..x(host).." "..w.." "..v end',
  ' end',
  'end end',
  'o[#o+1] = "end"',
  'return table.concat(o, "\\n")',
].join(' ');

/** A name's bytes back from the hex the query sends; null when it is not hex or not UTF-8. */
function unhex(hex: string): string | null {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-f]+$/.test(hex)) return null;
  const bytes = Buffer.from(hex, 'hex');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : null;
}

/** A gauge as Prosody renders it: a non-negative whole number (possibly written `12.0`). */
function gaugeValue(text: string): number | null {
  if (!/^\d{1,15}(\.0+)?$/.test(text)) return null;
  return Number(text);
}

const WINDOW_KEY = { '1d': 'd1', '7d': 'd7', '30d': 'd30' } as const;

/** The live hosts from the query's answer, or a short reason why the answer is not one. */
export function parseLiveAnswer(
  text: string,
): { ok: true; hosts: Record<string, LiveHost> } | { ok: false; detail: string } {
  const lines = text.split('\n');
  if (lines[0] !== 'pau-live 1') return { ok: false, detail: 'not the expected answer' };
  if (lines[lines.length - 1] !== 'end') return { ok: false, detail: 'the answer is cut short' };
  const hosts = new Map<
    string,
    { modules: LoadedModules; online: Set<string>; auth?: string; countDisabled?: boolean }
  >();
  let version: string | undefined;
  const gauges = new Map<string, Partial<ModuleGauges>>();
  const bad = (n: number) => ({ ok: false as const, detail: `unexpected line ${n + 1}` });
  for (let i = 1; i < lines.length - 1; i++) {
    const parts = lines[i]!.split(' ');
    if (parts[0] === 'v' && parts.length === 2 && i === 1) {
      const v = unhex(parts[1]!);
      if (v === null || v.length > 64) return bad(i);
      version = v;
      continue;
    }
    const host = unhex(parts[1] ?? '');
    if (host === null) return bad(i);
    if (parts[0] === 'h' && parts.length === 5 && parts.slice(2).every((p) => /^[01]$/.test(p))) {
      if (hosts.has(host)) return bad(i);
      hosts.set(host, {
        modules: {
          lastlog2: parts[2] === '1',
          accountActivity: parts[3] === '1',
          measureActiveUsers: parts[4] === '1',
        },
        online: new Set(),
      });
    } else if (parts[0] === 'u' && parts.length === 3) {
      const user = unhex(parts[2]!);
      const h = hosts.get(host);
      if (user === null || h === undefined) return bad(i);
      h.online.add(user);
    } else if (parts[0] === 'a' && parts.length === 3) {
      const auth = unhex(parts[2]!);
      const h = hosts.get(host);
      if (auth === null || auth.length > 64 || h === undefined) return bad(i);
      h.auth = auth;
    } else if (parts[0] === 'c' && parts.length === 3 && /^[01]$/.test(parts[2]!)) {
      const h = hosts.get(host);
      if (h === undefined) return bad(i);
      h.countDisabled = parts[2] === '1';
    } else if (parts[0] === 'g' && parts.length === 4 && parts[2]! in WINDOW_KEY) {
      const value = gaugeValue(parts[3]!);
      if (value === null) return bad(i);
      const g = gauges.get(host) ?? {};
      g[WINDOW_KEY[parts[2] as keyof typeof WINDOW_KEY]] = value;
      gauges.set(host, g);
    } else {
      return bad(i);
    }
  }
  const out: Record<string, LiveHost> = {};
  for (const [name, h] of hosts) {
    const g = gauges.get(name);
    const complete = g?.d1 !== undefined && g.d7 !== undefined && g.d30 !== undefined;
    setOwn(out, name, {
      online: [...h.online].sort(),
      modules: h.modules,
      gauges: complete ? { d1: g.d1!, d7: g.d7!, d30: g.d30! } : null,
      facts: {
        ...(version === undefined ? {} : { version }),
        ...(h.auth === undefined ? {} : { authentication: h.auth }),
        ...(h.countDisabled === undefined ? {} : { countDisabled: h.countDisabled }),
      },
    });
  }
  return { ok: true, hosts: out };
}

/** What the admin stream has said so far. */
export type ReplFrame =
  | { state: 'waiting' }
  | { state: 'result'; error: boolean; text: string }
  | { state: 'closed'; detail: string };

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'apos') return "'";
    if (e === 'quot') return '"';
    const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/**
 * Finds the `<repl-result>` that ends the answer to one line in what the admin socket sent so far
 * (the stream header, `<repl-output>` lines and whitespace keep-alives before it are passed over).
 * A stream error or the stream's end before it closes the exchange.
 */
export function readReplFrame(received: string): ReplFrame {
  const start = received.search(/<repl-result[\s>/]/);
  if (start >= 0) {
    const tag = /^<repl-result((?:\s+[\w:-]+\s*=\s*(?:'[^']*'|"[^"]*"))*)\s*(\/?)>/.exec(
      received.slice(start),
    );
    if (!tag) return received.length - start > 4096 ? closed('malformed answer') : waiting;
    const error = /\stype\s*=\s*['"]error['"]/.test(tag[1] ?? '');
    if (tag[2] === '/') return { state: 'result', error, text: '' };
    const bodyStart = start + tag[0].length;
    const end = received.indexOf('</repl-result>', bodyStart);
    if (end < 0) return waiting;
    const body = received.slice(bodyStart, end);
    if (body.includes('<')) return closed('malformed answer');
    return { state: 'result', error, text: unescapeXml(body) };
  }
  if (/<stream:error[\s>]/.test(received)) {
    const condition = /<stream:error>\s*<([\w-]+)/.exec(received)?.[1] ?? 'unknown';
    return closed(`stream error ${condition}`);
  }
  if (received.includes('</stream:stream>')) return closed('the server closed the stream');
  return waiting;
}

const waiting: ReplFrame = { state: 'waiting' };
const closed = (detail: string): ReplFrame => ({ state: 'closed', detail });

/** The stream header and the query, as bytes for the admin socket. */
export function adminShellRequest(line: string): string {
  const escaped = line
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');
  return (
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='xmpp:prosody.im/admin'>" +
    `<repl-input>${escaped}</repl-input>`
  );
}

/** C0/C1 controls (ESC among them) and the bidirectional overrides: never shown as they are. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text from the server shown to a person: printable, one line, bounded. */
export function printableDetail(text: string, max = 200): string {
  const clean = text.replace(UNPRINTABLE, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** What is kept of the stream before the result starts: enough for any tag, no more. */
const HEAD_WINDOW = 8192;

/**
 * readReplFrame over a stream that arrives in pieces, in time linear in its length: before the
 * result starts only a window of the newest text is kept; after, only the new text is searched for
 * the end.
 */
export class ReplScanner {
  private head = '';
  private body: string[] = [];
  private tail = '';
  private error = false;
  private inBody = false;

  push(text: string): ReplFrame {
    if (!this.inBody) {
      this.head = (this.head + text).slice(-HEAD_WINDOW - text.length);
      const start = this.head.search(/<repl-result[\s>/]/);
      const frame = readReplFrame(this.head);
      if (frame.state !== 'waiting' || start < 0) {
        if (frame.state === 'waiting') this.head = this.head.slice(-HEAD_WINDOW);
        return frame;
      }
      const tag = /^<repl-result((?:\s+[\w:-]+\s*=\s*(?:'[^']*'|"[^"]*"))*)\s*>/.exec(
        this.head.slice(start),
      );
      if (!tag) return frame;
      this.inBody = true;
      this.error = /\stype\s*=\s*['"]error['"]/.test(tag[1] ?? '');
      text = this.head.slice(start + tag[0].length);
      this.head = '';
    }
    const joined = this.tail + text;
    const end = joined.indexOf('</repl-result>');
    if (end < 0) {
      // Keep back what could be the start of the closing tag.
      const keep = Math.min(joined.length, '</repl-result>'.length - 1);
      this.body.push(joined.slice(0, joined.length - keep));
      this.tail = joined.slice(joined.length - keep);
      return { state: 'waiting' };
    }
    this.body.push(joined.slice(0, end));
    const raw = this.body.join('');
    if (raw.includes('<')) return closed('malformed answer');
    return { state: 'result', error: this.error, text: unescapeXml(raw) };
  }
}
