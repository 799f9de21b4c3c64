/**
 * `npm start`: launches the desktop app. `npm ci` deliberately skips Electron's install script
 * (allowScripts in package.json: the runtime comes from GitHub, not the npm registry), so on the
 * first launch the runtime is fetched here, saying so, and then started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const electronDir = dirname(require.resolve('electron/package.json'));
const projectDir = join(__dirname, '..', '..', '..');

function runtimePath(): string | null {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

let exe = runtimePath();
if (exe === null) {
  const { version } = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  console.log(`Fetching the Electron ${version} runtime (first launch only)…`);
  const fetched = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
    stdio: 'inherit',
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
  });
  exe = runtimePath();
  if (fetched.status !== 0 || exe === null) {
    console.error(
      'Could not fetch the Electron runtime: check the internet connection (or set ELECTRON_MIRROR), then run npm start again.',
    );
    process.exit(1);
  }
}

const child = spawn(exe, [projectDir, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
