/**
 * `npm start`: launches the desktop app. `npm ci` deliberately skips Electron's install script
 * (allowScripts in package.json: the runtime comes from GitHub, not the npm registry), so on the
 * first launch the runtime is fetched here, saying so; then better-sqlite3 is prepared for
 * Electron's ABI (native-modules.ts, once per Electron version); then the app starts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureElectronNativeModules, findProjectDir } from './native-modules.js';
import { electronInstallerNodeProblem } from './node-version-check.js';

/** The Electron executable named by the package's path.txt, or null when it is not there. */
export function runtimePath(
  electronDir: string,
  exists: (path: string) => boolean = existsSync,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string | null {
  const pathFile = join(electronDir, 'path.txt');
  if (!exists(pathFile)) return null;
  const exe = join(electronDir, 'dist', read(pathFile).trim());
  return exists(exe) ? exe : null;
}

/** The environment for the app: never ELECTRON_RUN_AS_NODE, which would start plain Node. */
export function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.ELECTRON_RUN_AS_NODE;
  return out;
}

function main(): void {
  const electronDir = dirname(require.resolve('electron/package.json'));
  const projectDir = findProjectDir(__dirname);

  let exe = runtimePath(electronDir);
  if (exe === null) {
    const tooOld = electronInstallerNodeProblem(process.versions.node);
    if (tooOld !== null) {
      console.error(tooOld);
      process.exit(1);
    }
    const { version } = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    console.log(`Fetching the Electron ${version} runtime (first launch only)…`);
    const fetched = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
      stdio: 'inherit',
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
    });
    exe = runtimePath(electronDir);
    if (fetched.status !== 0 || exe === null) {
      console.error(
        'Could not fetch the Electron runtime: check the internet connection (or set ELECTRON_MIRROR), then run npm start again.',
      );
      process.exit(1);
    }
  }

  const nativeReady = ensureElectronNativeModules({
    projectDir,
    platform: process.platform,
    arch: process.arch,
    log: (line) => console.log(line),
  });
  if (!nativeReady) process.exit(1);

  const child = spawn(exe, [projectDir, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: appEnvironment(process.env),
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (require.main === module) main();
