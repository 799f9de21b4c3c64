/**
 * Whether this Node can run Electron's installer, which `npm start` runs on the first launch.
 * Electron 45's install.js `require()`s @electron/get, an ES module: that needs require(esm),
 * unflagged from Node 20.19 on the 20 line and from 22.12 on the 22 line (Node 21 never had it).
 * The CLI and the tests still run on any Node 20 (package.json `engines`).
 */

/** The oldest release of each Node line whose `require()` loads ES modules without a flag. */
const REQUIRE_ESM_SINCE: ReadonlyArray<readonly [major: number, minor: number]> = [
  [20, 19],
  [22, 12],
];
/** From this major on, every release has it. */
const EVERY_RELEASE_FROM = 23;

/** null when `version` (process.versions.node, e.g. "20.18.1") can run the installer. */
export function electronInstallerNodeProblem(version: string): string | null {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (match === null) return null; // an unknown format: let the installer speak for itself
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major >= EVERY_RELEASE_FROM) return null;
  const line = REQUIRE_ESM_SINCE.find(([m]) => m === major);
  if (line !== undefined && minor >= line[1]) return null;
  return (
    `Node.js ${match[0].replace(/^v/, '')} cannot fetch Electron (its installer needs Node.js ` +
    `20.19+ or 22.12+): install the current Node.js LTS (nodejs.org, or nvm install --lts), ` +
    `then run npm start again.`
  );
}
