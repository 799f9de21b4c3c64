/**
 * The history chart: DAU, WAU and MAU over time, drawn by uPlot on a canvas. uPlot sizes and places
 * its parts through element.style (CSSOM), which the page's CSP allows; its stylesheet is bundled
 * by esbuild into app.css (never loaded from node_modules). Colours come from the stylesheet's
 * custom properties, so the chart follows the light or dark theme; it is drawn again when the
 * theme changes.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SeriesPoint } from '../main/core/ipc-contract.js';

const HEIGHT = 220;

interface Colors {
  dau: string;
  wau: string;
  mau: string;
  online: string;
  axis: string;
  grid: string;
}

function colors(): Colors {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    dau: read('--chart-dau', '#1565c0'),
    wau: read('--chart-wau', '#2e7d32'),
    mau: read('--chart-mau', '#ad1457'),
    online: read('--chart-online', '#8a5a00'),
    axis: read('--fg-muted', '#555'),
    grid: read('--grid', '#ddd'),
  };
}

export class HistoryChart {
  /** The chart's box: the same element across renders, so the canvas survives re-rendering. */
  readonly element: HTMLDivElement;
  private plot: uPlot | null = null;
  private points: SeriesPoint[] = [];
  private readonly resize: ResizeObserver;
  private width = 0;

  constructor() {
    this.element = document.createElement('div');
    this.element.className = 'chart';
    // The canvas says nothing to a screen reader: the caption beside it does.
    this.element.setAttribute('aria-hidden', 'true');
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.element);
    window
      .matchMedia('(prefers-color-scheme: dark)')
      .addEventListener('change', () => this.redraw());
  }

  /** Shows these points (oldest first); the chart is made once the box has a width. */
  show(points: SeriesPoint[]): void {
    const same =
      points.length === this.points.length &&
      points.every((p, i) => {
        const q = this.points[i];
        return (
          q &&
          q.at === p.at &&
          q.dau === p.dau &&
          q.wau === p.wau &&
          q.mau === p.mau &&
          q.online === p.online
        );
      });
    this.points = points;
    if (!this.plot) this.fit();
    else if (!same) this.plot.setData(this.data());
  }

  private data(): uPlot.AlignedData {
    const p = this.points;
    return [
      p.map((x) => x.at),
      p.map((x) => x.dau),
      p.map((x) => x.wau),
      p.map((x) => x.mau),
      // Refreshes without a live view leave a gap, not a zero.
      p.map((x) => x.online ?? null),
    ];
  }

  private fit(): void {
    const width = Math.floor(this.element.clientWidth);
    if (width <= 0) return;
    if (this.plot && width === this.width) return;
    this.width = width;
    if (this.plot) this.plot.setSize({ width, height: HEIGHT });
    else this.create();
  }

  private redraw(): void {
    this.plot?.destroy();
    this.plot = null;
    this.width = 0;
    this.fit();
  }

  private create(): void {
    const c = colors();
    const axis: uPlot.Axis = {
      stroke: c.axis,
      grid: { stroke: c.grid, width: 1 },
      ticks: { stroke: c.grid, width: 1 },
    };
    const line = (label: string, stroke: string, dash?: number[]): uPlot.Series => ({
      label,
      stroke,
      width: 2,
      ...(dash ? { dash } : {}),
      points: { show: false },
    });
    this.plot = new uPlot(
      {
        width: this.width,
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        // Counts of people: the axis starts at zero, so that a small wobble does not look like a fall.
        scales: {
          x: { time: true },
          y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
        },
        series: [
          {},
          line('DAU', c.dau),
          line('WAU', c.wau, [6, 3]),
          line('MAU', c.mau, [2, 3]),
          line('Online', c.online, [1, 4]),
        ],
        axes: [axis, { ...axis, size: 48 }],
      },
      this.data(),
      this.element,
    );
  }
}
