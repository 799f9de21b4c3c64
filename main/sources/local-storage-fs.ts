import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FailureError } from '../core/failure.js';
import { fileFailure } from './file-failure.js';
import type { StorageFs } from './storage-fs.js';

const codeOf = (e: unknown) => (e as { code?: string }).code;

/** StorageFs over the local disk. */
export const localStorageFs: StorageFs = {
  join,
  async list(path) {
    try {
      const entries = await readdir(path, { withFileTypes: true });
      return entries.map((d) => ({ name: d.name, isDir: d.isDirectory() }));
    } catch (e) {
      if (codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR') return null;
      throw new FailureError(fileFailure(e, path, 'Prosody data folder'));
    }
  },
  async readCapped(path, maxBytes) {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      // An account deleted while we read is simply gone.
      if (codeOf(e) === 'ENOENT') return null;
      throw new FailureError(fileFailure(e, path, 'Prosody data file'));
    }
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) return { tooLarge: true };
      return { text: await handle.readFile({ encoding: 'utf8' }) };
    } finally {
      await handle.close();
    }
  },
};
