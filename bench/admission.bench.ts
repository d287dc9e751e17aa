// Admission benchmark: Admit latency with 100 AdmissionPolicies in force and
// the SubjectAccessReview cache hit ratio in a steady state.
//   npm run build && npx tsx bench/admission.bench.ts
// Real servers: nats-server (the policies arrive on the cluster stream), etcd +
// kube-apiserver of test/cluster (real SubjectAccessReviews against RBAC),
// gRPC on loopback. Prints a table; the baseline is the same Admit call with
// no policy in force, measured in the same run.
// Knobs: BENCH_CALLS (default 5,000 measured calls per phase), BENCH_CONCURRENCY (default 8).
import { execFile } from 'node:child_process';

import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import { AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import type { ClusterEvent, Pod } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { admissionPod, hostPathVolume, loopbackConfig, namespaceEvent, policyEvent, requireBinary, startControlPlane, startNats } from '@schedmesh/testkit';
import { runBench } from './support.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const POLICIES = 100;
const NAMESPACES = 20;
const SERVICE_ACCOUNTS = 5;
const POOLS = 4;
const CACHE_TTL_MS = 2_000;

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** 100 policies: every kind of block, targeting by name and by selector. */
function policies(): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  for (let i = 0; i < POLICIES; i++) {
    const ns = `team-${i % NAMESPACES}`;
    const target = i % 2 === 0 ? { names: [ns] } : { selectors: [{ matchLabels: { tier: i % 4 === 1 ? 'gold' : 'silver' } }] };
    const spec: Record<string, unknown> = { targetNamespaces: target };
    switch (i % 5) {
      case 0:
        spec.hostPath = { platform: [{ path: '/var/log', readOnly: true }, { path: '/data' }], namespaces: [{ namespace: ns, paths: [{ path: `/data/${ns}` }] }] };
        break;
      case 1:
        spec.hibernation = { apps: [`sleepy-${i}`] };
        break;
      case 2:
        // Every tenant namespace: each Admit asks 2 questions per RBAC policy (20 policies).
        spec.targetNamespaces = { selectors: [{ matchLabels: { tenant: 'true' } }] };
        spec.tenantRBAC = { nodePools: [`pool-${i % POOLS}`, `pool-${(i + 1) % POOLS}`], openPools: ['general'] };
        break;
      case 3:
        spec.hostPath = { workloads: [{ name: `w${i}`, selector: { matchLabels: { app: 'collector' } }, paths: [{ path: '/run/collector' }] }] };
        break;
      default:
        spec.rejectIfNotMatch = false;
    }
    out.push(policyEvent(`policy-${String(i).padStart(3, '0')}`, spec));
  }
  return out;
}

function pods(): Pod[] {
  const out: Pod[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    for (let s = 0; s < SERVICE_ACCOUNTS; s++) {
      const ns = `team-${n}`;
      out.push(admissionPod(`web-${s}`, ns, { serviceAccountName: `sa-${s}`, labels: { app: 'web' }, volumes: [hostPathVolume('logs', '/var/log/pods', true), hostPathVolume('data', `/data/${ns}/cache`)] }));
    }
  }
  return out;
}

async function main(): Promise<void> {
  const kubectlBin = requireBinary('kubectl');
  const [cp, nats] = await Promise.all([startControlPlane(), startNats()]);
  const kubectl = (args: string[], input: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, ...args], (err, _out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve()));
      child.stdin?.end(input);
    });
  // sa-0 and sa-1 of even namespaces may use pool-0.
  const rbac: object[] = [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'pool-0-user' }, rules: [{ apiGroups: ['schedmesh.io'], resources: ['nodepools'], resourceNames: ['pool-0'], verbs: ['use'] }] }];
  for (let n = 0; n < NAMESPACES; n += 2) {
    rbac.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${n}` } });
    rbac.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { namespace: `team-${n}`, name: 'pool-0' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pool-0-user' },
      subjects: [0, 1].map((s) => ({ kind: 'ServiceAccount', name: `sa-${s}`, namespace: `team-${n}` })),
    });
  }
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));

  const config = loopbackConfig(admissionConfigSchema, nats.url, { kubernetes: { cacheTtl: CACHE_TTL_MS } });
  await ensureClusterStreamFrom(config.nats); // no informer here: the bench stands in for it
  const app = await startAdmissionApp(config, { handleSignals: false, kubeConfig: cp.kubeConfig });
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  const channel = connectChannel(`127.0.0.1:${app.grpcPort}`);
  const client = createServiceClient(AdmissionServiceDefinition, channel, { defaultDeadlineMs: 10_000 });
  const allPods = pods();
  let seq = 0;
  for (let n = 0; n < NAMESPACES; n++) seq = (await publishClusterEvent(js, namespaceEvent(`team-${n}`, { tenant: 'true', tier: n % 2 === 0 ? 'gold' : 'silver' }))).seq;

  const phase = async (calls: number): Promise<{ latencies: number[]; seconds: number; decisions: Map<string, number> }> => {
    const latencies: number[] = [];
    const decisions = new Map<string, number>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < calls) {
          const pod = allPods[next++ % allPods.length]!;
          const t = performance.now();
          const reply = await client.admit({ pod, minGeneration: seq });
          latencies.push(performance.now() - t);
          decisions.set(reply.reasonCode, (decisions.get(reply.reasonCode) ?? 0) + 1);
        }
      }),
    );
    return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - started) / 1000, decisions };
  };
  const cacheCounts = async (): Promise<Record<string, number>> => {
    const metric = await app.metrics.sarCache.get();
    return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
  };

  try {
    // Baseline: the same calls, no policy in force.
    await phase(500);
    const baseline = await phase(CALLS);

    for (const e of policies()) seq = (await publishClusterEvent(js, e)).seq;
    // Warm-up: fills the SubjectAccessReview cache.
    await phase(1_000);
    const before = await cacheCounts();
    const reviewsBefore = (await app.metrics.sarReviews.get()).values.reduce((a, v) => a + v.value, 0);
    const measured = await phase(CALLS);
    const after = await cacheCounts();
    const reviews = (await app.metrics.sarReviews.get()).values.reduce((a, v) => a + v.value, 0) - reviewsBefore;
    const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
    const lookups = delta('hit') + delta('miss') + delta('coalesced');

    // The same pods straight into the admitter: the evaluation cost without gRPC.
    const never = new AbortController().signal;
    const local: number[] = [];
    const localStarted = performance.now();
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await app.admitter.admit(allPods[i % allPods.length]!, never);
      local.push(performance.now() - t);
    }
    const inProcess = { latencies: local.sort((a, b) => a - b), seconds: (performance.now() - localStarted) / 1000, decisions: new Map<string, number>() };

    const row = (name: string, r: Awaited<ReturnType<typeof phase>>): string =>
      `| ${name.padEnd(36)} | ${fmt(percentile(r.latencies, 50), 3).padStart(8)} | ${fmt(percentile(r.latencies, 99), 3).padStart(8)} | ${fmt(r.latencies.reduce((a, b) => a + b, 0) / r.latencies.length, 3).padStart(8)} | ${fmt(r.latencies.length / r.seconds).padStart(9)} |`;
    log('');
    log(`admission benchmark: ${POLICIES} policies, ${NAMESPACES} namespaces, ${allPods.length} distinct pods (${SERVICE_ACCOUNTS} service accounts per namespace), ${CALLS} calls per phase, concurrency ${CONCURRENCY}, gRPC on loopback`);
    log('');
    log('| phase                                | p50 (ms) | p99 (ms) | mean (ms)|  calls/s  |');
    log('|--------------------------------------|----------|----------|----------|-----------|');
    log(row('baseline: no policy in force', baseline));
    log(row(`${POLICIES} policies, SAR cache warm`, measured));
    log(row(`${POLICIES} policies, in-process, sequential`, inProcess));
    log('');
    log(`p50 ratio to baseline: ${fmt(percentile(measured.latencies, 50) / percentile(baseline.latencies, 50), 2)}x; p99 ratio: ${fmt(percentile(measured.latencies, 99) / percentile(baseline.latencies, 99), 2)}x`);
    log(`SubjectAccessReview cache, steady state (TTL ${CACHE_TTL_MS} ms, measured phase ${fmt(measured.seconds, 1)} s): ${fmt(delta('hit'))} hits, ${fmt(delta('coalesced'))} coalesced, ${fmt(delta('miss'))} misses of ${fmt(lookups)} lookups → hit ratio ${fmt((100 * (delta('hit') + delta('coalesced'))) / Math.max(1, lookups), 2)} %; ${fmt(reviews)} reviews sent to the API server`);
    log(`decisions in the measured phase: ${[...measured.decisions].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  } finally {
    channel.close();
    await nc.close();
    await app.stop();
    await Promise.all([cp.stop(), nats.stop()]);
  }
}

runBench('admission', main);
