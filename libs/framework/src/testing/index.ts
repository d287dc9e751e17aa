/**
 * Plugin and runner tests' helpers, in the spirit of upstream's plugin tests:
 * run one plugin (or a few) through the framework, point by point. The pod,
 * node and selector builders (upstream's st.MakePod()/st.MakeNode():
 * `pod('p').label('foo', '').spread(...)`) are the test kit's, re-exported
 * here under the names the tests use. Test support only: src/testing/ is
 * never built into dist/.
 */
import type { Pod } from '@schedmesh/proto/v1/types';
import { resolveSchedulerConfig } from '../config.js';
import type { ResolvedProfile } from '../config.js';
import { CycleState } from '../cycle-state.js';
import { Framework } from '../framework.js';
import { PluginNames } from '../names.js';
import type { NodeInfo } from '../node-info.js';
import { newPodInfo } from '../pod-info.js';
import { inTreeRegistry } from '../plugins/registry.js';
import type { SnapshotLister } from '../snapshot.js';
import type { Status } from '../status.js';

export { affinityTerm, doesNotExistReq, existsReq, inReq, namespace, node, NodeBuilder, notInReq, pod, PodBuilder, selector } from '@schedmesh/testkit';
export type { ContainerRequests } from '@schedmesh/testkit';

// ---------------------------------------------------------------------------
// Running one plugin the way upstream's plugin tests do.

/** A framework whose profile enables only `plugin` (and PrioritySort), with its args. */
export function singlePluginFramework(plugin: string, snapshot: SnapshotLister, args?: unknown): Framework {
  return frameworkWith([plugin], snapshot, args === undefined ? {} : { [plugin]: args });
}

/** A framework whose profile enables only these plugins (and PrioritySort), in this order, with their args. */
export function frameworkWith(plugins: readonly string[], snapshot: SnapshotLister, args: Readonly<Record<string, unknown>> = {}): Framework {
  const config = resolveSchedulerConfig(
    {
      profiles: [
        {
          plugins: { multiPoint: { enabled: [...new Set([PluginNames.PrioritySort, ...plugins])].map((name) => ({ name })), disabled: [{ name: '*' }] } },
          pluginConfig: Object.entries(args).map(([name, a]) => ({ name, args: a })),
        },
      ],
    },
    inTreeRegistry(),
  );
  return new Framework({ profile: config.profiles[0] as ResolvedProfile, registry: inTreeRegistry(), snapshot: () => snapshot });
}

const NEVER = new AbortController().signal;

/** PreFilter, then Filter on every node: each node's status (PreFilter's status for all when it rejects; Success for nodes a PreFilter result excludes is not used). */
export async function filterEach(fwk: Framework, p: Pod): Promise<{ preFilter: Status; statuses: Map<string, Status>; nodeNames: ReadonlySet<string> | undefined }> {
  const state = new CycleState();
  const info = newPodInfo(p);
  const pre = await fwk.runPreFilterPlugins(state, info, NEVER);
  const statuses = new Map<string, Status>();
  for (const n of fwk.snapshot().nodeInfos()) statuses.set(n.name, pre.status.isSuccess() ? fwk.runFilterPlugins(state, info, n) : pre.status);
  return { preFilter: pre.status, statuses, nodeNames: pre.nodeNames };
}

/** PreScore, Score and NormalizeScore over the named nodes (all by default): normalized scores before weights, in node order. */
export async function scoreEach(fwk: Framework, p: Pod, nodeNames?: readonly string[]): Promise<{ name: string; score: number }[]> {
  const state = new CycleState();
  const info = newPodInfo(p);
  const snapshot = fwk.snapshot();
  const nodes = nodeNames === undefined ? [...snapshot.nodeInfos()] : nodeNames.map((n) => snapshot.nodeInfo(n) as NodeInfo);
  await fwk.runPreScorePlugins(state, info, nodes, NEVER);
  return fwk.runScorePlugins(state, info, nodes).map((s) => ({ name: s.name, score: s.scores[0]?.score ?? 0 }));
}

/** Whether PreScore skipped the plugin for the pod. */
export async function preScoreSkips(fwk: Framework, p: Pod): Promise<boolean> {
  const state = new CycleState();
  await fwk.runPreScorePlugins(state, newPodInfo(p), fwk.snapshot().nodeInfos(), NEVER);
  return state.skipScorePlugins.size > 0;
}
