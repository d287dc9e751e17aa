// A small line chart, written by hand: each process's resident memory
// (solid) and V8 heap in use (dashed) over the soak, the warm-up shaded, and
// the slope of each RSS line in the legend.
import { writeFileSync } from 'node:fs';

import type { SoakReport } from './report.js';

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const LEFT = 60;
const TOP = 50;
const PLOT_W = 700;
const PLOT_H = 300;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" axis top at or above `max`: 1, 2 or 5 times a power of ten. */
function niceTop(max: number): number {
  if (!(max > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return [1, 1.5, 2, 3, 5, 10].map((m) => m * step).find((v) => v >= max)!;
}

/** The SVG text of the chart. */
export function renderSoakChart(report: SoakReport, caption: string): string {
  const { samples, processes } = report;
  const lastSecond = Math.max(1, ...samples.map((s) => s.atSeconds));
  const values = samples.flatMap((s) => [...Object.values(s.rssMiB), ...Object.values(s.heapMiB)]).filter(Number.isFinite);
  const top = niceTop(Math.max(...values, 1));
  const x = (sec: number): number => Math.round(10 * (LEFT + (PLOT_W * sec) / lastSecond)) / 10;
  const y = (mib: number): number => Math.round(10 * (TOP + PLOT_H - (PLOT_H * mib) / top)) / 10;
  const legendY = TOP + PLOT_H + 50;
  const width = LEFT + PLOT_W + 40;
  const height = legendY + processes.length * 16 + 40;
  const firstMeasured = samples.find((s) => s.measured)?.atSeconds ?? 0;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">Memory per process under steady churn (MiB)</text>`,
    `<text x="${LEFT}" y="36" fill="#555">${esc(caption)}</text>`,
    `<rect x="${LEFT}" y="${TOP}" width="${x(firstMeasured) - LEFT}" height="${PLOT_H}" fill="#f3f3f3"><title>warm-up (not fitted)</title></rect>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`, `<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const sec = (lastSecond * i) / 5;
    out.push(`<text x="${x(sec)}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${(sec / 60).toFixed(1)} min</text>`);
  }
  processes.forEach((p, i) => {
    const color = COLORS[i % COLORS.length]!;
    for (const [of, dash] of [['rssMiB', ''], ['heapMiB', ' stroke-dasharray="4 3"']] as const) {
      const pts = samples.filter((s) => Number.isFinite(s[of][p.name])).map((s) => `${x(s.atSeconds)},${y(s[of][p.name]!)}`);
      if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5"${dash} points="${pts.join(' ')}"><title>${esc(`${p.name} ${of === 'rssMiB' ? 'RSS' : 'heap'}`)}</title></polyline>`);
    }
    const slope = Number.isFinite(p.rss.slopeMiBPerMin) ? p.rss.slopeMiBPerMin.toFixed(2) : '-';
    const floor = Number.isFinite(p.heapFloor.slopeMiBPerMin) ? p.heapFloor.slopeMiBPerMin.toFixed(2) : '-';
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + 14}" y1="${legendY + i * 16 - 4}" y2="${legendY + i * 16 - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${LEFT + 20}" y="${legendY + i * 16}">${esc(`${p.name}: RSS mean ${p.rss.meanMiB.toFixed(0)} MiB, ${slope} MiB/min (${p.rssVerdict}); heap floor ${floor} MiB/min (${p.heapFloorVerdict})`)}</text>`,
    );
  });
  out.push(`<text x="${LEFT}" y="${legendY + processes.length * 16 + 10}" fill="#555">Solid: RSS (VmRSS). Dashed: V8 heap used. Shaded: warm-up, left out of the fitted slopes.</text>`, '</svg>');
  return `${out.join('\n')}\n`;
}

export function writeSoakChart(path: string, report: SoakReport, caption: string): void {
  writeFileSync(path, renderSoakChart(report, caption));
}
