// npm run fidelity [-- --seed N --cases N --min-nodes N --max-nodes N --out DIR | --case FILE.yaml]
// Runs seeded cases (default 500 of seed 1, 5–200 nodes) side by side on
// kube-scheduler and schedmesh and writes the report; --case replays one
// case file of a report. Starts its own NATS and Redis; needs the control
// plane binaries (SCHEDMESH_CLUSTER_BIN or npm run cluster:build).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { startNats, startRedis, testEnvKeys } from '@schedmesh/testkit';
import { readCaseFile } from './case.js';
import { generateCases } from './generator.js';
import { runSession } from './session.js';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      cases: { type: 'string' },
      'min-nodes': { type: 'string' },
      'max-nodes': { type: 'string' },
      out: { type: 'string' },
      case: { type: 'string' },
    },
  });
  const seed = positiveInt('seed', values.seed, 1);
  const minNodes = positiveInt('min-nodes', values['min-nodes'], 5);
  const maxNodes = positiveInt('max-nodes', values['max-nodes'], 200);
  if (minNodes < 1 || maxNodes < minNodes) throw new Error(`--min-nodes/--max-nodes: expected 1 <= min <= max, got ${minNodes}..${maxNodes}`);
  const cases = values.case ? [readCaseFile(values.case)] : generateCases(seed, positiveInt('cases', values.cases, 500), { minNodes, maxNodes });
  const outDir = resolve(values.out ?? '.tmp/fidelity');

  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  process.env[testEnvKeys.natsUrl] = nats.url;
  process.env[testEnvKeys.redisUrl] = redis.url;
  // Interrupted, stop the servers and exit: the exit hook of the test kit
  // kills the control plane; the report of the cases done so far stays.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping\n`);
      void Promise.all([nats.stop(), redis.stop()]).finally(() => process.exit(130));
    });
  }
  try {
    const started = Date.now();
    const report = await runSession({
      seed,
      cases,
      outDir,
      onCase: (done, total, c) => {
        const flags = c.disagreements.map((d) => `${d.aspect}${d.plugin ? `:${d.plugin}` : ''}`).join(' ');
        process.stdout.write(`[${done}/${total}] ${c.caseName} ${flags === '' ? 'agree' : `DIFFER ${flags}`} (${Math.round((Date.now() - started) / 1000)} s)\n`);
      },
    });
    for (const [aspect, t] of Object.entries(report.aspects)) process.stdout.write(`${aspect}: ${t.agreed}/${t.compared}\n`);
    process.stdout.write(`report: ${outDir}/report.md (${report.disagreements.length} disagreements, ${report.undocumented} undocumented)\n`);
    return report.undocumented === 0 ? 0 : 1;
  } finally {
    await Promise.all([nats.stop(), redis.stop()]);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
