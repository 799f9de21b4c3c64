import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { electronInstallerNodeProblem } from '../../main/tools/node-version-check.js';

const CASES: Array<[version: string, fine: boolean]> = [
  ['18.20.4', false],
  ['20.0.0', false],
  ['20.18.3', false],
  ['20.19.0', true],
  ['20.20.2', true],
  ['21.7.3', false],
  ['22.11.0', false],
  ['22.12.0', true],
  ['v22.12.0', true],
  ['23.0.0', true],
  ['24.4.1', true],
];

for (const [version, fine] of CASES) {
  test(`npm start on Node ${version} ${fine ? 'fetches Electron' : 'says what to install'}`, () => {
    assert.equal(electronInstallerNodeProblem(version) === null, fine);
  });
}

test('the message is one line naming the Node found, the versions needed and what to install', () => {
  assert.equal(
    electronInstallerNodeProblem('20.11.1'),
    'Node.js 20.11.1 cannot fetch Electron (its installer needs Node.js 20.19+ or 22.12+): install the current Node.js LTS (nodejs.org, or nvm install --lts), then run npm start again.',
  );
});

test('a version in a form it does not know is let through to the installer', () => {
  assert.equal(electronInstallerNodeProblem('nightly'), null);
});

test("the rule matches Electron's own: its installer requires an ES module", () => {
  // If Electron's installer stops needing require(esm), this check should go: the test says when.
  const fromProject = createRequire(join(__dirname, '..', '..', 'package.json'));
  const electronDir = dirname(fromProject.resolve('electron/package.json'));
  assert.match(
    readFileSync(join(electronDir, 'install.js'), 'utf8'),
    /require\('@electron\/get'\)/,
  );
  const fromElectron = createRequire(join(electronDir, 'install.js'));
  const getDir = join(dirname(fromElectron.resolve('@electron/get')), '..');
  const get = JSON.parse(readFileSync(join(getDir, 'package.json'), 'utf8')) as { type?: string };
  assert.equal(get.type, 'module');
});
