/**
 * The Electron test double's `protocol` (see electron-double.ts). Chromium outside Electron cannot
 * be taught a new scheme (a navigation to `scheme://…` is aborted before any request is made, and
 * Playwright's routing never sees it), so each origin of a handled scheme is served on a loopback
 * HTTP origin of its own, by the very handler main gave to protocol.handle; the double translates
 * URLs both ways, so that main sees only its own scheme (in loadURL and in the sender's frame URL).
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (request: Request) => Promise<Response> | Response;

const handlers = new Map<string, Handler>();
const privileged: unknown[] = [];
/** `scheme://host` → the loopback origin that serves it. */
const served = new Map<string, { origin: string; server: Server }>();

export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    privileged.push(...schemes);
  },
  handle(scheme: string, handler: Handler): void {
    handlers.set(scheme, handler);
  },
  unhandle(scheme: string): void {
    handlers.delete(scheme);
  },
  isProtocolHandled(scheme: string): boolean {
    return handlers.has(scheme);
  },
};

/** The URL Chromium can load for `url`: a loopback one where the scheme is handled. */
export async function loadableUrl(url: string): Promise<string> {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, '');
  const handler = handlers.get(scheme);
  if (handler === undefined) return url;
  const appOrigin = `${scheme}://${parsed.host}`;
  let entry = served.get(appOrigin);
  if (entry === undefined) {
    const server = createServer((req, res) => {
      const request = new Request(`${appOrigin}${req.url ?? '/'}`, { method: req.method ?? 'GET' });
      void (async () => {
        try {
          const response = await handler(request);
          const headers: Record<string, string> = {};
          response.headers.forEach((value, name) => (headers[name] = value));
          res.writeHead(response.status, headers);
          res.end(Buffer.from(await response.arrayBuffer()));
        } catch (error) {
          res.writeHead(500);
          res.end(String(error));
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    const { port } = server.address() as AddressInfo;
    entry = { origin: `http://127.0.0.1:${port}`, server };
    served.set(appOrigin, entry);
  }
  return `${entry.origin}${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** The URL as main knows it: a loopback URL of a served origin in its scheme's terms. */
export function appUrl(url: string): string {
  for (const [appOrigin, { origin }] of served) {
    if (url === origin || url.startsWith(`${origin}/`)) return appOrigin + url.slice(origin.length);
  }
  return url;
}
