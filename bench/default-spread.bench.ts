// Default spreading benchmark: what finding a pod's Services and controller
// costs an Evaluate. The same pod is evaluated two ways on the same replica,
// interleaved so that both see the same machine load: spread by the system
// default constraints through its Service and ReplicaSet (the selector built
// from SERVICES Services per namespace and a ReplicaSet lookup), and, as the
// baseline, declaring the very constraints and selector itself. The ratio is
// the cost of the lookup.
//   npm run build && npx tsx bench/default-spread.bench.ts
// BENCH_NODES (default 5000), BENCH_SERVICES (per namespace, default 200), BENCH_EVALS (default 300).
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import { Pod, SelectorOperator, UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, LabelSelector, TopologySpreadConstraint } from '@schedmesh/proto/v1/types';
import { ensureClusterStreamFrom } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, freePort, makeNode, makePod, startNats } from '@schedmesh/testkit';
import { printTable, publishAll, runBench } from './support.js';

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 200);
const EVALS = Number(process.env.BENCH_EVALS ?? 300);
const WARMUP = 30;
const NAMESPACES = 3;
const PODS_PER_NODE = 5;
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const upsert = 1;

function cluster(): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (let n = 0; n < NODES; n++) events.push(clusterEvent(makeNode(`node-${n}`).capacity('32', '128Gi', 110).zone(`zone-${n % 3}`).build()));
  for (let n = 0; n < NODES; n++) {
    for (let p = 0; p < PODS_PER_NODE; p++) {
      const app = `app-${(n + p) % SERVICES}`;
      events.push(clusterEvent(makePod(`${app}-${n}-${p}`, `ns-${p % NAMESPACES}`).requests('500m', '1Gi').label('app', app).label('rs', `${app}-rs`).on(`node-${n}`).build()));
    }
  }
  for (let ns = 0; ns < NAMESPACES; ns++) {
    for (let s = 0; s < SERVICES; s++) {
      const namespace = `ns-${ns}`;
      const app = `app-${s}`;
      events.push({ generation: 0, type: upsert, object: { $case: 'service', value: { namespace, name: app, resourceVersion: '1', selector: { matchLabels: { app }, matchExpressions: [] } } } });
      events.push({ generation: 0, type: upsert, object: { $case: 'replicaSet', value: { namespace, name: `${app}-rs`, resourceVersion: '1', selector: { matchLabels: { app, rs: `${app}-rs` }, matchExpressions: [] } } } });
    }
  }
  return events;
}

/** The pod of Service app-i, owned by its ReplicaSet; with `explicit`, it declares what the defaults would give it. */
function incoming(i: number, explicit: boolean): Pod {
  const app = `app-${i % SERVICES}`;
  const pod = makePod(`incoming-${i}`, 'ns-0').requests('1', '2Gi').label('app', app).label('rs', `${app}-rs`).owner(`ReplicaSet/${app}-rs`).build();
  if (explicit) {
    // The default selector: the Service's labels, then the ReplicaSet's as requirements.
    const selector: LabelSelector = {
      matchLabels: { app },
      matchExpressions: [
        { key: 'app', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: [app] },
        { key: 'rs', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: [`${app}-rs`] },
      ],
    };
    const soft = (maxSkew: number, topologyKey: string): TopologySpreadConstraint => ({
      maxSkew,
      topologyKey,
      whenUnsatisfiable: UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY,
      labelSelector: selector,
      minDomains: undefined,
      nodeAffinityPolicy: 0,
      nodeTaintsPolicy: 0,
      matchLabelKeys: [],
    });
    pod.topologySpreadConstraints.push(soft(3, 'kubernetes.io/hostname'), soft(5, 'topology.kubernetes.io/zone'));
  }
  return Pod.fromPartial(pod);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  log(`default spreading benchmark: ${NODES} nodes, ${NODES * PODS_PER_NODE} pods, ${SERVICES} Services and ReplicaSets in each of ${NAMESPACES} namespaces; ${EVALS} interleaved Evaluate pairs after ${WARMUP}, in-process`);
  const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
  const nats = await startNats();
  const snapshotPort = await freePort();
  const snapshotConfig = snapshotConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: snapshotPort }, nats: { url: nats.url } });
  await ensureClusterStreamFrom(snapshotConfig.nats); // no informer here: the bench stands in for it
  const snapshot = await startSnapshotApp(snapshotConfig, { handleSignals: false });
  const head = await publishAll(nats.url, cluster());
  const app = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: 0 }, snapshot: { address: `127.0.0.1:${snapshotPort}` } }), { handleSignals: false });
  while (!(app.replica.gate.synced && app.replica.generation >= head)) await new Promise((r) => setTimeout(r, 20));

  const options = { profile: '', minGeneration: 0, nodeNames: [], signal: new AbortController().signal };
  const evaluate = async (i: number, explicit: boolean): Promise<number> => {
    const t0 = performance.now();
    await app.engine.evaluate(incoming(i, explicit), options, 10);
    return performance.now() - t0;
  };
  // Same ranking both ways, or the comparison means nothing.
  const [a, b] = await Promise.all([app.engine.evaluate(incoming(1, false), options, 10), app.engine.evaluate(incoming(1, true), options, 10)]);
  // (Totals only: nodes that tie are ranked in a rotating order.)
  const totals = (r: typeof a): string => JSON.stringify(r.result.ranked.map((n) => n.total).sort((x, y) => y - x));
  if (totals(a) !== totals(b)) throw new Error(`default and explicit constraints score differently:\n${totals(a)}\n${totals(b)}`);

  for (let i = 0; i < WARMUP; i++) await evaluate(i, i % 2 === 0);
  const byDefault: number[] = [];
  const declared: number[] = [];
  for (let i = 0; i < EVALS; i++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      byDefault.push(await evaluate(i, false));
      declared.push(await evaluate(i, true));
    } else {
      declared.push(await evaluate(i, true));
      byDefault.push(await evaluate(i, false));
    }
  }
  printTable(log, ['constraints', 'p50 ms', 'ratio to declared'], [
    ['declared by the pod (baseline)', fmt(median(declared)), '1.00×'],
    ['system defaults via Service + ReplicaSet', fmt(median(byDefault)), `${fmt(median(byDefault) / median(declared))}×`],
  ]);
  await app.stop();
  await snapshot.stop();
  await nats.stop();
}

runBench('default-spread', main);
