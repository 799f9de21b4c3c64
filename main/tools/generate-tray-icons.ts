/**
 * Draws the tray icons and the app icon as PNG files, with nothing but node:zlib: a small bar chart
 * (DAU, WAU, MAU) in four states. Run once after changing the design, and commit the files:
 *
 *   node --import tsx main/tools/generate-tray-icons.ts
 *
 * - macOS gets template images: black and alpha only, and `Template` at the end of the file's base
 *   name, so the menu bar tints them for light and dark (Electron's nativeImage docs, "Template
 *   Image"). States differ in shape: filled bars (ok), a dot (alerting), hollow bars and a dot
 *   (stale or failing), dimmed bars (refreshing).
 * - Linux and Windows get coloured icons in mid tones that read on light and dark panels.
 * - Each comes at 16 px and 32 px; `name@2x.png` next to `name.png` is picked up by nativeImage on
 *   high-DPI screens.
 *
 * test/electron/tray-icons.test.ts checks that the committed files are what this draws.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { TrayState } from '../core/tray-state.js';

export const TRAY_STATES: readonly TrayState[] = [
  'ok',
  'alerting',
  'stale-or-failing',
  'refreshing',
];

/** Where the committed icons live, relative to the project. */
export const ASSETS_DIR = join('main', 'electron', 'assets');
export const TRAY_ICON_DIR = join(ASSETS_DIR, 'tray');
export const APP_ICON_FILE = join(ASSETS_DIR, 'app-icon.png');

/** The size of the design grid, and of the 1x icon, in pixels. */
const GRID = 16;

type Rgb = readonly [number, number, number];
type Inside = (x: number, y: number) => boolean;

/** One shape painted over the layers below it, or erasing them (`clear`). */
interface Layer {
  inside: Inside;
  color: Rgb;
  alpha: number;
  clear?: boolean;
}

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];
const GREEN: Rgb = [0x2f, 0x9e, 0x5b];
const ORANGE: Rgb = [0xf0, 0x8c, 0x00];
const RED: Rgb = [0xd9, 0x30, 0x25];
const GREY: Rgb = [0x8a, 0x8a, 0x8a];
const BLUE: Rgb = [0x3b, 0x82, 0xd6];
const TEAL: Rgb = [0x1f, 0x5f, 0x7a];

/** The three bars on the 16-unit grid: x0, y0, x1, y1. */
const BARS: ReadonlyArray<readonly [number, number, number, number]> = [
  [1.5, 9, 5, 14.5],
  [6.25, 6, 9.75, 14.5],
  [11, 2.5, 14.5, 14.5],
];
const BAR_RADIUS = 0.9;
const STROKE = 1.4;
const BADGE = { x: 3.4, y: 3.4, r: 2.9, gap: 1.1 };

function roundedRect(x0: number, y0: number, x1: number, y1: number, r: number): Inside {
  return (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
    const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
    return dx * dx + dy * dy <= r * r;
  };
}

function circle(cx: number, cy: number, r: number): Inside {
  return (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function bars(hollow: boolean): Inside {
  const shapes = BARS.map(([x0, y0, x1, y1]) => {
    const outer = roundedRect(x0, y0, x1, y1, BAR_RADIUS);
    if (!hollow) return outer;
    const s = STROKE;
    const inner = roundedRect(x0 + s, y0 + s, x1 - s, y1 - s, Math.max(BAR_RADIUS - s, 0));
    return (x: number, y: number) => outer(x, y) && !inner(x, y);
  });
  return (x, y) => shapes.some((inside) => inside(x, y));
}

/** The layers of one tray icon. */
export function trayLayers(state: TrayState, template: boolean): Layer[] {
  const badge = (color: Rgb): Layer[] => [
    { inside: circle(BADGE.x, BADGE.y, BADGE.r + BADGE.gap), color, alpha: 1, clear: true },
    { inside: circle(BADGE.x, BADGE.y, BADGE.r), color, alpha: 1 },
  ];
  switch (state) {
    case 'ok':
      return [{ inside: bars(false), color: template ? BLACK : GREEN, alpha: 1 }];
    case 'alerting':
      return [
        { inside: bars(false), color: template ? BLACK : GREEN, alpha: 1 },
        ...badge(template ? BLACK : ORANGE),
      ];
    case 'stale-or-failing':
      return [
        { inside: bars(true), color: template ? BLACK : GREY, alpha: 1 },
        ...badge(template ? BLACK : RED),
      ];
    case 'refreshing':
      return [{ inside: bars(false), color: template ? BLACK : BLUE, alpha: template ? 0.45 : 1 }];
  }
}

/** The app icon's layers: white bars on a rounded teal square, on a 16-unit grid. */
function appIconLayers(): Layer[] {
  const inset = 2.2;
  const scale = (GRID - 2 * inset) / GRID;
  const scaled = bars(false);
  return [
    { inside: roundedRect(0.5, 0.5, 15.5, 15.5, 3.2), color: TEAL, alpha: 1 },
    {
      inside: (x, y) => scaled((x - inset) / scale, (y - inset) / scale),
      color: WHITE,
      alpha: 1,
    },
  ];
}

/**
 * RGBA pixels (not premultiplied) of the layers drawn at `size` px: each pixel averages
 * `samples`² points, which smooths the edges.
 */
export function rasterize(layers: readonly Layer[], size: number, samples = 4): Buffer {
  const out = Buffer.alloc(size * size * 4);
  const unit = GRID / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Premultiplied colour and alpha, accumulated over the samples.
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) * unit;
          const y = (py + (sy + 0.5) / samples) * unit;
          let cr = 0;
          let cg = 0;
          let cb = 0;
          let ca = 0;
          for (const layer of layers) {
            if (!layer.inside(x, y)) continue;
            if (layer.clear) {
              cr = cg = cb = ca = 0;
              continue;
            }
            const la = layer.alpha;
            cr = layer.color[0] * la + cr * (1 - la);
            cg = layer.color[1] * la + cg * (1 - la);
            cb = layer.color[2] * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const n = samples * samples;
      const i = (py * size + px) * 4;
      const alpha = a / n;
      out[i] = alpha === 0 ? 0 : Math.round(r / n / alpha);
      out[i + 1] = alpha === 0 ? 0 : Math.round(g / n / alpha);
      out[i + 2] = alpha === 0 ? 0 : Math.round(b / n / alpha);
      out[i + 3] = Math.round(alpha * 255);
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG file of RGBA pixels: 8 bits per channel, colour type 6, no interlace, filter 0 rows. */
export function encodePng(rgba: Buffer, width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  header[10] = 0; // deflate
  header[11] = 0; // adaptive filtering (each row says its filter)
  header[12] = 0; // no interlace
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A tray icon's file name. Template images must end in `Template` before the extension; the 2x file
 * adds `@2x` after that.
 */
export function trayIconFileName(state: TrayState, template: boolean, scale: 1 | 2): string {
  return `tray-${state}${template ? 'Template' : ''}${scale === 2 ? '@2x' : ''}.png`;
}

/** Every icon file this tool writes, by path relative to the project, with its pixels. */
export function iconFiles(): Map<string, { size: number; rgba: Buffer }> {
  const files = new Map<string, { size: number; rgba: Buffer }>();
  for (const state of TRAY_STATES) {
    for (const template of [true, false]) {
      for (const scale of [1, 2] as const) {
        const size = GRID * scale;
        files.set(join(TRAY_ICON_DIR, trayIconFileName(state, template, scale)), {
          size,
          rgba: rasterize(trayLayers(state, template), size),
        });
      }
    }
  }
  files.set(APP_ICON_FILE, { size: 512, rgba: rasterize(appIconLayers(), 512, 3) });
  return files;
}

if (require.main === module) {
  // The project: the nearest folder above this file with a package.json (from main/ or dist/main/).
  let projectDir = __dirname;
  while (!existsSync(join(projectDir, 'package.json')) && dirname(projectDir) !== projectDir) {
    projectDir = dirname(projectDir);
  }
  for (const [path, { size, rgba }] of iconFiles()) {
    const target = join(projectDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, encodePng(rgba, size, size));
    console.log(`wrote ${path}`);
  }
}
