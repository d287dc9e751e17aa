// A small grouped bar chart, written by hand: pods/s per mode (bars) per
// workload (groups), each bar labelled with its pods/s and ratio to
// kube-scheduler alone.
import { writeFileSync } from 'node:fs';

import type { SchedulingReport } from './report.js';

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948'];
const BAR = 34;
const GAP = 10;
const GROUP_GAP = 40;
const PLOT_H = 260;
const LEFT = 60;
const TOP = 50;
const MIN_WIDTH = 760;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" axis top at or above `max`: 1, 2 or 5 times a power of ten. */
function niceTop(max: number): number {
  if (!(max > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * step).find((v) => v >= max)!;
}

/** The SVG text of the chart. */
export function renderChart(report: SchedulingReport, caption: string): string {
  const workloads = [...new Set(report.phases.map((p) => p.workload))];
  const modes = [...new Set(report.phases.map((p) => p.modeLabel))];
  const top = niceTop(Math.max(...report.phases.map((p) => (Number.isFinite(p.podsPerSecond) ? p.podsPerSecond : 0))));
  const groupW = modes.length * (BAR + GAP) - GAP;
  // Wide enough for the bars and for the title, caption and notes.
  const width = Math.max(MIN_WIDTH, LEFT + workloads.length * (groupW + GROUP_GAP) + 20);
  const legendY = TOP + PLOT_H + 60;
  const height = legendY + modes.length * 18 + 30;
  const y = (v: number): number => Math.round(10 * (TOP + PLOT_H - (PLOT_H * v) / top)) / 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">Pods bound per second, by workload and mode</text>`,
    `<text x="${LEFT}" y="36" fill="#555">${esc(caption)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    out.push(`<line x1="${LEFT}" x2="${width - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`, `<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  workloads.forEach((w, gi) => {
    const x0 = LEFT + 10 + gi * (groupW + GROUP_GAP);
    modes.forEach((m, mi) => {
      const p = report.phases.find((q) => q.workload === w && q.modeLabel === m);
      if (!p) return;
      const v = Number.isFinite(p.podsPerSecond) ? p.podsPerSecond : 0;
      const x = x0 + mi * (BAR + GAP);
      out.push(
        `<rect x="${x}" y="${y(v)}" width="${BAR}" height="${Math.round(10 * (TOP + PLOT_H - y(v))) / 10}" fill="${COLORS[mi % COLORS.length]}"${p.timedOut ? ' fill-opacity="0.4"' : ''}><title>${esc(`${w} / ${m}: ${v.toFixed(1)} pods/s`)}</title></rect>`,
        `<text x="${x + BAR / 2}" y="${y(v) - 14}" text-anchor="middle">${v.toFixed(0)}</text>`,
        `<text x="${x + BAR / 2}" y="${y(v) - 3}" text-anchor="middle" fill="#555">${Number.isFinite(p.ratioToKubeScheduler) ? `${p.ratioToKubeScheduler.toFixed(2)}×` : ''}${p.note ? '*' : ''}</text>`,
      );
    });
    out.push(`<text x="${x0 + groupW / 2}" y="${TOP + PLOT_H + 18}" text-anchor="middle" font-weight="bold">${esc(w)}</text>`);
  });
  modes.forEach((m, mi) => {
    out.push(`<rect x="${LEFT}" y="${legendY + mi * 18 - 10}" width="12" height="12" fill="${COLORS[mi % COLORS.length]}"/>`, `<text x="${LEFT + 18}" y="${legendY + mi * 18}">${esc(m)}</text>`);
  });
  const notes = [
    'Labels: pods/s, and the ratio to kube-scheduler alone on the same workload. Faded bar: the phase ran out of time (partial).',
    ...(report.phases.some((p) => p.note) ? ['* plain pods: kube-scheduler has no gangs.'] : []),
  ];
  notes.forEach((n, i) => out.push(`<text x="${LEFT}" y="${legendY + modes.length * 18 + 6 + i * 14}" fill="#555">${esc(n)}</text>`));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export function writeChart(path: string, report: SchedulingReport, caption: string): void {
  writeFileSync(path, renderChart(report, caption));
}
