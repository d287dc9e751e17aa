/**
 * Calling the Extenders of a cycle (upstream findNodesThatPassExtenders and
 * the extender half of prioritizeNodes). The contract, what each outcome
 * means, is written on the Extender interface (@schedmesh/framework); here
 * the runner checks every reply against it, names the extender in every
 * status and error, and scales scores into the plugins' range.
 */
import { MAX_EXTENDER_PRIORITY, MAX_NODE_SCORE, Status } from '@schedmesh/framework';
import type { Extender, ExtenderFilterResult, ExtenderPriorities, NodeInfo, PodInfo } from '@schedmesh/framework';

/** The reason given for a node an extender neither passed nor rejected. */
export const REASON_EXTENDER_DROPPED = 'node(s) were dropped by an extender';

/**
 * An extender that failed (I/O, timeout, a reply that breaks the contract),
 * or a call cancelled by the cycle's signal. Never a rejection of the pod.
 */
export class ExtenderError extends Error {
  override readonly name = 'ExtenderError';
  constructor(
    /** The extender's name. */
    readonly extender: string,
    /** The call that failed. */
    readonly verb: 'filter' | 'prioritize',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`extender ${extender} (${verb}): ${message}`, options);
  }
}

/** Told about a failed extender call that the cycle went on without (the runner has no logger). */
export type ExtenderErrorListener = (error: ExtenderError) => void;

/** A node an extender rejected, with its status (the extender named as its plugin). */
export interface ExtenderRejection {
  readonly nodeName: string;
  readonly status: Status;
}

/** What the filtering extenders left, and what they rejected, in node order. */
export interface ExtenderFilterOutcome {
  readonly feasible: readonly NodeInfo[];
  readonly rejected: readonly ExtenderRejection[];
}

/** One extender's part of a node's score: scaled to 0..MAX_NODE_SCORE, before the weight. */
export interface ExtenderScore {
  readonly plugin: string;
  readonly score: number;
  readonly weight: number;
}

// An integer division, as upstream's int64 arithmetic: 100 / 10 = 10.
const SCALE = Math.trunc(MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY);

function failure(extender: Extender, verb: ExtenderError['verb'], err: unknown): ExtenderError {
  if (err instanceof ExtenderError) return err;
  return new ExtenderError(extender.name, verb, err instanceof Error ? err.message : String(err), { cause: err });
}

function checkFilterResult(extender: Extender, given: ReadonlyMap<string, NodeInfo>, result: ExtenderFilterResult): void {
  for (const name of result.feasible) {
    if (!given.has(name)) throw new ExtenderError(extender.name, 'filter', `claims a feasible node ${JSON.stringify(name)} that it was not given`);
  }
}

/**
 * Runs the filtering extenders one after the other on the nodes still
 * feasible (upstream findNodesThatPassExtenders). Rejections come back as
 * statuses; the survivors keep their order.
 *
 * @throws ExtenderError when a non-ignorable extender fails, or when the signal aborts.
 */
export async function runExtenderFilters(
  extenders: readonly Extender[],
  pod: PodInfo,
  nodes: readonly NodeInfo[],
  signal: AbortSignal,
  onIgnoredError?: ExtenderErrorListener,
): Promise<ExtenderFilterOutcome> {
  let feasible = nodes;
  const rejected: ExtenderRejection[] = [];
  for (const extender of extenders) {
    if (feasible.length === 0) break;
    if (extender.filter === undefined || !extender.isInterested(pod.pod)) continue;
    const given = new Map(feasible.map((n) => [n.name, n] as const));
    let result: ExtenderFilterResult;
    try {
      result = await extender.filter(pod, feasible, signal);
      checkFilterResult(extender, given, result);
    } catch (err) {
      const error = failure(extender, 'filter', err);
      // A cancelled cycle fails, whatever the extender's flag: it did not fail on its own.
      if (signal.aborted || !extender.ignorable) throw error;
      onIgnoredError?.(error);
      continue;
    }
    const passed = new Set(result.feasible);
    const next: NodeInfo[] = [];
    for (const info of feasible) {
      const unresolvable = result.failedAndUnresolvable.get(info.name);
      const resolvable = result.failed.get(info.name);
      let status: Status | undefined;
      if (unresolvable !== undefined) status = Status.unresolvable(unresolvable || REASON_EXTENDER_DROPPED);
      else if (resolvable !== undefined) status = Status.unschedulable(resolvable || REASON_EXTENDER_DROPPED);
      else if (!passed.has(info.name)) status = Status.unresolvable(REASON_EXTENDER_DROPPED);
      if (status === undefined) next.push(info);
      else rejected.push({ nodeName: info.name, status: status.withPlugin(extender.name) });
    }
    feasible = next;
  }
  return { feasible, rejected };
}

function checkPriorities(extender: Extender, given: ReadonlySet<string>, result: ExtenderPriorities): void {
  if (!Number.isInteger(result.weight) || result.weight < 0) throw new ExtenderError(extender.name, 'prioritize', `weight ${result.weight} is not a non-negative integer`);
  for (const [name, score] of result.scores) {
    if (!given.has(name)) throw new ExtenderError(extender.name, 'prioritize', `scores node ${JSON.stringify(name)} that it was not given`);
    if (!Number.isInteger(score) || score < 0 || score > MAX_EXTENDER_PRIORITY) {
      throw new ExtenderError(extender.name, 'prioritize', `score ${score} for node ${name} is outside [0, ${MAX_EXTENDER_PRIORITY}]`);
    }
  }
}

/**
 * Runs every prioritizing extender at once on the feasible nodes (the
 * extender half of upstream prioritizeNodes). A failed call gives no score
 * and does not fail the cycle; only the signal aborting does.
 *
 * @returns node name → each extender's part, in extender order; nodes no extender scored are absent.
 * @throws ExtenderError when the signal aborts.
 */
export async function runExtenderPrioritizers(
  extenders: readonly Extender[],
  pod: PodInfo,
  nodes: readonly NodeInfo[],
  signal: AbortSignal,
  onIgnoredError?: ExtenderErrorListener,
): Promise<ReadonlyMap<string, readonly ExtenderScore[]>> {
  const out = new Map<string, ExtenderScore[]>();
  const interested = extenders.filter((e) => e.prioritize !== undefined && e.isInterested(pod.pod));
  if (interested.length === 0 || nodes.length === 0) return out;
  const given = new Set(nodes.map((n) => n.name));
  const results = await Promise.all(
    interested.map(async (extender) => {
      if (extender.prioritize === undefined) return undefined;
      try {
        const result = await extender.prioritize(pod, nodes, signal);
        checkPriorities(extender, given, result);
        return result;
      } catch (err) {
        const error = failure(extender, 'prioritize', err);
        if (signal.aborted) throw error;
        onIgnoredError?.(error);
        return undefined;
      }
    }),
  );
  results.forEach((result, i) => {
    if (result === undefined) return;
    const plugin = (interested[i] as Extender).name;
    for (const [name, score] of result.scores) {
      const part: ExtenderScore = { plugin, score: score * SCALE, weight: result.weight };
      const parts = out.get(name);
      if (parts === undefined) out.set(name, [part]);
      else parts.push(part);
    }
  });
  return out;
}
