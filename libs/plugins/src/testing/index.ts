/**
 * Running one plugin the way upstream's plugin tests do: a framework whose
 * profile enables only the plugins under test, and the points run node by
 * node. The fixture builders are the framework's (@schedmesh/testkit),
 * re-exported so a plugin's test imports one module. Test support only (not
 * exported from the package index).
 */
import { CycleState, PluginNames } from '@schedmesh/framework';
import type { NodeInfo, SnapshotLister, Status } from '@schedmesh/framework';
import type { Pod } from '@schedmesh/proto/v1/types';
import { Framework, newPodInfo, resolveProfiles } from '@schedmesh/scheduling';
import type { ResolvedProfile } from '@schedmesh/scheduling';
import { inTreeRegistry } from '../registry.js';

export {
  affinityTerm,
  doesNotExistReq,
  existsReq,
  inReq,
  namespace,
  node,
  NodeBuilder,
  notInReq,
  pod,
  PodBuilder,
  selector,
} from '@schedmesh/testkit';
export type { ContainerRequests } from '@schedmesh/testkit';

/** A framework whose profile enables only `plugin` (and PrioritySort), with its args. */
export function singlePluginFramework(plugin: string, snapshot: SnapshotLister, args?: unknown): Framework {
  return frameworkWith([plugin], snapshot, args === undefined ? {} : { [plugin]: args });
}

/** A framework whose profile enables only these plugins (and PrioritySort), in this order, with their args. */
export function frameworkWith(plugins: readonly string[], snapshot: SnapshotLister, args: Readonly<Record<string, unknown>> = {}): Framework {
  const config = resolveProfiles(
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
  return fwk.runScorePlugins(state, info, nodes).nodes.map((s) => ({ name: s.name, score: s.scores[0]?.score ?? 0 }));
}

/** Whether PreScore skipped the plugin for the pod. */
export async function preScoreSkips(fwk: Framework, p: Pod): Promise<boolean> {
  const state = new CycleState();
  await fwk.runPreScorePlugins(state, newPodInfo(p), fwk.snapshot().nodeInfos(), NEVER);
  return state.skipScorePlugins.size > 0;
}
