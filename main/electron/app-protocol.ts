/**
 * The app's own protocol, `prosody-active-users://app/…`, which serves the window's page instead of
 * file://. On a file:// page, `'self'` in the Content-Security-Policy matches every file: URL, so
 * any script on the disk could be loaded into the window; on this origin it matches only the files
 * this handler serves: the renderer folder's own files, by name, and nothing else (Electron's
 * security checklist, item 18: "avoid usage of the file protocol and prefer custom protocols").
 *
 * Plain code with web-standard Request/Response and an injected file reader, so that it runs under
 * Node in the tests exactly as it runs inside Electron's `protocol.handle`. No electron import.
 */
import { join } from 'node:path';

/** The scheme main.ts registers as privileged (standard, secure) before the app is ready. */
export const APP_SCHEME = 'prosody-active-users';
/** The one host the scheme answers: the origin is `prosody-active-users://app`. */
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The window's page, and the only page the IPC handlers answer. */
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/**
 * "standard": relative URLs resolve and the page has a real origin for `'self'`; "secure": the
 * page is a secure context, as it was on file://. Nothing else (no fetch, CORS or service workers).
 */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true } as const;

/** The kinds of file the renderer folder holds; any other name is unknown. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  png: 'image/png',
  svg: 'image/svg+xml',
};

/** One plain file name in the folder: no separators, no dot files, no `..`. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.([A-Za-z0-9]+)$/;

export type AppFileLookup =
  | { kind: 'file'; name: string; contentType: string }
  | { kind: 'refused'; status: 400 | 404 | 405; reason: string };

const refused = (status: 400 | 404 | 405, reason: string): AppFileLookup => ({
  kind: 'refused',
  status,
  reason,
});

/**
 * Which file of the renderer folder a request asks for, or why none. `origin` is the origin the
 * handler serves (APP_ORIGIN in the app). The query and the fragment are ignored.
 */
export function lookUpAppFile(url: string, method: string, origin: string): AppFileLookup {
  if (method !== 'GET' && method !== 'HEAD') return refused(405, `method ${method}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refused(400, 'not a URL');
  }
  if (parsed.origin !== origin && `${parsed.protocol}//${parsed.host}` !== origin) {
    return refused(404, 'another origin');
  }
  let name: string;
  try {
    // The WHATWG parser has already removed `.` and `..` segments (`%2e%2e` too); what is left
    // must be one name. Decoding exposes an encoded `/`, `\` or NUL, which the name pattern refuses.
    name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  } catch {
    return refused(400, 'a malformed escape');
  }
  const match = FILE_NAME.exec(name);
  if (match === null || name.includes('..')) return refused(404, 'not a file of the window');
  const contentType = CONTENT_TYPES[match[1]!.toLowerCase()];
  if (contentType === undefined) return refused(404, 'not a file of the window');
  return { kind: 'file', name, contentType };
}

export interface AppFileHandlerOptions {
  /** The renderer folder (dist/renderer; inside app.asar when packaged). */
  rendererDir: string;
  /** The origin served: APP_ORIGIN in the app, a loopback http origin in the tests. */
  origin: string;
  /** The page's Content-Security-Policy, sent with every response (core/csp.ts). */
  csp: string;
  /** Reads a file; fs.promises.readFile (Electron's fs reads inside app.asar). */
  readFile(path: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Told about each refused request, for the log. */
  onRefused?(url: string, reason: string): void;
}

/** The handler for `protocol.handle(APP_SCHEME, …)`. */
export function createAppFileHandler(
  options: AppFileHandlerOptions,
): (request: Request) => Promise<Response> {
  const headers = (contentType: string) => ({
    'Content-Type': contentType,
    'Content-Security-Policy': options.csp,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  const refuse = (url: string, status: number, reason: string): Response => {
    options.onRefused?.(url, reason);
    return new Response(null, { status, headers: headers('text/plain; charset=utf-8') });
  };
  return async (request) => {
    const found = lookUpAppFile(request.url, request.method, options.origin);
    if (found.kind === 'refused') return refuse(request.url, found.status, found.reason);
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await options.readFile(join(options.rendererDir, found.name));
    } catch {
      // Missing, or a folder: not one of the window's files either.
      return refuse(request.url, 404, 'no such file');
    }
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: headers(found.contentType),
    });
  };
}

/** What the app uses of Electron's `protocol` module (structural: this file imports no electron). */
export interface ProtocolModule {
  registerSchemesAsPrivileged(
    schemes: Array<{ scheme: string; privileges: typeof APP_SCHEME_PRIVILEGES }>,
  ): void;
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
}

/** Before the app is ready: the scheme gets a real origin and a secure context. */
export function registerAppScheme(protocol: ProtocolModule): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
}

/** Once ready: the scheme serves the renderer folder's files (and only them). */
export function serveAppProtocol(
  protocol: ProtocolModule,
  options: Omit<AppFileHandlerOptions, 'origin'>,
): void {
  protocol.handle(APP_SCHEME, createAppFileHandler({ ...options, origin: APP_ORIGIN }));
}
