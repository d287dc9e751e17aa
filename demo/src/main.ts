// `npm start`: the whole schedmesh mesh on a local control plane, a sample
// cluster scheduled live, and demo-report.html. Ctrl-C or SIGTERM stops
// everything it started (each child leads its own process group), and so does
// a crash of the demo itself.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ClusterBinaryMissingError, pollUntil, requireBinary } from '@schedmesh/testkit';

import { ProgressDisplay } from './console.js';
import { runFixtureMode } from './fixture-mode.js';
import type { Mesh } from './mesh.js';
import { parseOptions, USAGE } from './options.js';
import type { DemoOptions } from './options.js';
import { listDemoPods, listNodes, refusalsByReason } from './placements.js';
import type { NodeView, PodView } from './placements.js';
import { availablePlugins } from './plugins.js';
import type { DemoPlugin } from './plugins.js';
import { ensurePortFree, PortInUseError } from './ports.js';
import { renderReport } from './report.js';
import type { ReportData } from './report.js';
import { samplePods } from './sample.js';
import { seedCluster, submitPods } from './seed.js';
import { StackHandles, startStack } from './stack.js';
import type { Stack } from './stack.js';
import { attemptCount, attemptTraces, podTrace, stepLatencies } from './traces.js';
import type { PodTrace } from './traces.js';
import { startWatchdog } from './watchdog.js';
import type { Watchdog } from './watchdog.js';

const ROOT = join(__dirname, '..', '..');
const POLL_MS = 500;

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** The pod whose trace is shown: a gang member (its trace has a Permit wait), else any bound pod. */
function tracedPod(pods: readonly PodView[]): PodView | undefined {
  const bound = pods.filter((p) => p.state === 'bound');
  return bound.find((p) => p.feature === 'gang') ?? bound[0];
}

async function followPods(stack: Stack, total: number, opts: DemoOptions, started: number): Promise<{ pods: PodView[]; nodes: NodeView[] }> {
  const display = new ProgressDisplay(process.stdout, total);
  const nodes = await listNodes(stack.cp.core);
  let pods: PodView[] = [];
  const settled = (): boolean => pods.length === total && pods.every((p) => p.state === 'bound' || p.state === 'refused');
  await pollUntil(
    async () => {
      pods = await listDemoPods(stack.cp.core);
      display.update(pods, nodes, Date.now() - started);
      return settled() ? true : undefined;
    },
    { what: `${total} pods bound or refused`, timeoutMs: opts.timeoutMs, intervalMs: POLL_MS },
  ).catch((err: unknown) => say(`\n${(err as Error).message}: reporting what settled`));
  display.finish(pods, nodes, Date.now() - started);
  return { pods, nodes };
}

function printRefusals(pods: readonly PodView[]): void {
  const groups = refusalsByReason(pods);
  if (groups.length === 0) return;
  say('\nrefused pods, by reason (as the scheduler gave it):');
  for (const g of groups) {
    const names = g.pods.map((p) => `${p.namespace}/${p.name}`).sort();
    say(`  ${String(g.pods.length).padStart(3)} × ${g.reason}\n        ${names.slice(0, 6).join(', ')}${names.length > 6 ? `, … (${names.length - 6} more)` : ''}`);
  }
}

/** What either mode produced: the report's content and the processes to watch afterwards. */
interface Outcome {
  readonly report: Omit<ReportData, 'generatedAt' | 'plugins'>;
  readonly mesh: Mesh;
  readonly keepRunningNote: string;
}

async function runCluster(opts: DemoOptions, plugins: readonly DemoPlugin[], handles: StackHandles, watchdog: Watchdog): Promise<Outcome> {
  const started = Date.now();
  const stack = await startStack(
    {
      root: ROOT,
      plugins,
      ...(opts.jaegerPort !== undefined ? { jaegerPort: opts.jaegerPort } : {}),
      say,
      prepare: async (cp) => {
        const nodes = await seedCluster(cp, ROOT);
        say(`sample cluster: ${nodes} nodes (3 zones × 2 racks × 10, and a GPU pool, half of it attested), 3 AdmissionPolicies, tenant RBAC`);
      },
    },
    handles,
  );
  watchdog.removeOnKill(stack.dirs);
  say(`mesh up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${stack.mesh.services.map((s) => s.name).join(', ')}`);
  for (const p of plugins) say(`  plugin ${p.name} (gateway plugins ${p.gatewayPlugins.map((g) => g.name).join(', ')}): ${p.shows}`);
  say(`  export KUBECONFIG=${stack.cp.kubeconfigPath}    logs: ${stack.runDir}`);
  writeState(opts, { pid: process.pid, watchdog: watchdog.pid, dirs: stack.dirs, groups: stack.groups(), kubeconfig: stack.cp.kubeconfigPath, runDir: stack.runDir, jaeger: stack.jaeger.queryUrl });

  say(`  GPU attestations signed with a throw-away Ed25519 key: ${stack.mesh.attestation.privateKeyFile}`);
  const pods = samplePods(opts.pods, { gangTimeoutSeconds: opts.gangTimeoutSeconds, attest: stack.mesh.attestation.sign });
  const submitted = Date.now();
  say(`submitting ${pods.length} pods with schedulerName: schedmesh`);
  await submitPods(stack.cp, pods);
  const { pods: views, nodes } = await followPods(stack, pods.length, opts, submitted);
  const durationMs = Date.now() - submitted;
  printRefusals(views);

  let trace: PodTrace | undefined;
  const chosen = tracedPod(views);
  if (chosen) {
    trace = await podTrace(stack.mesh.schedulerAddress, stack.jaeger.queryUrl, chosen).catch((err: unknown) => {
      say(`\nno trace for ${chosen.namespace}/${chosen.name}: ${(err as Error).message}`);
      return undefined;
    });
    if (trace) {
      say(`\ntrace of ${trace.namespace}/${trace.name} in Jaeger (${trace.spans} spans: ${trace.services.join(', ')}):`);
      say(trace.uiAvailable ? `  ${trace.uiUrl}\n  ${trace.apiUrl} (JSON)` : `  ${trace.apiUrl} (JSON; this Jaeger build serves no UI assets, so ${trace.uiUrl} shows a placeholder)`);
    }
  }
  const scheduler = stack.mesh.services.find((s) => s.name === 'scheduler')!;
  const steps = stepLatencies(await attemptTraces(stack.jaeger.queryUrl, await attemptCount(scheduler.httpUrl)).catch(() => []));
  return {
    report: { durationMs, nodes, pods: views, steps, ...(trace ? { trace } : {}) },
    mesh: stack.mesh,
    keepRunningNote: `the mesh keeps running (Jaeger ${stack.jaeger.queryUrl}, KUBECONFIG above)`,
  };
}

async function runFixture(opts: DemoOptions, plugins: readonly DemoPlugin[], handles: StackHandles, watchdog: Watchdog, missing: Error): Promise<Outcome> {
  say(`cluster binaries missing: ${missing.message}`);
  say('falling back to fixture mode: the informer publishes the sample cluster from a YAML file and the demo asks the scheduler (Schedule RPC) for each pod;');
  say('without an API server nothing is bound, no events are written, tenant RBAC is not reviewed (the tenant policy fails open), and without Jaeger there are no traces (see demo/README.md).');
  const run = await runFixtureMode({ root: ROOT, pods: opts.pods, gangTimeoutSeconds: opts.gangTimeoutSeconds, plugins, handles, say });
  watchdog.removeOnKill([run.runDir]);
  writeState(opts, { pid: process.pid, watchdog: watchdog.pid, dirs: [run.runDir], groups: handles.groups(), runDir: run.runDir });
  printRefusals(run.pods);
  return {
    report: { durationMs: run.durationMs, nodes: run.nodes, pods: run.pods, steps: run.steps, note: FIXTURE_NOTE },
    mesh: run.mesh,
    keepRunningNote: 'the mesh keeps running (fixture mode)',
  };
}

const FIXTURE_NOTE =
  'Fixture mode (no cluster binaries): the informer published the sample cluster from a YAML file; placements are the scheduler\'s Schedule RPC answers, each holding a lease in Redis — nothing was bound (no API server), tenant RBAC was not reviewed (no SubjectAccessReview: the tenant policy is written with failurePolicy Ignore, so the intern\'s GPU pods are admitted, and then refused by gpu-attestation for want of an attestation), latencies are the answers\' step results, and there is no trace (no Jaeger).';

function writeState(opts: DemoOptions, state: Record<string, unknown>): void {
  if (opts.statePath) writeFileSync(opts.statePath, `${JSON.stringify(state, null, 2)}\n`);
}

/** The first cluster binary that is missing, or undefined when all are built. */
function missingBinary(): Error | undefined {
  for (const b of ['etcd', 'kube-apiserver', 'kubectl', 'jaeger'] as const) {
    try {
      requireBinary(b);
    } catch (err) {
      if (err instanceof ClusterBinaryMissingError) return err;
      throw err;
    }
  }
  return undefined;
}

async function run(opts: DemoOptions, handles: StackHandles, watchdog: Watchdog): Promise<void> {
  if (opts.jaegerPort !== undefined) await ensurePortFree(opts.jaegerPort, '--jaeger-port (Jaeger UI and query API)');
  const plugins = availablePlugins(ROOT);
  for (const p of plugins.skipped) say(`plugin ${p.name}: ${p.main} is not built, skipped (slot in demo/src/plugins.ts)`);
  const missing = opts.fixture ? new Error('--fixture asked for fixture mode') : missingBinary();
  const outcome = missing ? await runFixture(opts, plugins.run, handles, watchdog, missing) : await runCluster(opts, plugins.run, handles, watchdog);
  writeFileSync(
    opts.reportPath,
    renderReport({ ...outcome.report, generatedAt: new Date().toISOString(), plugins: { run: plugins.run.map((p) => p.name), skipped: plugins.skipped.map((p) => p.name) } }),
  );
  say(`\nreport: ${opts.reportPath}`);
  if (opts.exitWhenDone) return;
  say(`\n${outcome.keepRunningNote}; Ctrl-C stops everything.`);
  // Until a signal, or a process of the demo dying on its own.
  const died = await Promise.race([...outcome.mesh.services.map((s) => s.process), ...outcome.mesh.plugins].map((p) => p.exited.then(() => p)));
  throw new Error(`${died.name} exited on its own; last lines of ${died.logPath}:\n${died.logTail(20)}`);
}

function main(): void {
  let opts: DemoOptions | undefined;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (!opts) {
    say(USAGE);
    return;
  }
  const handles = new StackHandles();
  const watchdog = startWatchdog();
  handles.add(async () => watchdog.stop());
  let exiting = false;
  const shutdown = (code: number, why?: string): void => {
    if (exiting) return;
    exiting = true;
    if (why) process.stderr.write(`\ndemo: ${why}\n`);
    // Stop, and exit whatever happens: the spawn helpers SIGKILL any group left at exit.
    const force = setTimeout(() => process.exit(code), 30_000);
    void handles.stop().finally(() => {
      clearTimeout(force);
      process.exit(code);
    });
  };
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      say(`\n${signal}: stopping everything the demo started...`);
      shutdown(code);
    });
  }
  process.on('uncaughtException', (err) => shutdown(1, `crashed: ${err.stack ?? String(err)}`));
  process.on('unhandledRejection', (err) => shutdown(1, `crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  run(opts, handles, watchdog).then(
    () => shutdown(0),
    (err: unknown) => {
      if (err instanceof PortInUseError || err instanceof ClusterBinaryMissingError) shutdown(2, err.message);
      else shutdown(1, err instanceof Error ? (err.stack ?? err.message) : String(err));
    },
  );
}

main();
