import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32, inflateSync } from 'node:zlib';
import { encodePng, iconFiles } from '../../main/tools/generate-tray-icons.js';

const PROJECT = join(__dirname, '..', '..');

/** Width, height and RGBA pixels of a PNG this project wrote (8-bit RGBA, filter 0 rows). */
function decodePng(file: Buffer): { width: number; height: number; rgba: Buffer } {
  assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('ascii', offset + 4, offset + 8);
    const data = file.subarray(offset + 8, offset + 8 + length);
    const crc = file.readUInt32BE(offset + 8 + length);
    assert.equal(crc32(file.subarray(offset + 4, offset + 8 + length)), crc, `${type} CRC`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 6, 0, 0, 0], 'RGBA, 8 bits, no interlace');
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const rows = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const start = y * (width * 4 + 1);
    assert.equal(rows[start], 0, 'filter type none');
    rows.copy(rgba, y * width * 4, start + 1, start + 1 + width * 4);
  }
  return { width, height, rgba };
}

test('the committed icons are what the generator draws', () => {
  for (const [path, { size, rgba }] of iconFiles()) {
    const committed = decodePng(readFileSync(join(PROJECT, path)));
    assert.equal(committed.width, size, path);
    assert.equal(committed.height, size, path);
    assert.ok(
      committed.rgba.equals(rgba),
      `${path} differs: run main/tools/generate-tray-icons.ts`,
    );
  }
});

test('template images are black with alpha only; coloured ones are not', () => {
  for (const [path, { rgba }] of iconFiles()) {
    if (!path.includes('tray')) continue;
    let coloured = false;
    let opaque = 0;
    for (let i = 0; i < rgba.length; i += 4) {
      if ((rgba[i + 3] ?? 0) === 0) continue;
      opaque++;
      if (rgba[i] !== 0 || rgba[i + 1] !== 0 || rgba[i + 2] !== 0) coloured = true;
    }
    assert.ok(opaque > 0, `${path} is empty`);
    assert.equal(coloured, !path.includes('Template'), path);
  }
});

test('the PNG encoder round-trips pixels', () => {
  const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 1, 2, 3, 4]);
  const decoded = decodePng(encodePng(rgba, 2, 2));
  assert.deepEqual([decoded.width, decoded.height], [2, 2]);
  assert.ok(decoded.rgba.equals(rgba));
});
