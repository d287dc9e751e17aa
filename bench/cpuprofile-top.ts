// Prints the hottest functions of a V8 .cpuprofile (BENCH_CPU_PROF=DIR in a
// benchmark writes one): self time and total (inclusive) time, each as a share
// of the samples, as a flame graph's widest frames would show them.
//   npx tsx bench/cpuprofile-top.ts FILE [ROWS]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npx tsx bench/cpuprofile-top.ts FILE [ROWS]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const frame = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url.replace(/^.*\/(node_modules|libs|services|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
};

const self = new Map<string, number>();
const total = new Map<string, number>();
for (const id of profile.samples) {
  const leaf = byId.get(id);
  if (!leaf) continue;
  self.set(frame(leaf), (self.get(frame(leaf)) ?? 0) + 1);
  // A recursive frame counts once per sample in its total.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = frame(byId.get(at)!);
    if (seen.has(f)) continue;
    seen.add(f);
    total.set(f, (total.get(f) ?? 0) + 1);
  }
}
const n = profile.samples.length;
const pct = (v: number): string => `${((100 * v) / n).toFixed(1).padStart(5)}%`;
const top = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, rows);
const out = (line: string): void => void process.stdout.write(`${line}\n`);
out(`${n} samples`);
out('\nself');
for (const [f, v] of top(self)) out(`${pct(v)}  ${f}`);
out('\ntotal');
for (const [f, v] of top(total)) out(`${pct(v)}  ${f}`);
