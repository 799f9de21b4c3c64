// Log in to a test Prosody over plaintext c2s with @xmpp/client, then log out cleanly, so that
// mod_lastlog2 records both a login (authentication-success) and a logout (resource-unbind).
//
// @xmpp/client is ESM-only and has no type declarations, and this project compiles to
// CommonJS, so it is loaded with a dynamic import() of a non-literal specifier and typed
// here with just the bits used.
//
// What works against Prosody 0.12 with authentication = "internal_plain",
// c2s_require_encryption = false and allow_unencrypted_plain_auth = true (no certificates, so
// no STARTTLS is offered): Prosody offers SCRAM-SHA-1 and PLAIN. Left to itself, @xmpp/client
// picks the first non-PLAIN mechanism on an insecure connection (SCRAM-SHA-1, ~0.5 s of
// PBKDF2); passing `credentials` as a function lets us call authenticate(creds, 'PLAIN').

interface XmppElement {
  name: string;
  attrs: Record<string, string | undefined>;
  toString(): string;
}

type XmlFactory = (
  name: string,
  attrs?: Record<string, string>,
  ...children: (XmppElement | string)[]
) => XmppElement;

interface XmppClient {
  jid?: { toString(): string } | null;
  status: string;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'status', listener: (status: string) => void): void;
  on(event: 'stanza', listener: (stanza: XmppElement) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  off(event: string, listener: (...args: never[]) => void): void;
  send(element: XmppElement): Promise<void>;
}

type Authenticate = (
  credentials: { username: string; password: string },
  mechanism: string,
  userAgent?: XmppElement,
) => Promise<void>;

interface XmppClientOptions {
  service: string;
  domain: string;
  resource?: string;
  username?: string;
  password?: string;
  credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
  timeout?: number;
}

interface XmppModule {
  client(options: XmppClientOptions): XmppClient;
  xml: XmlFactory;
}

const XMPP_CLIENT: string = '@xmpp/client';
let modulePromise: Promise<XmppModule> | null = null;

function loadXmpp(): Promise<XmppModule> {
  modulePromise ??= import(XMPP_CLIENT) as Promise<XmppModule>;
  return modulePromise;
}

export interface LoginOptions {
  port: number;
  /** The virtual host (XMPP domain). */
  host: string;
  user: string;
  password: string;
  resource?: string;
  /** 'PLAIN' (default, fast) or 'SCRAM-SHA-1' (what @xmpp/client picks by itself). */
  mechanism?: 'PLAIN' | 'SCRAM-SHA-1';
  /** Overall time limit for login + logout. */
  timeoutMs?: number;
  /** Called while the session is online (e.g. to look at the server while the user is active). */
  whileOnline?: (session: OnlineSession) => Promise<void>;
}

/** What a test can do while logged in. */
export interface OnlineSession {
  /** The bound full JID. */
  jid: string;
  /** Send a <message> with a <body> (type 'chat' unless given). */
  sendMessage(to: string, body: string, type?: 'chat' | 'groupchat' | 'normal'): Promise<void>;
  /** Join a MUC room (creating it if needed); resolves on the room's self-presence. */
  joinRoom(roomJid: string, nick: string, timeoutMs?: number): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Connect, authenticate, bind a resource (online), then close the stream and wait for offline. */
export async function loginLogout(opts: LoginOptions): Promise<void> {
  const { client, xml } = await loadXmpp();
  const mechanism = opts.mechanism ?? 'PLAIN';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const errors: Error[] = [];
  const xmpp = client({
    service: `xmpp://127.0.0.1:${opts.port}`,
    domain: opts.host,
    resource: opts.resource ?? 'parity-test',
    credentials: async (authenticate, mechanisms) => {
      if (!mechanisms.includes(mechanism)) {
        throw new Error(`server does not offer ${mechanism} (offers: ${mechanisms.join(', ')})`);
      }
      await authenticate({ username: opts.user, password: opts.password }, mechanism);
    },
  });
  // Without a listener an 'error' event would crash the process.
  xmpp.on('error', (err: Error) => errors.push(err));

  try {
    await withTimeout(xmpp.start(), timeoutMs, `XMPP login of ${opts.user}@${opts.host}`);
  } catch (err) {
    await xmpp.stop().catch(() => undefined); // also cancels @xmpp/reconnect
    const extra = errors.length ? ` (errors: ${errors.map((e) => e.message).join('; ')})` : '';
    throw new Error(`XMPP login of ${opts.user}@${opts.host} failed: ${String(err)}${extra}`);
  }
  const session: OnlineSession = {
    jid: xmpp.jid?.toString() ?? '',
    sendMessage: (to, body, type = 'chat') =>
      xmpp.send(xml('message', { to, type }, xml('body', {}, body))),
    joinRoom: async (roomJid, nick, ms = 5000) => {
      const occupant = `${roomJid}/${nick}`;
      let listener: ((stanza: XmppElement) => void) | undefined;
      const joined = new Promise<void>((resolve, reject) => {
        listener = (stanza: XmppElement) => {
          if (stanza.name !== 'presence' || stanza.attrs.from !== occupant) return;
          if (stanza.attrs.type === 'error') reject(new Error(`joining ${occupant}: ${stanza}`));
          else resolve();
        };
        xmpp.on('stanza', listener);
      });
      try {
        await xmpp.send(
          xml('presence', { to: occupant }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
        );
        await withTimeout(joined, ms, `joining ${occupant}`);
      } finally {
        if (listener) xmpp.off('stanza', listener);
      }
    },
  };
  try {
    if (opts.whileOnline) await opts.whileOnline(session);
  } finally {
    await withTimeout(xmpp.stop(), timeoutMs, `XMPP logout of ${opts.user}@${opts.host}`);
  }
  if (xmpp.status !== 'offline') {
    throw new Error(`XMPP client ended in status ${xmpp.status}, expected offline`);
  }
}

/** A session kept open until close(): the user stays online meanwhile. */
export interface OpenSession {
  jid: string;
  /** Closes the stream cleanly and waits for offline. */
  close(): Promise<void>;
}

/** Connect, authenticate and bind a resource, and stay online until close() is called. */
export async function openSession(opts: Omit<LoginOptions, 'whileOnline'>): Promise<OpenSession> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let online: (jid: string) => void = () => undefined;
  const bound = new Promise<string>((resolve) => (online = resolve));
  const done = loginLogout({
    ...opts,
    whileOnline: async (session) => {
      online(session.jid);
      await released;
    },
  });
  const jid = await Promise.race([bound, done.then(() => '')]);
  if (jid === '') throw new Error(`XMPP session of ${opts.user}@${opts.host} ended at once`);
  return {
    jid,
    close: async () => {
      release();
      await done;
    },
  };
}
