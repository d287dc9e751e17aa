import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pollUntil, sharedServers, startRedis } from '@schedmesh/testkit';
import type { RedisServer } from '@schedmesh/testkit';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { KeyLayout } from './keys.js';
import { Ledger } from './ledger.js';
import type { LeaseView, LedgerView } from './ledger.js';
import { LeaseMemory } from './lease-memory.js';
import { nodeCapacity, podDemand } from './quantities.js';
import type { Quantities } from './quantities.js';
import { resources } from './testing/harness.js';
import type { ResourceSpec } from './testing/harness.js';
import { RedisStore } from './store.js';

let redis: Redis;
let prefixes = 0;

beforeAll(() => {
  redis = new Redis(sharedServers().redisUrl);
});
afterAll(() => {
  redis.disconnect();
});

function freshLedger(): { ledger: Ledger; keys: KeyLayout; store: RedisStore } {
  const keys = new KeyLayout(`ledger-test:${process.pid}:${++prefixes}`);
  const store = new RedisStore(redis);
  return { ledger: new Ledger({ store, keys }), keys, store };
}

const demand = (spec: ResourceSpec): Quantities => podDemand(resources(spec));
const input = (uid: string, node: string, spec: ResourceSpec, ttlMs = 30_000) => ({
  uid,
  namespace: 'default',
  name: uid,
  node,
  demand: demand(spec),
  ttlMs,
  holder: 'ledger-test',
  group: '',
});

describe('the ledger scripts', () => {
  test('scripts are called by SHA and reloaded transparently after NOSCRIPT', async () => {
    const { ledger, store } = freshLedger();
    await store.loadScripts();
    await ledger.rebuildNode('n1', 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    await redis.script('FLUSH');
    const result = await ledger.reserve(input('p1', 'n1', { cpu: 100 }));
    expect(result.kind).toBe('granted');
    expect((await ledger.ledger('n1')).leased.get('cpu')).toBe(100);
  });

  test('stream changes apply once per node and generation; a rebuild settles the leases of pods now bound', async () => {
    const { ledger } = freshLedger();
    const capacity = nodeCapacity(resources({ cpu: 1000, memory: 1000, pods: 10 }));
    expect(await ledger.rebuildNode('n1', 5, capacity, [])).toBe('rebuilt');
    expect(await ledger.rebuildNode('n1', 5, capacity, [])).toBe('old');
    const bound = { uid: 'b1', namespace: 'default', name: 'b1', demand: demand({ cpu: 300 }) };
    expect((await ledger.applyPod('n1', 4, bound, 'bind')).status).toBe('old');
    expect((await ledger.applyPod('n1', 6, bound, 'bind')).status).toBe('bound');
    expect((await ledger.applyPod('n1', 6, bound, 'bind')).status).toBe('old');
    expect((await ledger.applyPod('unknown', 7, bound, 'bind')).status).toBe('nonode');
    expect((await ledger.ledger('n1')).bound).toEqual(new Map([['cpu', 300], ['pods', 1]]));

    const granted = await ledger.reserve(input('l1', 'n1', { cpu: 200, memory: 100 }));
    expect(granted.kind).toBe('granted');
    // A rebuild that lists l1 as bound settles its lease: counted once, as bound.
    const l1 = { uid: 'l1', namespace: 'default', name: 'l1', demand: demand({ cpu: 200, memory: 100 }) };
    expect(await ledger.rebuildNode('n1', 9, capacity, [bound, l1])).toBe('rebuilt');
    const view = await ledger.ledger('n1');
    expect(view.bound).toEqual(new Map([['cpu', 500], ['memory', 100], ['pods', 2]]));
    expect(view.leased).toEqual(new Map());
    expect(view.leaseCount).toBe(0);
    // A rebuild of a deleted node removes its ledger; a later generation can bring it back.
    expect(await ledger.rebuildNode('n1', 10, undefined, [])).toBe('deleted');
    expect((await ledger.ledger('n1')).exists).toBe(false);
    expect((await ledger.reserve(input('l2', 'n1', { cpu: 1 }))).kind).toBe('unknown-node');
  });

  // Two scheduler replicas attempting one pod at once: if the second could share or move the
  // first's lease, the first would bind on a node whose room was already given back (over-commit).
  test("a live reserved lease is its holder's: another holder can neither share it nor move it", async () => {
    const { ledger } = freshLedger();
    const capacity = nodeCapacity(resources({ cpu: 1000, pods: 10 }));
    for (const node of ['n1', 'n2']) await ledger.rebuildNode(node, 1, capacity, []);
    const first = await ledger.reserve({ ...input('p1', 'n1', { cpu: 600 }), holder: 'replica-a' });
    expect(first.kind).toBe('granted');
    const version = first.kind === 'granted' ? first.lease.version : 0;

    const sameNode = await ledger.reserve({ ...input('p1', 'n1', { cpu: 600 }), holder: 'replica-b' });
    expect(sameNode).toMatchObject({ kind: 'held', lease: { node: 'n1', holder: 'replica-a', version } });
    const otherNode = await ledger.reserve({ ...input('p1', 'n2', { cpu: 600 }), holder: 'replica-b' });
    expect(otherNode).toMatchObject({ kind: 'held', lease: { node: 'n1', holder: 'replica-a', version } });
    // Nothing moved: n1 still holds replica-a's lease, n2 nothing, and the pod's index still finds n1.
    expect((await ledger.ledger('n1')).leased.get('cpu')).toBe(600);
    expect((await ledger.ledger('n2')).leased.get('cpu') ?? 0).toBe(0);
    expect(await ledger.confirm('p1', version)).toMatchObject({ kind: 'confirmed', lease: { node: 'n1' } });

    // The holder itself still retries idempotently, and moves its own lease.
    const mine = await ledger.reserve({ ...input('p2', 'n1', { cpu: 100 }), holder: 'replica-a' });
    expect((await ledger.reserve({ ...input('p2', 'n1', { cpu: 100 }), holder: 'replica-a' })).kind).toBe('granted');
    expect((await ledger.reserve({ ...input('p2', 'n2', { cpu: 100 }), holder: 'replica-a' })).kind).toBe('granted');
    expect(mine.kind).toBe('granted');
    expect((await ledger.ledger('n2')).leased.get('cpu')).toBe(100);
  });

  test('a lapsed lease no longer fences its pod: another holder takes it over', async () => {
    const { ledger } = freshLedger();
    await ledger.rebuildNode('n1', 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    await ledger.rebuildNode('n2', 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    expect((await ledger.reserve({ ...input('p1', 'n1', { cpu: 600 }, 1_000), holder: 'crashed' })).kind).toBe('granted');
    await pollUntil(async () => ((await ledger.ledger('n1')).leased.get('cpu') ?? 0) === 0 || undefined, { what: 'the lease lapsed', timeoutMs: 10_000 });
    expect((await ledger.reserve({ ...input('p1', 'n2', { cpu: 600 }), holder: 'survivor' })).kind).toBe('granted');
  });

  test('a confirmed lease that no bound event settles gives its capacity back at the confirmed TTL (review M1)', async () => {
    const keys = new KeyLayout(`ledger-test:${process.pid}:${++prefixes}`);
    const ledger = new Ledger({ store: new RedisStore(redis), keys, confirmedTtlMs: 1_000 });
    await ledger.rebuildNode('n1', 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    const versionOf = async (uid: string, cpu: number): Promise<number> => {
      const r = await ledger.reserve(input(uid, 'n1', { cpu }));
      return r.kind === 'granted' ? r.lease.version : 0;
    };
    // A Confirm for a pod that is never bound (a phantom uid, a bind that failed after it)…
    expect(await ledger.confirm('phantom', await versionOf('phantom', 600))).toMatchObject({ kind: 'confirmed' });
    // …and an ordinary pod, whose bound event settles its lease.
    const real = await versionOf('real', 300);
    expect(await ledger.confirm('real', real)).toMatchObject({ kind: 'confirmed' });
    expect((await ledger.applyPod('n1', 2, { uid: 'real', namespace: 'default', name: 'real', demand: demand({ cpu: 300 }) }, 'bind')).status).toBe('bound');
    expect((await ledger.ledger('n1')).bound.get('cpu')).toBe(900);

    await pollUntil(async () => ((await ledger.ledger('n1')).bound.get('cpu') === 300 ? true : undefined), {
      what: "the phantom's confirmed lease lapsing",
      timeoutMs: 15_000,
    });
    expect(await ledger.get('phantom')).toBeUndefined();
    expect(await ledger.get('real')).toMatchObject({ node: 'n1', version: real, state: 'confirmed' });
    expect((await ledger.reserve(input('honest', 'n1', { cpu: 700 }))).kind).toBe('granted');
  });

  test('fencing versions are monotonic per node and survive the loss of the counter', async () => {
    const { ledger, keys } = freshLedger();
    await ledger.rebuildNode('n1', 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    const versions: number[] = [];
    for (const uid of ['a', 'b', 'c']) {
      const r = await ledger.reserve(input(uid, 'n1', { cpu: 1 }));
      if (r.kind === 'granted') versions.push(r.lease.version);
    }
    expect(versions[1]).toBe(versions[0]! + 1);
    expect(versions[2]).toBe(versions[1]! + 1);
    await redis.del(keys.node('n1')[6]!);
    const after = await ledger.reserve(input('d', 'n1', { cpu: 1 }));
    expect(after.kind === 'granted' && after.lease.version).toBeGreaterThan(versions[2]!);
  });

  test('the due set lets the sweeper release lapsed leases on exactly the nodes that have them', async () => {
    const { ledger, keys } = freshLedger();
    for (const node of ['n1', 'n2']) await ledger.rebuildNode(node, 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    await ledger.reserve(input('short', 'n1', { cpu: 500 }, 30));
    await ledger.reserve(input('long', 'n2', { cpu: 500 }, 60_000));
    expect(await redis.zrange(keys.due, '0', '-1')).toEqual(['n1', 'n2']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ledger.sweepDue()).toBe(1);
    expect(await redis.hget(keys.node('n1')[2]!, 'cpu')).toBeNull();
    expect(await redis.hget(keys.node('n2')[2]!, 'cpu')).toBe('500');
    expect(await redis.zrange(keys.due, '0', '-1')).toEqual(['n2']);
  });

  test("a pod event's script names the node of the pod's index entry, and a release drops the entry it names", async () => {
    const { ledger, keys } = freshLedger();
    for (const node of ['n1', 'n2']) await ledger.rebuildNode(node, 1, nodeCapacity(resources({ cpu: 1000, pods: 10 })), []);
    const pod = (uid: string) => ({ uid, namespace: 'default', name: uid, demand: demand({ cpu: 100 }) });
    // Leased on n1, bound on n2 (another scheduler placed it): the script names n1, where the lease still is.
    expect((await ledger.reserve(input('moved', 'n1', { cpu: 100 }))).kind).toBe('granted');
    expect(await ledger.applyPod('n2', 2, pod('moved'), 'bind')).toEqual({ status: 'bound', indexedNode: 'n1' });
    // Even for an event the node already reflects: another replica applied it, this one still releases elsewhere.
    expect(await ledger.applyPod('n2', 2, pod('moved'), 'bind')).toEqual({ status: 'old', indexedNode: 'n1' });
    expect(await ledger.releaseIndexed('moved', 'n1', 'n2')).toBe(true);
    expect((await ledger.ledger('n1')).leased.get('cpu')).toBeUndefined();
    // Leased and released on the same node: the lease is settled and the entry naming that node dropped.
    expect((await ledger.reserve(input('gone', 'n1', { cpu: 100 }))).kind).toBe('granted');
    expect(await ledger.applyPod('n1', 3, pod('gone'), 'release')).toEqual({ status: 'released', indexedNode: 'n1' });
    expect(await redis.exists(keys.podIndex('gone'))).toBe(0);
    expect(await ledger.applyPod('n1', 4, pod('never'), 'bind')).toEqual({ status: 'bound', indexedNode: undefined });
  });
});

describe('Confirm for several leases (confirmMany)', () => {
  let server: RedisServer;
  let own: Redis;

  beforeAll(async () => {
    // A Redis of its own: its command counts are this test's alone.
    server = await startRedis();
    own = new Redis(server.url);
  }, 30_000);
  afterAll(async () => {
    own?.disconnect();
    await server?.stop();
  });

  /** How many times Redis ran each of `commands` while `fn` ran (INFO commandstats), and what `fn` returned. */
  async function counting<T>(commands: readonly string[], fn: () => Promise<T>): Promise<{ result: T; calls: Record<string, number> }> {
    const read = async (): Promise<Record<string, number>> => {
      const info = await own.info('commandstats');
      return Object.fromEntries(commands.map((c) => [c, Number(new RegExp(`^cmdstat_${c}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0)]));
    };
    const before = await read();
    const result = await fn();
    const after = await read();
    return { result, calls: Object.fromEntries(commands.map((c) => [c, after[c]! - before[c]!])) };
  }

  test('one confirm script per lease, no index read for the leases this replica handed out, one MGET for the batch for the others', async () => {
    const keys = new KeyLayout('confirm-many');
    const store = new RedisStore(own);
    // Two replicas: each remembers the leases it granted.
    const [mine, theirs] = [new Ledger({ store, keys, memory: new LeaseMemory() }), new Ledger({ store, keys, memory: new LeaseMemory() })];
    // As the service does at start: no NOSCRIPT round below.
    await store.loadScripts();
    await mine.rebuildNode('n1', 1, nodeCapacity(resources({ cpu: 10_000, pods: 100 })), []);
    const lease = async (ledger: Ledger, uid: string): Promise<number> => {
      const r = await ledger.reserve(input(uid, 'n1', { cpu: 100 }));
      if (r.kind !== 'granted') throw new Error(`expected a grant, got ${r.kind}`);
      return r.lease.version;
    };
    const held: { uid: string; version: number }[] = [];
    for (const uid of ['m1', 'm2', 'm3', 'm4']) held.push({ uid, version: await lease(mine, uid) });
    for (const uid of ['t1', 't2']) held.push({ uid, version: await lease(theirs, uid) });

    const all = await counting(['evalsha', 'mget', 'get'], () => mine.confirmMany(held));
    expect(all.result.map((r) => (r.kind === 'confirmed' ? r.lease.state : r.kind))).toEqual(Array(6).fill('confirmed'));
    expect(all.calls).toEqual({ evalsha: 6, mget: 1, get: 0 });

    // Leases this replica handed out only: one confirm script each, nothing else.
    const mineOnly = [{ uid: 'm5', version: await lease(mine, 'm5') }, { uid: 'm6', version: await lease(mine, 'm6') }];
    const known = await counting(['evalsha', 'mget', 'get'], () => mine.confirmMany(mineOnly));
    expect(known.result.map((r) => r.kind)).toEqual(['confirmed', 'confirmed']);
    expect(known.calls).toEqual({ evalsha: 2, mget: 0, get: 0 });
    expect((await mine.ledger('n1')).bound.get('cpu')).toBe(800);
  });
});

// --- Property: random sequences of Reserve/Unreserve/Confirm/bind/delete with
// expiries keep the ledger exact: free ≥ 0 for every resource, leased = the sum
// of the live reserved leases, bound = the sum of confirmed leases and bound pods.

type Op =
  | { op: 'reserve'; pod: number; node: number; cpu: number; memory: number; gpu: number; ttlMs: number }
  | { op: 'unreserve'; pod: number; version: 'current' | 'stale' | 'zero' }
  | { op: 'confirm'; pod: number; version: 'current' | 'stale' | 'zero' }
  | { op: 'bind'; pod: number }
  | { op: 'delete'; pod: number }
  | { op: 'wait'; ms: number };

const NODES = ['n0', 'n1'];
const PODS = 8;
const capacity = nodeCapacity(resources({ cpu: 1000, memory: 1000, pods: 4, scalar: { 'nvidia.com/gpu': 2 } }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('reserve' as const), pod: fc.nat(PODS - 1), node: fc.nat(NODES.length - 1), cpu: fc.nat(600), memory: fc.nat(600), gpu: fc.nat(2), ttlMs: fc.constantFrom(15, 40, 5_000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unreserve' as const), pod: fc.nat(PODS - 1), version: fc.constantFrom('current' as const, 'stale' as const, 'zero' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('confirm' as const), pod: fc.nat(PODS - 1), version: fc.constantFrom('current' as const, 'stale' as const, 'zero' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bind' as const), pod: fc.nat(PODS - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pod: fc.nat(PODS - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.nat(25) }) },
);

interface ModelLease {
  node: string;
  version: number;
  demand: Quantities;
  /** undefined once confirmed. */
  expireMs: number | undefined;
  state: 'reserved' | 'confirmed' | 'bound';
}

function sum(into: Map<string, number>, q: Quantities): void {
  for (const [k, v] of q) into.set(k, (into.get(k) ?? 0) + v);
}

function nonZero(q: Quantities): Map<string, number> {
  return new Map([...q].filter(([, v]) => v !== 0));
}

/** Redis TIME in ms: the clock the scripts use. */
async function redisNow(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Whether the lease was live for the whole of an operation run between Redis
 * times `before` and `after` (false: lapsed before it; undefined: it may have
 * lapsed during it).
 */
function surelyLive(lease: ModelLease | undefined, before: number, after: number): boolean | undefined {
  if (lease === undefined) return false;
  if (lease.expireMs === undefined) return true;
  if (lease.expireMs > after) return true;
  if (lease.expireMs <= before) return false;
  return undefined;
}

test('property: random request sequences with expiries keep the ledger exact and never over-committed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
      const { ledger } = freshLedger();
      let generation = 1;
      for (const node of NODES) await ledger.rebuildNode(node, generation, capacity, []);
      const model = new Map<string, ModelLease>();
      const uid = (i: number): string => `pod-${i}`;

      const check = async (): Promise<void> => {
        for (const node of NODES) {
          const view: LedgerView = await ledger.ledger(node);
          for (const [uidKey, lease] of model) {
            if (lease.node === node && lease.state === 'reserved' && lease.expireMs! <= view.nowMs) model.delete(uidKey);
          }
          const leased = new Map<string, number>();
          const bound = new Map<string, number>();
          for (const lease of model.values()) {
            if (lease.node !== node) continue;
            sum(lease.state === 'reserved' ? leased : bound, lease.demand);
          }
          expect(nonZero(view.leased)).toEqual(leased);
          expect(nonZero(view.bound)).toEqual(bound);
          for (const [name, free] of view.free) expect([name, free >= 0]).toEqual([name, true]);
        }
      };

      for (const op of ops) {
        switch (op.op) {
          case 'reserve': {
            const id = uid(op.pod);
            const node = NODES[op.node]!;
            const want = demand({ cpu: op.cpu, memory: op.memory, scalar: { 'nvidia.com/gpu': op.gpu } });
            const held = model.get(id);
            // The service refuses a Reserve for a bound pod before it reaches the ledger.
            if (held?.state === 'bound') break;
            const r = await ledger.reserve(input(id, node, { cpu: op.cpu, memory: op.memory, scalar: { 'nvidia.com/gpu': op.gpu } }, op.ttlMs));
            if (r.kind === 'granted') {
              const lease: LeaseView = r.lease;
              expect(lease.node).toBe(node);
              if (r.created) {
                if (held && held.node !== node && held.state === 'reserved') model.delete(id);
                model.set(id, { node, version: lease.version, demand: lease.demand, expireMs: lease.expireMs, state: 'reserved' });
              } else {
                expect(held?.version).toBe(lease.version);
              }
            } else if (r.kind === 'conflict') {
              expect(r.shortages.length).toBeGreaterThan(0);
              for (const s of r.shortages) {
                expect(want.get(s.resource)).toBe(s.requested);
                expect(s.requested).toBeGreaterThan(s.free);
              }
            } else if (r.kind === 'confirmed-elsewhere') {
              expect(held?.state).toBe('confirmed');
            } else if (r.kind === 'mismatch') {
              expect(held?.node).toBe(node);
            } else if (r.kind === 'bound') {
              expect(held?.state).toBe('bound');
            } else {
              throw new Error(`unexpected ${r.kind}`);
            }
            break;
          }
          case 'unreserve': {
            const id = uid(op.pod);
            const held = model.get(id);
            const version = (held?.version ?? 1) - (op.version === 'stale' ? 1 : 0);
            const before = await redisNow();
            // 'zero': the service's own release of whatever lease the pod holds (the stream saw it go); the RPC refuses 0.
            const released = op.version === 'zero' ? await ledger.releaseAnywhere(id) : await ledger.unreserve(id, version);
            const live = held?.state === 'bound' ? false : surelyLive(held, before, await redisNow());
            if (live !== undefined) expect(released).toBe(live && (op.version !== 'stale'));
            if (released) model.delete(id);
            // Not released although the version matched: it had lapsed (check() prunes by Redis time otherwise).
            else if (held?.state === 'reserved' && live === undefined && op.version !== 'stale') model.delete(id);
            break;
          }
          case 'confirm': {
            const id = uid(op.pod);
            const held = model.get(id);
            // Confirm always names a version (the RPC refuses 0): 'zero' confirms the current one.
            const version = (held?.version ?? 1) - (op.version === 'stale' ? 1 : 0);
            const r = await ledger.confirm(id, version);
            if (r.kind === 'confirmed' && held && held.state === 'reserved') model.set(id, { ...held, state: 'confirmed', expireMs: undefined });
            if (r.kind === 'none' && held?.state === 'reserved') model.delete(id);
            if (op.version === 'stale' && held && held.state !== 'bound') expect(r.kind).not.toBe('confirmed');
            break;
          }
          case 'bind': {
            // The stream reports a confirmed pod bound where its lease is (the normal life of a pod).
            const id = uid(op.pod);
            const held = model.get(id);
            if (held?.state !== 'confirmed') break;
            generation++;
            expect((await ledger.applyPod(held.node, generation, { uid: id, namespace: 'default', name: id, demand: held.demand }, 'bind')).status).toBe('bound');
            model.set(id, { ...held, state: 'bound' });
            break;
          }
          case 'delete': {
            const id = uid(op.pod);
            const held = model.get(id);
            if (held?.state !== 'bound') break;
            generation++;
            expect((await ledger.applyPod(held.node, generation, { uid: id, namespace: 'default', name: id, demand: held.demand }, 'release')).status).toBe('released');
            model.delete(id);
            break;
          }
          case 'wait':
            await new Promise((resolve) => setTimeout(resolve, op.ms));
            break;
        }
        await check();
      }
    }),
    { numRuns: 25 },
  );
}, 60_000);
