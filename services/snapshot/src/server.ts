import { compileLabelSelector, msToDuration, podKey, validateLabelSelector } from '@schedmesh/model';
import { GetNodeResponse, GetPodResponse, GetPoolHealthResponse, ListNodesResponse, WaitForGenerationResponse, WatchResponse } from '@schedmesh/proto/v1/snapshot';
import type { SnapshotServiceImplementation } from '@schedmesh/proto/v1/snapshot';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError, NotFoundError } from '@schedmesh/runtime';
import { ServerError, Status } from 'nice-grpc';
import type { CallContext } from 'nice-grpc';
import type { SnapshotStore } from './store.js';
import { SnapshotResetError, WatcherOverflowError } from './watch-hub.js';

/** Options of {@link snapshotServer}. */
export interface SnapshotServerOptions {
  /** Events per Watch frame when the caller asks for none (default 1,000). */
  defaultBatch?: number;
  /** Largest events per frame a caller may ask for (default 10,000). */
  maxBatch?: number;
  /** Called when a watcher connects (+1) or leaves (-1), for metrics. */
  onWatcher?: (delta: number) => void;
}

/** Maps SnapshotService RPCs onto the store. */
export function snapshotServer(store: SnapshotStore, options: SnapshotServerOptions = {}): SnapshotServiceImplementation {
  const defaultBatch = options.defaultBatch ?? 1_000;
  const maxBatch = options.maxBatch ?? 10_000;

  const ready = async (minGeneration: number, context: CallContext): Promise<void> => {
    store.gate.requireSynced();
    if (minGeneration > 0) await store.gate.waitFor(minGeneration, context.signal);
  };

  return {
    async getNode(request, context) {
      if (request.name === '') throw new InvalidArgumentError('name', 'must not be empty');
      await ready(request.minGeneration, context);
      const nodeInfo = store.state.nodeInfoMessage(request.name);
      if (!nodeInfo) throw new NotFoundError('node', request.name);
      return GetNodeResponse.fromPartial({ generation: store.generation, nodeInfo });
    },

    async listNodes(request, context) {
      let matches: (labels: { readonly [k: string]: string }) => boolean = () => true;
      if (request.selector) {
        const problems = validateLabelSelector(request.selector, 'selector');
        if (problems.length > 0) throw new InvalidArgumentError(problems[0]!.field, problems[0]!.reason);
        const compiled = compileLabelSelector(request.selector);
        matches = (labels) => compiled.matches(labels);
      }
      await ready(request.minGeneration, context);
      const nodeInfos = store.state.nodeInfoMessages().filter((info) => matches(info.node!.labels));
      return ListNodesResponse.fromPartial({ generation: store.generation, nodeInfos });
    },

    async getPod(request, context) {
      if (request.uid === '' && (request.namespace === '' || request.name === '')) {
        throw new InvalidArgumentError(request.namespace === '' ? 'namespace' : 'name', 'give uid, or namespace and name');
      }
      await ready(request.minGeneration, context);
      const pod = request.uid ? store.state.podByUid(request.uid) : store.state.podByName(request.namespace, request.name);
      if (!pod) throw new NotFoundError('pod', request.uid || podKey(request));
      return GetPodResponse.fromPartial({ generation: store.generation, pod });
    },

    async *watch(request, context) {
      if (request.maxBatch > maxBatch) throw new InvalidArgumentError('max_batch', `at most ${maxBatch}`);
      const batch = request.maxBatch || defaultBatch;
      store.gate.requireSynced();
      // Subscribe and take the backlog or the full state in the same tick, so
      // no event falls between them.
      const sub = store.hub.subscribe();
      options.onWatcher?.(1);
      try {
        const backlog = request.fromGeneration > 0 && request.fromGeneration <= store.generation ? store.hub.since(request.fromGeneration) : undefined;
        if (backlog) {
          for (let i = 0; i < backlog.length; i += batch) {
            const events = backlog.slice(i, i + batch);
            yield WatchResponse.fromPartial({ events, generation: events[events.length - 1]!.generation });
          }
          if (backlog.length === 0) yield WatchResponse.fromPartial({ generation: store.generation });
        } else {
          yield* fullState(store, batch);
        }
        for (;;) {
          const events = await sub.next(batch, context.signal);
          if (events.length === 0) return; // the caller went away
          yield WatchResponse.fromPartial({ events, generation: events[events.length - 1]!.generation });
        }
      } catch (err) {
        if (err instanceof WatcherOverflowError) throw new ServerError(Status.RESOURCE_EXHAUSTED, err.message);
        if (err instanceof SnapshotResetError) throw new ServerError(Status.ABORTED, err.message);
        throw err;
      } finally {
        sub.close();
        options.onWatcher?.(-1);
      }
    },

    async waitForGeneration(request, context) {
      store.gate.requireSynced();
      const generation = await store.gate.waitFor(request.minGeneration, context.signal);
      return WaitForGenerationResponse.fromPartial({ generation });
    },

    async getPoolHealth(request) {
      store.gate.requireSynced();
      const report = store.health.report;
      const pools = request.pool ? report.pools.filter((p) => p.pool === request.pool) : report.pools;
      if (request.pool && pools.length === 0) throw new NotFoundError('node pool', request.pool);
      return GetPoolHealthResponse.fromPartial({
        generation: report.generation,
        pools: [...pools],
        debounce: msToDuration(store.health.debounceMs),
      });
    },
  };
}

/** The full state as frames: reset on the first, synced on the last. */
function* fullState(store: SnapshotStore, batch: number): Generator<WatchResponse> {
  const generation = store.generation;
  let events: ClusterEvent[] = [];
  let first = true;
  for (const event of store.state.fullState()) {
    events.push(event);
    if (events.length === batch) {
      yield WatchResponse.fromPartial({ reset: first, events, generation });
      first = false;
      events = [];
    }
  }
  yield WatchResponse.fromPartial({ reset: first, events, synced: true, generation });
}
