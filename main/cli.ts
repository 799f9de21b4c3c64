#!/usr/bin/env node
/**
 * `prosody-active-users`: the headless entry point. It only builds the real adapters and hands
 * them to runCli; everything it does is tested in-process through runCli.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homedir, userInfo } from 'node:os';
import { openSshSources } from './cli/open-ssh-sources.js';
import { promptHidden } from './cli/prompt-hidden.js';
import { runCli } from './cli/run-cli.js';
import { discoverLocalSources } from './sources/discover-local.js';
import { InternalStorageSource } from './sources/internal-storage-source.js';
import { SqliteSource } from './sources/sqlite-source.js';

/** The nearest package.json above this file: dist/main/ when built, main/ when run from source. */
function packageVersion(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

runCli(process.argv.slice(2), {
  version: packageVersion(),
  now: () => Math.floor(Date.now() / 1000),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  sqliteSource: (path) => new SqliteSource(path),
  internalSource: (dir) => new InternalStorageSource(dir),
  discoverSources: (config) => discoverLocalSources(config),
  stderrIsTTY: process.stderr.isTTY === true,
  sshSources: (options, onStep, onProgress) =>
    openSshSources(options, onStep, onProgress, {
      home: homedir(),
      localUser: userInfo().username,
      env: process.env,
      platform: process.platform,
      prompt: promptHidden,
    }),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Unexpected: logged once, here at the edge.
    process.stderr.write(
      `prosody-active-users: unexpected error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 1;
  },
);
