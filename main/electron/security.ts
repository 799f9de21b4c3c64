/**
 * The main process's security hooks, in one place (house style: "one hook that denies navigation,
 * new windows and permission requests"). Runs in the main process.
 *
 * - Every web contents: no navigation away from the page that was loaded (`will-navigate`,
 *   `will-frame-navigate`, `will-redirect`), no new windows (`setWindowOpenHandler` → deny), no
 *   `<webview>` (`will-attach-webview`).
 * - The session: every permission request and permission check denied, device access denied, and
 *   the Content-Security-Policy (core/csp.ts) added to every response. The app's protocol
 *   (app-protocol.ts) sends the policy with the page itself, and index.html carries it in a meta
 *   tag too, which holds even where this hook does not run (electron/electron#23485).
 */
import type { Session, WebContents } from 'electron';

/** Something a hook refused, for the log. */
export interface Refusal {
  what: 'navigation' | 'new-window' | 'webview' | 'permission-request' | 'permission-check';
  detail: string;
}

export type OnRefused = (refusal: Refusal) => void;

/** Denies navigation, new windows and webviews in `contents`. */
export function guardWebContents(contents: WebContents, onRefused: OnRefused = () => {}): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    onRefused({ what: 'navigation', detail: event.url });
  });
  contents.on('will-frame-navigate', (event) => {
    event.preventDefault();
    onRefused({ what: 'navigation', detail: event.url });
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    onRefused({ what: 'navigation', detail: event.url });
  });
  contents.setWindowOpenHandler((details) => {
    onRefused({ what: 'new-window', detail: details.url });
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event, _preferences, params) => {
    event.preventDefault();
    onRefused({ what: 'webview', detail: params.src ?? '' });
  });
}

/** Denies every permission and device request in `session`, and adds the CSP to responses. */
export function guardSession(session: Session, csp: string, onRefused: OnRefused = () => {}): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    onRefused({ what: 'permission-request', detail: permission });
    callback(false);
  });
  session.setPermissionCheckHandler((_contents, permission) => {
    onRefused({ what: 'permission-check', detail: permission });
    return false;
  });
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withCsp(details.responseHeaders, csp) });
  });
}

/** The response headers with exactly one Content-Security-Policy: ours. */
export function withCsp(
  headers: Record<string, string | string[]> | undefined,
  csp: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  out['Content-Security-Policy'] = [csp];
  return out;
}

/** Both: what every window of this app gets before it loads anything. */
export function applySecurity(
  contents: WebContents,
  session: Session,
  csp: string,
  onRefused: OnRefused = () => {},
): void {
  guardSession(session, csp, onRefused);
  guardWebContents(contents, onRefused);
}
