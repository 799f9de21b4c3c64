/**
 * The window's Content-Security-Policy: one string, used in three places. The app's protocol
 * sends it with every file it serves (electron/app-protocol.ts), main adds it to any other
 * response (security.ts), and the renderer's index.html carries it in a `<meta http-equiv>` tag,
 * which holds wherever the page is opened (the window tests open it from file://).
 *
 * The page is served from `prosody-active-users://app`, not file://: there `'self'` is that one
 * origin, the renderer folder's own files. On file:// it would be every file on the disk
 * (test/electron/app-protocol.test.ts shows both in Chromium).
 *
 * It starts from `default-src 'none'` and allows only what the window loads: its bundled `app.js`
 * and `styles.css`, next to index.html. No inline script, no eval, no inline `<style>` or
 * `style="…"` attributes (styles set from script through element.style stay allowed: CSP does not
 * govern the CSSOM). Checked in real Chromium on a file:// page (test/electron/csp.test.ts):
 * `'self'` matches sibling file:// resources there.
 *
 * Directives that a `<meta>` tag ignores (frame-ancestors, report-uri, sandbox) are left out so
 * that the same text works in both places.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
