/**
 * The window's Content-Security-Policy: one string, used twice. Main sends it as a response header
 * (security.ts) and the renderer's index.html carries it in a `<meta http-equiv>` tag, because
 * Electron long did not run webRequest header hooks for file:// pages (electron/electron#23485;
 * the meta tag is what the docs recommend for file://, electron/electron#14768).
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
