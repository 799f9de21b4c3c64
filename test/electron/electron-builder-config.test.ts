import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { APP_ID, appPaths } from '../../main/electron/app-paths.js';

const PROJECT = join(__dirname, '..', '..');
/** Modules that are not the project's own dependencies but come with electron-builder. */
const requireFromProject = createRequire(join(PROJECT, 'package.json'));

/** js-yaml and electron-builder's schema check come with electron-builder (a dev dependency). */
function load(): { config: Record<string, unknown>; validate?: (c: unknown) => Promise<void> } {
  const yaml = requireFromProject('js-yaml') as { load(text: string): unknown };
  const config = yaml.load(readFileSync(join(PROJECT, 'electron-builder.yml'), 'utf8')) as Record<
    string,
    unknown
  >;
  let validate: ((c: unknown) => Promise<void>) | undefined;
  try {
    const lib = requireFromProject('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    validate = (c) => lib.validateConfiguration(c, { add() {}, isEnabled: false });
  } catch {
    validate = undefined;
  }
  return { config, validate };
}

test("electron-builder.yml matches electron-builder's schema", async (t) => {
  const { config, validate } = load();
  if (!validate) return t.skip("electron-builder's schema check is not installed");
  await validate(config);
});

test('the appId is the one the app gives Windows and the notifier', () => {
  assert.equal(load().config.appId, APP_ID);
});

test('native code is built for Electron before packing, and unpacked from the asar', () => {
  const { config } = load();
  assert.equal(
    config.npmRebuild,
    false,
    "electron-builder's in-place rebuild would break Node's build",
  );
  assert.equal(config.beforePack, 'dist/main/tools/native-modules.js');
  assert.ok(existsSync(join(PROJECT, 'main', 'tools', 'native-modules.ts')));
  const unpack = config.asarUnpack as string[];
  assert.ok(unpack.includes('dist/electron-native/**'));
  assert.ok(unpack.includes('node_modules/node-notifier/vendor/**'));
  const files = config.files as string[];
  assert.ok(files.includes('dist/electron-native/better_sqlite3.node'));
  assert.ok(files.includes('dist/renderer/**/*'));
});

test('Linux: AppImage and deb in the Network category; macOS dmg; Windows nsis', () => {
  const { config } = load();
  const linux = config.linux as { target: string[]; category: string };
  assert.deepEqual(linux.target, ['AppImage', 'deb']);
  assert.equal(linux.category, 'Network');
  assert.equal((config.mac as { target: string }).target, 'dmg');
  assert.equal((config.win as { target: string }).target, 'nsis');
});

test('every path the app loads at run time is one the package includes', () => {
  const paths = appPaths(join(PROJECT, 'dist', 'main', 'electron'));
  const rel = (p: string) =>
    p
      .slice(PROJECT.length + 1)
      .split('\\')
      .join('/');
  assert.equal(rel(paths.indexHtml), 'dist/renderer/index.html');
  assert.equal(rel(paths.preload), 'dist/main/electron/preload.js');
  assert.equal(rel(paths.nativeBinding), 'dist/electron-native/better_sqlite3.node');
  assert.equal(rel(paths.trayIconDir), 'main/electron/assets/tray');
  assert.ok(existsSync(paths.appIcon));
  assert.ok(existsSync(join(paths.trayIconDir, 'tray-okTemplate.png')));
  assert.equal(rel(paths.rendererDir), 'dist/renderer');
  assert.equal(paths.rendererUrl, 'prosody-active-users://app/index.html');
});

test('the packaged binary cannot be run as Node and loads only its own checked app.asar', () => {
  const { config } = load();
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  });
  // onlyLoadAppFromAsar needs an archive to load: packing into app.asar stays on (the default).
  assert.notEqual(config.asar, false);
});
