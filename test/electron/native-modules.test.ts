import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import {
  type NativeTarget,
  type Run,
  archName,
  buildDecision,
  ensureElectronNativeModules,
  nativePaths,
  nodeGypArgs,
  parseTarget,
  prebuildInstallArgs,
  readTarget,
} from '../../main/tools/native-modules.js';
import { appEnvironment, runtimePath } from '../../main/tools/start-app.js';

const TARGET: NativeTarget = {
  electronVersion: '45.4.1',
  abi: '150',
  betterSqlite3Version: '12.11.1',
  platform: 'linux',
  arch: 'x64',
};

const decisions: Array<
  [name: string, stamp: unknown, present: boolean, build: boolean, reason?: RegExp]
> = [
  ['nothing built yet', null, false, true, /not built yet/],
  ['a binary without a stamp', null, true, true, /no record/],
  ['a broken stamp', 'garbage', true, true, /no record/],
  ['the same target', { ...TARGET, method: 'prebuilt' }, true, false],
  [
    'another Electron',
    { ...TARGET, electronVersion: '44.0.0', abi: '145' },
    true,
    true,
    /Electron 44\.0\.0 \(ABI 145\)/,
  ],
  ['another ABI for the same version', { ...TARGET, abi: '149' }, true, true, /ABI 149/],
  [
    'another better-sqlite3',
    { ...TARGET, betterSqlite3Version: '12.0.0' },
    true,
    true,
    /better-sqlite3 12\.0\.0/,
  ],
  ['another architecture', { ...TARGET, arch: 'arm64' }, true, true, /linux-arm64/],
  ['a stamp whose binary is gone', { ...TARGET }, false, true, /not built yet/],
];

for (const [name, stamp, present, build, reason] of decisions) {
  test(`build decision: ${name}`, () => {
    const decision = buildDecision(TARGET, stamp, present);
    assert.equal(decision.build, build);
    if (decision.build && reason) assert.match(decision.reason, reason);
  });
}

test('the target is read from electron and better-sqlite3', () => {
  assert.deepEqual(
    parseTarget({
      electronPackageJson: '{"name":"electron","version":"45.4.1"}',
      electronAbiVersion: '150\n',
      betterSqlite3PackageJson: '{"version":"12.11.1"}',
      platform: 'linux',
      arch: 'x64',
    }),
    TARGET,
  );
  assert.throws(() =>
    parseTarget({
      electronPackageJson: '{}',
      electronAbiVersion: '150',
      betterSqlite3PackageJson: '{"version":"1"}',
      platform: 'linux',
      arch: 'x64',
    }),
  );
});

test('the installed packages give a target this tool can use', () => {
  const target = readTarget(join(__dirname, '..', '..'), process.platform, process.arch);
  assert.match(target.electronVersion, /^\d+\.\d+\.\d+/);
  assert.match(target.abi, /^\d+$/);
});

test('prebuild-install and node-gyp are pointed at Electron', () => {
  assert.deepEqual(prebuildInstallArgs(TARGET), [
    '--runtime=electron',
    '--target=45.4.1',
    '--platform=linux',
    '--arch=x64',
    '--verbose',
  ]);
  assert.deepEqual(nodeGypArgs(TARGET), [
    'rebuild',
    '--release',
    '--target=45.4.1',
    '--arch=x64',
    '--dist-url=https://electronjs.org/headers',
  ]);
});

test("electron-builder's architectures map to Node's names", () => {
  assert.deepEqual([0, 1, 2, 3].map(archName), ['ia32', 'x64', 'arm', 'arm64']);
  assert.equal(archName('arm64'), 'arm64');
  assert.throws(() => archName(4), /universal|single/);
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project with just enough of node_modules: electron's version, better-sqlite3 with a build. */
function project(electronVersion = '45.4.1', abi = '150'): string {
  const dir = mkdtempSync(join(tmpdir(), 'native-'));
  dirs.push(dir);
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('package.json', '{"name":"p"}');
  write('node_modules/electron/package.json', JSON.stringify({ version: electronVersion }));
  write('node_modules/electron/abi_version', abi);
  write(
    'node_modules/better-sqlite3/package.json',
    '{"name":"better-sqlite3","version":"12.11.1"}',
  );
  write('node_modules/better-sqlite3/lib/index.js', '');
  write('node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'NODE BUILD');
  write('node_modules/prebuild-install/package.json', '{"name":"prebuild-install"}');
  write('node_modules/prebuild-install/bin.js', '');
  return dir;
}

/** A run that records calls and, when told to succeed, leaves a binary where the tools would. */
function fakeRun(results: { prebuild: boolean; gyp: boolean }) {
  const calls: Array<{ tool: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv }> = [];
  const run: Run = (_command, [script = '', ...args], { cwd, env }) => {
    const tool = script.includes('prebuild-install') ? 'prebuild-install' : 'node-gyp';
    calls.push({ tool, args, cwd, env });
    assert.equal(existsSync(join(cwd, 'build')), false, 'the staging copy has no Node build');
    assert.ok(existsSync(join(cwd, 'package.json')));
    const ok = tool === 'prebuild-install' ? results.prebuild : results.gyp;
    if (ok) {
      mkdirSync(join(cwd, 'build', 'Release'), { recursive: true });
      writeFileSync(
        join(cwd, 'build', 'Release', 'better_sqlite3.node'),
        `ELECTRON BUILD by ${tool}`,
      );
    }
    return ok ? 0 : 1;
  };
  return { run, calls };
}

function ensure(dir: string, run: Run, lines: string[] = []) {
  return ensureElectronNativeModules({
    projectDir: dir,
    platform: 'linux',
    arch: 'x64',
    log: (line) => lines.push(line),
    run,
    env: { PATH: '/usr/bin', npm_config_node_gyp: '/npm/node-gyp.js', ELECTRON_RUN_AS_NODE: '1' },
  });
}

test('first start: the prebuilt binary is fetched into dist/electron-native, saying so', () => {
  const dir = project();
  const { run, calls } = fakeRun({ prebuild: true, gyp: false });
  const lines: string[] = [];
  assert.equal(ensure(dir, run, lines), true);
  const paths = nativePaths(dir);
  assert.equal(readFileSync(paths.binary, 'utf8'), 'ELECTRON BUILD by prebuild-install');
  assert.deepEqual(JSON.parse(readFileSync(paths.stamp, 'utf8')), {
    ...TARGET,
    method: 'prebuilt',
  });
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.cwd, paths.staging);
  assert.equal(calls[0]?.env.npm_config_runtime, 'electron');
  assert.equal(calls[0]?.env.npm_config_target, '45.4.1');
  assert.equal(calls[0]?.env.ELECTRON_RUN_AS_NODE, undefined);
  assert.equal(existsSync(join(paths.dir, '.staging')), false, 'staging removed');
  assert.equal(
    readFileSync(
      join(dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
      'utf8',
    ),
    'NODE BUILD',
    "Node's build untouched",
  );
  assert.match(
    lines[0] ?? '',
    /Preparing better-sqlite3 12\.11\.1 for Electron 45\.4\.1 .*not built yet/,
  );
  assert.match(lines.at(-1) ?? '', /is ready .*prebuilt/);
});

test('the next start finds it ready and runs nothing', () => {
  const dir = project();
  ensure(dir, fakeRun({ prebuild: true, gyp: false }).run);
  const again = fakeRun({ prebuild: true, gyp: true });
  const lines: string[] = [];
  assert.equal(ensure(dir, again.run, lines), true);
  assert.deepEqual(again.calls, []);
  assert.match(lines.join('\n'), /is ready in dist\/electron-native\.$/);
});

test('no prebuilt binary: compiled with node-gyp against Electron headers', () => {
  const dir = project();
  const { run, calls } = fakeRun({ prebuild: false, gyp: true });
  assert.equal(ensure(dir, run), true);
  assert.deepEqual(
    calls.map((c) => c.tool),
    ['prebuild-install', 'node-gyp'],
  );
  assert.deepEqual(calls[1]?.args, nodeGypArgs(TARGET));
  assert.equal(JSON.parse(readFileSync(nativePaths(dir).stamp, 'utf8')).method, 'compiled');
});

test('neither works (offline): false, a message, and no binary', () => {
  const dir = project();
  const lines: string[] = [];
  assert.equal(ensure(dir, fakeRun({ prebuild: false, gyp: false }).run, lines), false);
  assert.equal(existsSync(nativePaths(dir).binary), false);
  assert.match(lines.at(-1) ?? '', /Could not prepare .*internet connection/);
});

test('a new Electron version rebuilds', () => {
  const dir = project();
  ensure(dir, fakeRun({ prebuild: true, gyp: false }).run);
  writeFileSync(join(dir, 'node_modules/electron/package.json'), '{"version":"46.0.0"}');
  writeFileSync(join(dir, 'node_modules/electron/abi_version'), '151');
  const again = fakeRun({ prebuild: true, gyp: false });
  const lines: string[] = [];
  assert.equal(ensure(dir, again.run, lines), true);
  assert.equal(again.calls.length, 1);
  assert.match(lines[0] ?? '', /Electron 45\.4\.1 \(ABI 150\)/);
  assert.equal(JSON.parse(readFileSync(nativePaths(dir).stamp, 'utf8')).electronVersion, '46.0.0');
});

test("the Electron runtime is found through electron's path.txt", () => {
  const files = new Map([
    ['/e/path.txt', 'electron\n'],
    ['/e/dist/electron', ''],
  ]);
  const exists = (p: string) => files.has(p);
  const read = (p: string) => files.get(p) ?? '';
  assert.equal(runtimePath('/e', exists, read), '/e/dist/electron');
  files.delete('/e/dist/electron');
  assert.equal(runtimePath('/e', exists, read), null);
  assert.equal(runtimePath('/none', exists, read), null);
});

test('the app never starts with ELECTRON_RUN_AS_NODE', () => {
  assert.deepEqual(appEnvironment({ A: '1', ELECTRON_RUN_AS_NODE: '1' }), { A: '1' });
});
