// One phase: a workload's pods created through the API by a pool of
// concurrent creates over kept-alive connections, and a watch that records when each is first
// seen with spec.nodeName (after the watch ended, a list at the next 5 s tick catches what it missed).
import { Agent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';

import { Watch } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { pollUntil } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

import { NAMESPACE, PHASE_LABEL } from './workloads.js';
import type { PhasePods } from './workloads.js';

/**
 * Creates in flight at once. Each worker sends its next create as soon as the
 * last one is answered, as scheduler_perf's createPodsRapidly does with its
 * parallel workers: batches that wait for their slowest create held creation
 * under what kube-scheduler binds.
 */
const CREATES_IN_FLIGHT = 64;

/**
 * POSTs pods over kept-alive TLS connections: client-node's fetch opens a
 * connection per request, and those handshakes took a seventh of this
 * process's event loop in a profile.
 */
function podCreator(cp: ControlPlane): { create(pod: V1Pod): Promise<void>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: CREATES_IN_FLIGHT, ca: cp.caPem });
  const create = (pod: V1Pod): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(pod);
      const req = httpsRequest(
        `${cp.server}/api/v1/namespaces/${NAMESPACE}/pods`,
        { method: 'POST', agent, headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`create pod ${pod.metadata?.name}: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`))));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`create pod ${pod.metadata?.name}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  return { create, close: () => agent.destroy() };
}

/** Creates the pods, in order, CREATES_IN_FLIGHT at a time; `onCreated` hears each one as its create is answered. */
export async function createPods(cp: ControlPlane, pods: readonly V1Pod[], onCreated: (name: string) => void = () => undefined, until = Number.POSITIVE_INFINITY): Promise<void> {
  const creator = podCreator(cp);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pods.length && performance.now() < until) {
      const pod = pods[next++]!;
      await creator.create(pod);
      onCreated(pod.metadata!.name!);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CREATES_IN_FLIGHT, pods.length) }, worker));
  } finally {
    creator.close();
  }
}

/** What a phase measured. */
export interface PhaseTiming {
  readonly measured: number;
  readonly bound: number;
  /** Bound pods the watch had not reported by the time a list after a watch restart saw them (their time is the list's: up to 5 s late). */
  readonly seenByListOnly: number;
  /** How often the watch ended during the phase and was started again. */
  readonly watchRestarts: number;
  /** Pods that fit nowhere, and how many of them were bound (must be 0). */
  readonly unfit: number;
  readonly unfitBound: number;
  readonly timedOut: boolean;
  /** First measured create to the last measured pod seen bound, ms. */
  readonly totalMs: number;
  /** First measured create to the last create answered, ms: where it is close to totalMs, creation set the pace. */
  readonly createMs: number;
  /** Per measured pod: create answered → seen bound, ms, sorted. */
  readonly latenciesMs: number[];
}

/** Creates a phase's pods and waits, at most `limitMs`, until every measured pod is seen bound. */
export async function runPhase(cp: ControlPlane, phase: string, pods: PhasePods, limitMs: number): Promise<PhaseTiming> {
  const measured = new Set(pods.measured.map((p) => p.metadata!.name!));
  const unfit = new Set(pods.unfit.map((p) => p.metadata!.name!));
  const createdPerf = new Map<string, number>();
  const boundPerf = new Map<string, number>();
  let unfitBound = 0;
  const selector = `${PHASE_LABEL}=${phase}`;
  let allBound: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allBound = resolve));
  let byList = 0;
  const seen = (pod: V1Pod, at: number, fromList: boolean): void => {
    const name = pod.metadata?.name ?? '';
    if (!pod.spec?.nodeName || boundPerf.has(name)) return;
    if (unfit.has(name)) unfitBound++;
    if (!measured.has(name)) return;
    boundPerf.set(name, at);
    if (fromList) byList++;
    if (boundPerf.size === measured.size) allBound();
  };

  await createPods(cp, pods.prebound);
  // The watch starts before the first create, with no resourceVersion: a loaded
  // apiserver whose watch cache lags a list's resourceVersion ends such a watch
  // ("too large resource version"). One that ends is started again, and the
  // next 5 s tick lists the phase's pods to cover the gap; the report says how
  // many pods only a list saw. No gap, no list: a list of every pod of the
  // phase costs the apiserver and etcd tens of ms, and listing on every tick
  // charged each mode in proportion to how long it took.
  let watchRestarts = 0;
  let stopped = false;
  let gap = false;
  let watcher: AbortController | undefined;
  const watch = async (): Promise<void> => {
    watcher = await new Watch(cp.kubeConfig).watch(
      `/api/v1/namespaces/${NAMESPACE}/pods`,
      { labelSelector: selector, allowWatchBookmarks: true },
      (type: string, obj: V1Pod) => {
        if (type === 'ADDED' || type === 'MODIFIED') seen(obj, performance.now(), false);
      },
      () => {
        if (stopped) return;
        watchRestarts++;
        gap = true;
        setTimeout(() => void watch().catch(() => undefined), 200);
      },
    );
  };
  await watch();
  let listing = false;
  const relist = setInterval(() => {
    if (listing || !gap) return;
    listing = true;
    gap = false;
    const at = performance.now();
    void cp.core
      .listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector })
      .then(
        (list) => list.items.forEach((p) => seen(p, at, true)),
        () => (gap = true),
      )
      .finally(() => (listing = false));
  }, 5_000);

  try {
    await createPods(cp, pods.unfit);
    const started = performance.now();
    const deadline = started + limitMs;
    await createPods(
      cp,
      pods.measured,
      (name) => {
        createdPerf.set(name, performance.now());
      },
      deadline,
    );
    const createMs = (createdPerf.size > 0 ? Math.max(...createdPerf.values()) : performance.now()) - started;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(() => ((timedOut = true), resolve()), Math.max(0, deadline - performance.now()))))]);
    clearTimeout(timer);
    const lastBound = boundPerf.size > 0 ? Math.max(...boundPerf.values()) : performance.now();
    const latenciesMs = [...boundPerf].map(([n, at]) => at - (createdPerf.get(n) ?? started)).sort((a, b) => a - b);
    return { measured: measured.size, bound: boundPerf.size, seenByListOnly: byList, watchRestarts, unfit: unfit.size, unfitBound, timedOut, totalMs: lastBound - started, createMs, latenciesMs };
  } finally {
    stopped = true;
    clearInterval(relist);
    watcher?.abort();
  }
}

/**
 * Deletes the phase's pods (grace 0: no kubelet confirms a graceful deletion)
 * and waits until they are gone. A loaded apiserver answers a large
 * deletecollection with 504 after its request timeout, having deleted only
 * part: the call is repeated until none is left.
 */
export async function deletePhasePods(cp: ControlPlane, phase: string): Promise<void> {
  const labelSelector = `${PHASE_LABEL}=${phase}`;
  await pollUntil(
    async () => {
      await cp.core.deleteCollectionNamespacedPod({ namespace: NAMESPACE, labelSelector, gracePeriodSeconds: 0 }).catch(() => undefined);
      return (await cp.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector, limit: 1 })).items.length === 0 ? true : undefined;
    },
    { what: `pods of phase ${phase} deleted`, timeoutMs: 900_000, intervalMs: 1_000 },
  );
}
