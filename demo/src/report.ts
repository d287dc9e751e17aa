// demo-report.html: one self-contained page (inline CSS and SVG, no script
// that runs, no external asset) — a placement heat map (zone × rack × node),
// the refusals with their reasons, and a latency histogram per scheduling
// step. The data behind it is embedded as JSON (id "demo-data") for tools.
import { refusalsByReason } from './placements.js';
import type { NodeView, PodView } from './placements.js';
import type { PodTrace, StepLatencies } from './traces.js';

export interface ReportData {
  readonly generatedAt: string;
  readonly durationMs: number;
  readonly nodes: readonly NodeView[];
  readonly pods: readonly PodView[];
  readonly steps: readonly StepLatencies[];
  readonly trace?: PodTrace;
  /** What the reader must know about how the data was had (fixture mode). */
  readonly note?: string;
  /** Plugins the demo ran, and optional ones it skipped. */
  readonly plugins: { readonly run: readonly string[]; readonly skipped: readonly string[] };
}

/** Upper bounds (ms) of the histogram buckets; the last bucket is open. */
export const BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

const STEP_ORDER = ['attempt', 'PreFilter', 'Filter', 'PostFilter', 'PreScore', 'Score', 'Reserve', 'Permit', 'PreBind', 'Bind', 'PostBind', 'Unreserve'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Counts per bucket: index i counts values ≤ BUCKETS_MS[i] (and above the previous bound); the last counts the rest. */
export function histogram(valuesMs: readonly number[]): number[] {
  const counts = new Array<number>(BUCKETS_MS.length + 1).fill(0);
  for (const v of valuesMs) {
    const i = BUCKETS_MS.findIndex((b) => v <= b);
    counts[i === -1 ? BUCKETS_MS.length : i]!++;
  }
  return counts;
}

export function percentile(valuesMs: readonly number[], p: number): number {
  if (valuesMs.length === 0) return Number.NaN;
  const sorted = [...valuesMs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function stepRank(step: string): number {
  const i = STEP_ORDER.findIndex((s) => step.startsWith(s));
  return i === -1 ? STEP_ORDER.length : i;
}

/** Heat colour of a count: white (0) to deep red (max). */
function heat(count: number, max: number): string {
  if (count === 0) return '#f4f4f4';
  const t = max === 0 ? 0 : count / max;
  return `hsl(${Math.round(45 - 45 * t)}, 90%, ${Math.round(85 - 45 * t)}%)`;
}

function heatMap(nodes: readonly NodeView[], pods: readonly PodView[]): string {
  const perNode = new Map<string, number>();
  for (const p of pods) if (p.node) perNode.set(p.node, (perNode.get(p.node) ?? 0) + 1);
  const max = Math.max(0, ...perNode.values());
  const zones = new Map<string, Map<string, NodeView[]>>();
  for (const n of nodes) {
    const racks = zones.get(n.zone) ?? new Map<string, NodeView[]>();
    racks.set(n.rack, [...(racks.get(n.rack) ?? []), n]);
    zones.set(n.zone, racks);
  }
  const rows: string[] = [];
  for (const zone of [...zones.keys()].sort()) {
    for (const [rack, rackNodes] of [...zones.get(zone)!.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const cells = rackNodes
        .map((n) => {
          const c = perNode.get(n.name) ?? 0;
          return `<td class="cell" style="background:${heat(c, max)}" title="${escapeHtml(`${n.name} (${n.pool}): ${c} pods`)}">${c}</td>`;
        })
        .join('');
      const total = rackNodes.reduce((s, n) => s + (perNode.get(n.name) ?? 0), 0);
      rows.push(`<tr><th>${escapeHtml(zone)}</th><th>${escapeHtml(rack)}</th>${cells}<td class="total">${total}</td></tr>`);
    }
  }
  return `<table class="heat">${rows.join('\n')}</table><p class="note">One cell per node, its number the pods bound there (hover for the node's name and pool); darker is fuller (max ${max}).</p>`;
}

function refusals(pods: readonly PodView[]): string {
  const groups = refusalsByReason(pods);
  if (groups.length === 0) return '<p>No pod was refused.</p>';
  const rows = groups.map(
    (g) =>
      `<tr><td>${g.pods.length}</td><td>${escapeHtml(g.reason)}</td><td>${escapeHtml(
        g.pods
          .map((p) => `${p.namespace}/${p.name}`)
          .sort()
          .join(', '),
      )}</td></tr>`,
  );
  return `<table class="list"><tr><th>pods</th><th>reason (as the scheduler gave it)</th><th>which</th></tr>${rows.join('\n')}</table>`;
}

function histogramSvg(values: readonly number[]): string {
  const counts = histogram(values);
  const max = Math.max(1, ...counts);
  const w = 28;
  const h = 80;
  const bars = counts
    .map((c, i) => {
      const bh = Math.round((c / max) * h);
      const label = i < BUCKETS_MS.length ? `≤${BUCKETS_MS[i]}` : `>${BUCKETS_MS[BUCKETS_MS.length - 1]}`;
      return `<g><rect x="${i * w + 2}" y="${h - bh + 12}" width="${w - 4}" height="${bh}" fill="#4a78c2"><title>${label} ms: ${c}</title></rect><text x="${i * w + w / 2}" y="${h + 26}" font-size="8" text-anchor="middle">${label}</text>${c ? `<text x="${i * w + w / 2}" y="${h - bh + 9}" font-size="8" text-anchor="middle">${c}</text>` : ''}</g>`;
    })
    .join('');
  return `<svg width="${counts.length * w}" height="${h + 32}" role="img">${bars}</svg>`;
}

function histograms(steps: readonly StepLatencies[]): string {
  if (steps.length === 0) return '<p>No attempt spans were found in Jaeger.</p>';
  const ordered = [...steps].sort((a, b) => stepRank(a.step) - stepRank(b.step) || a.step.localeCompare(b.step));
  return ordered
    .map((s) => {
      const f = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(1));
      return `<div class="hist"><h3>${escapeHtml(s.step)}</h3><p>${s.durationsMs.length} spans · p50 ${f(percentile(s.durationsMs, 50))} ms · p99 ${f(percentile(s.durationsMs, 99))} ms</p>${histogramSvg(s.durationsMs)}</div>`;
    })
    .join('\n');
}

function traceSection(trace: PodTrace | undefined): string {
  if (!trace) return '<p>No trace could be confirmed in Jaeger.</p>';
  return `<p>Pod <b>${escapeHtml(`${trace.namespace}/${trace.name}`)}</b>: trace <code>${escapeHtml(trace.traceId)}</code>, ${trace.spans} spans from ${escapeHtml(trace.services.join(', '))}. While the demo runs: ${
    trace.uiAvailable ? `<a href="${escapeHtml(trace.uiUrl)}">${escapeHtml(trace.uiUrl)}</a>, ` : ''
  }the JSON at <a href="${escapeHtml(trace.apiUrl)}">${escapeHtml(trace.apiUrl)}</a>${trace.uiAvailable ? '' : ' (this Jaeger build serves no UI assets)'}.</p>`;
}

/** The whole page. */
export function renderReport(data: ReportData): string {
  const bound = data.pods.filter((p) => p.state === 'bound').length;
  const refused = data.pods.filter((p) => p.state === 'refused').length;
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>schedmesh demo report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;margin:.5em 0}
.heat th{text-align:left;padding:2px 8px;font-weight:normal;color:#555}
.heat .cell{width:26px;height:22px;text-align:center;font-size:11px;border:1px solid #fff}
.heat .total{padding-left:8px;color:#555}
.list td,.list th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}
.hist{display:inline-block;margin:0 2em 1em 0;vertical-align:top}.hist h3{margin:.2em 0;font-size:14px}.hist p{margin:0;font-size:12px;color:#555}
.note{color:#666;font-size:12px}.note-box{background:#fff6d8;border:1px solid #e8d38a;padding:.6em 1em}
</style></head><body>
<h1>schedmesh demo</h1>
<p class="sub">${escapeHtml(data.generatedAt)} · ${data.pods.length} pods in ${(data.durationMs / 1000).toFixed(1)} s: ${bound} bound, ${refused} refused, ${data.pods.length - bound - refused} not settled · ${data.nodes.length} nodes · REST plugins: ${escapeHtml(data.plugins.run.join(', ') || 'none')}${data.plugins.skipped.length ? ` (not built, skipped: ${escapeHtml(data.plugins.skipped.join(', '))})` : ''}</p>
${data.note ? `<p class="note-box">${escapeHtml(data.note)}</p>\n` : ''}<h2>Placement: zone × rack × node</h2>
${heatMap(data.nodes, data.pods)}
<h2>Refused pods</h2>
${refusals(data.pods)}
<h2>Latency per scheduling step</h2>
<p class="note">From Jaeger: every <code>schedule_one</code> span of the scheduler (one per attempt) and its child spans, one per step, in milliseconds.</p>
${histograms(data.steps)}
<h2>One pod's trace</h2>
${traceSection(data.trace)}
<script type="application/json" id="demo-data">${json}</script>
</body></html>
`;
}

/** Reads the embedded data back from a report. */
export function reportData(html: string): ReportData {
  const m = /<script type="application\/json" id="demo-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no demo-data in the report');
  return JSON.parse(m[1]!) as ReportData;
}
