import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { App, LoginItemSettings, LoginItemSettingsOptions, Settings } from 'electron';
import {
  AUTOSTART_FILE_NAME,
  autostartDir,
  createAutostart,
  desktopEntry,
  entryStartsAtLogin,
  execArgument,
  launchCommand,
  linuxAutostart,
} from '../../main/electron/autostart.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'autostart-'));
  dirs.push(dir);
  return dir;
}

const exec: Array<[arg: string, written: string]> = [
  ['/usr/bin/app', '"/usr/bin/app"'],
  ['/opt/Prosody Active Users/app', '"/opt/Prosody Active Users/app"'],
  ['say "hi"', '"say \\\\"hi\\\\""'],
  ['C:\\temp', '"C:\\\\\\\\temp"'],
  ['$HOME', '"\\\\$HOME"'],
  ['`id`', '"\\\\`id\\\\`"'],
  ['100%', '"100%%"'],
  ['%f', '"%%f"'],
  ["it's; a | b & c > d", '"it\'s; a | b & c > d"'],
  ['line\nbreak', '"line\\nbreak"'],
];

for (const [arg, written] of exec) {
  test(`Exec argument ${JSON.stringify(arg)} is written ${written}`, () => {
    assert.equal(execArgument(arg), written);
  });
}

test('the desktop entry starts the command and names the app', () => {
  const entry = desktopEntry(['/opt/Prosody Active Users/prosody-active-users']);
  assert.ok(entry.ok);
  assert.equal(
    entry.value,
    [
      '[Desktop Entry]',
      'Type=Application',
      'Name=Prosody Active Users',
      'Comment=Daily, weekly and monthly active users of your Prosody server',
      'Exec="/opt/Prosody Active Users/prosody-active-users"',
      'Terminal=false',
      'X-GNOME-Autostart-enabled=true',
      '',
    ].join('\n'),
  );
});

test('a program path with "=" or "%" is refused: no entry can name it', () => {
  assert.equal(desktopEntry(['/opt/a=b/app']).ok, false);
  assert.equal(desktopEntry(['/opt/100%/app']).ok, false);
  assert.equal(desktopEntry(['/opt/app', 'a=b', '100%']).ok, true, 'arguments may hold them');
});

const commands: Array<
  [name: string, env: Record<string, string>, packaged: boolean, command: string[]]
> = [
  ['packaged: the executable', {}, true, ['/opt/app/prosody-active-users']],
  [
    'development: electron and the project',
    {},
    false,
    ['/opt/app/prosody-active-users', '/src/project'],
  ],
  [
    'AppImage: the image, not its temporary mount',
    { APPIMAGE: '/home/me/Apps/P.AppImage' },
    true,
    ['/home/me/Apps/P.AppImage'],
  ],
  [
    'a relative APPIMAGE is ignored',
    { APPIMAGE: 'P.AppImage' },
    true,
    ['/opt/app/prosody-active-users'],
  ],
];

for (const [name, env, packaged, command] of commands) {
  test(`launch command: ${name}`, () => {
    assert.deepEqual(
      launchCommand({
        execPath: '/opt/app/prosody-active-users',
        packaged,
        appPath: '/src/project',
        env,
      }),
      command,
    );
  });
}

test('the autostart folder follows XDG_CONFIG_HOME, and ~/.config when it is unset or relative', () => {
  assert.equal(autostartDir({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/me'), '/x/cfg/autostart');
  assert.equal(autostartDir({}, '/home/me'), '/home/me/.config/autostart');
  assert.equal(autostartDir({ XDG_CONFIG_HOME: '' }, '/home/me'), '/home/me/.config/autostart');
  assert.equal(autostartDir({ XDG_CONFIG_HOME: 'cfg' }, '/home/me'), '/home/me/.config/autostart');
});

test('Linux: turning it on writes the file, turning it off removes it', async () => {
  const config = tempDir();
  const autostart = linuxAutostart({
    env: { XDG_CONFIG_HOME: config },
    home: '/nonexistent',
    command: ['/opt/Prosody Active Users/prosody-active-users'],
  });
  const file = join(config, 'autostart', AUTOSTART_FILE_NAME);
  assert.equal(await autostart.isEnabled(), false);
  assert.deepEqual(await autostart.setEnabled(true), { ok: true, value: undefined });
  assert.equal(await autostart.isEnabled(), true);
  assert.match(
    readFileSync(file, 'utf8'),
    /^Exec="\/opt\/Prosody Active Users\/prosody-active-users"$/m,
  );
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.deepEqual(await autostart.setEnabled(false), { ok: true, value: undefined });
  assert.equal(existsSync(file), false);
  assert.deepEqual(
    await autostart.setEnabled(false),
    { ok: true, value: undefined },
    'twice is fine',
  );
});

const entries: Array<[name: string, text: string, starts: boolean]> = [
  ['an entry with no marks', '[Desktop Entry]\nType=Application\nExec=x\n', true],
  ['Hidden=true (the XDG way to turn it off)', '[Desktop Entry]\nExec=x\nHidden=true\n', false],
  [
    'X-GNOME-Autostart-enabled=false (GNOME)',
    '[Desktop Entry]\nX-GNOME-Autostart-enabled=false\n',
    false,
  ],
  ['X-GNOME-Autostart-enabled=true', '[Desktop Entry]\nX-GNOME-Autostart-enabled=true\n', true],
  ['Hidden=false', '[Desktop Entry]\nHidden=false\n', true],
  ['spaces around "="', '[Desktop Entry]\nHidden = true\n', false],
  ['CRLF line ends', '[Desktop Entry]\r\nHidden=true\r\n', false],
  [
    'the mark in another group',
    '[Desktop Entry]\nExec=x\n[Desktop Action new]\nHidden=true\n',
    true,
  ],
  ['the mark in a comment', '[Desktop Entry]\n# Hidden=true\n', true],
  ['a localized key is another key', '[Desktop Entry]\nHidden[de]=true\n', true],
];

for (const [name, text, starts] of entries) {
  test(`an autostart entry with ${name} ${starts ? 'starts' : 'does not start'} at login`, () => {
    assert.equal(entryStartsAtLogin(text), starts);
  });
}

test('Linux: an entry the desktop turned off reads as off, and turning it on makes it start again', async () => {
  const config = tempDir();
  const autostart = linuxAutostart({
    env: { XDG_CONFIG_HOME: config },
    home: '/nonexistent',
    command: ['/opt/pau/prosody-active-users'],
  });
  const file = join(config, 'autostart', AUTOSTART_FILE_NAME);
  assert.deepEqual(await autostart.setEnabled(true), { ok: true, value: undefined });
  // What GNOME's Startup Applications does to switch it off: the file stays, marked.
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      'X-GNOME-Autostart-enabled=true',
      'X-GNOME-Autostart-enabled=false',
    ),
  );
  assert.equal(await autostart.isEnabled(), false);
  writeFileSync(
    file,
    '[Desktop Entry]\nType=Application\nExec=/opt/pau/prosody-active-users\nHidden=true\n',
  );
  assert.equal(await autostart.isEnabled(), false);
  assert.deepEqual(await autostart.setEnabled(true), { ok: true, value: undefined });
  assert.equal(await autostart.isEnabled(), true);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /Hidden|enabled=false/);
});

test('Linux: turning it on twice leaves one file with the same content', async () => {
  const config = tempDir();
  const autostart = linuxAutostart({
    env: { XDG_CONFIG_HOME: config },
    home: '/x',
    command: ['/a'],
  });
  await autostart.setEnabled(true);
  await autostart.setEnabled(true);
  const file = join(config, 'autostart', AUTOSTART_FILE_NAME);
  assert.match(readFileSync(file, 'utf8'), /^Exec="\/a"$/m);
});

test('Linux: a folder that cannot be written is a failure with the path, not a crash', async () => {
  // A file where the folder should be: unwritable even for root, who writes anywhere else.
  const config = join(tempDir(), 'not-a-folder');
  writeFileSync(config, '');
  const autostart = linuxAutostart({
    env: { XDG_CONFIG_HOME: config },
    home: '/x',
    command: ['/a'],
  });
  const result = await autostart.setEnabled(true);
  assert.equal(result.ok, false);
});

test('Linux: GLib starts the entry with every argument intact (gio launch)', async () => {
  const root = tempDir();
  const weird = join(root, `dir with space $HOME "q" back\\slash \`tick\` it's ~ #x`);
  mkdirSync(weird);
  const out = join(root, 'argv.json');
  const program = join(weird, 'record-argv');
  writeFileSync(
    program,
    `#!${process.execPath}\nrequire('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(2)));\n`,
  );
  chmodSync(program, 0o755);
  const args = ['a b', 'c\\d', 'e$f', '100%', 'say "hi"', '`id`', "it's", '~', '#x'];
  const config = join(root, 'config');
  const autostart = linuxAutostart({
    env: { XDG_CONFIG_HOME: config },
    home: root,
    command: [program, ...args],
  });
  assert.equal((await autostart.setEnabled(true)).ok, true);
  const launched = spawnSync('gio', ['launch', join(config, 'autostart', AUTOSTART_FILE_NAME)], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(launched.status, 0, launched.stderr);
  for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), args);
});

/** A stand-in for Electron's app login item API. */
function fakeApp(status: LoginItemSettings['status'] = 'enabled') {
  const calls: Array<[string, unknown]> = [];
  let open = false;
  const app = {
    setLoginItemSettings: (settings: Settings) => {
      calls.push(['set', settings]);
      open = settings.openAtLogin === true;
    },
    getLoginItemSettings: (options?: LoginItemSettingsOptions) => {
      calls.push(['get', options]);
      return { openAtLogin: open && status !== 'requires-approval', status } as LoginItemSettings;
    },
  } as Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'>;
  return { app, calls };
}

test('macOS: the login item is set and read through Electron', async () => {
  const { app, calls } = fakeApp();
  const autostart = createAutostart({
    platform: 'darwin',
    app,
    env: {},
    home: '/x',
    command: ['/Applications/P.app/Contents/MacOS/P'],
  });
  assert.equal(await autostart.isEnabled(), false);
  assert.deepEqual(await autostart.setEnabled(true), { ok: true, value: undefined });
  assert.equal(await autostart.isEnabled(), true);
  assert.deepEqual(calls[1], ['set', { openAtLogin: true }]);
});

test("macOS: a login item waiting for the user's approval says where to give it", async () => {
  const { app } = fakeApp('requires-approval');
  const autostart = createAutostart({
    platform: 'darwin',
    app,
    env: {},
    home: '/x',
    command: ['/A'],
  });
  const result = await autostart.setEnabled(true);
  assert.ok(!result.ok && result.failure.kind === 'settings');
  assert.match(result.failure.message, /Login Items/);
});

test('Windows: path and quoted arguments are given when setting and when reading back', async () => {
  const { app, calls } = fakeApp();
  const autostart = createAutostart({
    platform: 'win32',
    app,
    env: {},
    home: 'C:\\Users\\me',
    command: ['C:\\electron\\electron.exe', 'C:\\My Projects\\app'],
  });
  await autostart.setEnabled(true);
  await autostart.isEnabled();
  const where = { path: 'C:\\electron\\electron.exe', args: ['"C:\\My Projects\\app"'] };
  assert.deepEqual(calls, [
    ['set', { openAtLogin: true, ...where }],
    ['get', where],
    ['get', where],
  ]);
});

test("Linux never touches Electron's login item API", async () => {
  const { app, calls } = fakeApp();
  const config = tempDir();
  const autostart = createAutostart({
    platform: 'linux',
    app,
    env: { XDG_CONFIG_HOME: config },
    home: '/x',
    command: ['/a'],
  });
  await autostart.setEnabled(true);
  assert.equal(await autostart.isEnabled(), true);
  assert.deepEqual(calls, []);
});
