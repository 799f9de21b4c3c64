/**
 * Loaded with `node --import tsx --import ./test/electron-double/register.ts dist/main/electron/main.js`
 * (main-process.ts does it): makes the built main process, unchanged, find the Electron TEST DOUBLE
 * (electron-double.ts) where it requires 'electron', and Node's build of better-sqlite3 where it
 * loads the Electron build (dist/electron-native, made for Electron's ABI, which Node cannot load).
 */
import Module from 'node:module';
import { basename, join } from 'node:path';

const DOUBLE = join(__dirname, 'electron-double.ts');
const NODE_SQLITE = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');

type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
const resolve = moduleInternals._resolveFilename;

moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]): string {
  if (request === 'electron') return DOUBLE;
  if (request.includes('electron-native') && basename(request) === 'better_sqlite3.node') {
    return NODE_SQLITE;
  }
  return resolve.call(this, request, ...rest);
};
