// The HTTP edge with fake verbs: hostile requests are answered with a clear
// error and never reach a verb (so no lease is taken and nothing is written).
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLogger } from '@schedmesh/runtime';
import { pollUntil } from '@schedmesh/testkit';
import { startExtenderServer } from './http.js';
import type { ExtenderServer, Verbs } from './http.js';
import type { VerbDeps } from './verbs/deps.js';

const calls: string[] = [];
/** The signal of each filter call: filter of a node named "hang" waits for it. */
const filterSignals: AbortSignal[] = [];
const verbs: Verbs = {
  filter: (_deps, args, signal) => {
    calls.push('filter');
    filterSignals.push(signal);
    if (args.nodeNames.includes('hang')) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    return Promise.resolve({ Nodes: null, NodeNames: [...args.nodeNames], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
  },
  prioritize: (_deps, args) => {
    calls.push('prioritize');
    return Promise.resolve(args.nodeNames.map((n) => ({ Host: n, Score: 5 })));
  },
  bind: () => {
    calls.push('bind');
    return Promise.resolve({ Error: '' });
  },
  preempt: (_deps, args) => {
    calls.push('preempt');
    return Promise.resolve({ NodeNameToMetaVictims: Object.fromEntries([...args.victims].map(([n, v]) => [n, { Pods: v.uids.map((UID) => ({ UID })), NumPDBViolations: 0 }])) });
  },
};
const LIMIT = 64 * 1024;
let server: ExtenderServer;

const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'c' }] } };

function post(path: string, body: string | Buffer, method = 'POST', agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.urlPrefix}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    // A server that answers 413 and closes may cut the upload short: the answer is what counts.
    req.on('error', (err) => reject(err));
    req.end(body);
  });
}

beforeAll(async () => {
  server = await startExtenderServer({
    deps: {} as VerbDeps,
    verbs,
    host: '127.0.0.1',
    port: 0,
    pathPrefix: '/schedmesh',
    maxBodyBytes: LIMIT,
    verbTimeoutMs: 1_000,
    logger: createLogger({ service: 'extender-test', level: 'silent' }),
  });
});
afterAll(() => server.close());

describe('the extender HTTP edge', () => {
  test('a well-formed filter, prioritize, bind and preempt reach their verbs', async () => {
    const args = JSON.stringify({ Pod: pod, Nodes: null, NodeNames: ['n1'] });
    expect(JSON.parse((await post('/filter', args)).body)).toMatchObject({ NodeNames: ['n1'], Error: '' });
    expect(JSON.parse((await post('/prioritize', args)).body)).toEqual([{ Host: 'n1', Score: 5 }]);
    expect((await post('/bind', JSON.stringify({ PodName: 'p', PodNamespace: 'default', PodUID: 'u1', Node: 'n1' }))).body).toBe('{"Error":""}');
    const preempt = JSON.stringify({ Pod: pod, NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'v1' }], NumPDBViolations: 0 } } });
    expect(JSON.parse((await post('/preempt', preempt)).body)).toEqual({ NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'v1' }], NumPDBViolations: 0 } } });
    expect(calls).toEqual(['filter', 'prioritize', 'bind', 'preempt']);
  });

  const hostile: [string, string, string | Buffer, number, RegExp][] = [
    ['an empty body', '/filter', '', 400, /empty/],
    ['a truncated body', '/filter', '{"Pod": {"metadata": {"name"', 400, /not valid JSON/],
    ['not JSON at all', '/prioritize', 'Pod=p', 400, /not valid JSON/],
    ['a JSON array', '/filter', '[]', 400, /ExtenderArgs/],
    ['Pod as a string', '/filter', JSON.stringify({ Pod: 'p', NodeNames: ['n1'] }), 400, /Pod: must be a JSON object/],
    ['NodeNames as a number', '/filter', JSON.stringify({ Pod: pod, NodeNames: 3 }), 400, /NodeNames/],
    ['an empty pod', '/filter', JSON.stringify({ Pod: {}, NodeNames: ['n1'] }), 400, /Pod/],
    ['a pod with an unparsable quantity', '/prioritize', JSON.stringify({ Pod: { ...pod, spec: { containers: [{ name: 'c', resources: { requests: { memory: 'x' } } }] } }, NodeNames: ['n1'] }), 400, /memory/],
    ['a huge body', '/filter', Buffer.alloc(LIMIT * 4, 0x20), 413, /larger than 65536 bytes/],
    ['a bind without a node', '/bind', JSON.stringify({ PodName: 'p', PodNamespace: 'default', PodUID: 'u1' }), 400, /Node/],
    ['a bind with a numeric UID', '/bind', JSON.stringify({ PodName: 'p', PodNamespace: 'default', PodUID: 1, Node: 'n1' }), 400, /PodUID/],
    ['a bind with filter args', '/bind', JSON.stringify({ Pod: pod, NodeNames: ['n1'] }), 400, /PodName/],
    ['an unknown verb', '/evict', '{}', 404, /no such verb/],
    ['a GET of a verb', '/filter', '', 405, /takes POST/],
    ['preempt with a victim UID as a number', '/preempt', JSON.stringify({ Pod: pod, NodeNameToMetaVictims: { n1: { Pods: [{ UID: 7 }] } } }), 400, /NodeNameToMetaVictims\.n1\.Pods\.0\.UID: must be a string/],
    ['preempt with victims as a list', '/preempt', JSON.stringify({ Pod: pod, NodeNameToVictims: [] }), 400, /NodeNameToVictims: must be a map/],
    ['preempt with a full victim without a UID', '/preempt', JSON.stringify({ Pod: pod, NodeNameToVictims: { n1: { Pods: [{ metadata: { name: 'v' } }] } } }), 400, /NodeNameToVictims\.n1\.Pods\.0\.metadata\.uid/],
    ['preempt without a pod', '/preempt', JSON.stringify({ NodeNameToMetaVictims: {} }), 400, /ExtenderPreemptionArgs: Pod: must be a JSON object/],
  ];
  test.each(hostile)('%s is answered %#: HTTP %d naming it, and no verb runs', async (_, path, body, status, message) => {
    const before = calls.length;
    const res = await post(path, body, status === 405 ? 'GET' : 'POST');
    expect(res.status).toBe(status);
    expect((JSON.parse(res.body) as { Error: string }).Error).toMatch(message);
    expect(calls.length).toBe(before);
  });

  test('a verb past its deadline is cancelled and answered with why', async () => {
    const res = await post('/filter', JSON.stringify({ Pod: pod, NodeNames: ['hang'] }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ NodeNames: null, Error: 'filter did not finish within 1000 ms' });
    expect(filterSignals.at(-1)?.aborted).toBe(true);
  });

  test('a verb answered in full is not cancelled when its connection closes', async () => {
    const agent = new Agent({ keepAlive: true });
    expect((await post('/filter', JSON.stringify({ Pod: pod, NodeNames: ['n1'] }), 'POST', agent)).status).toBe(200);
    const signal = filterSignals.at(-1)!;
    const closed = new Promise<void>((resolve) => Object.values(agent.freeSockets).flat()[0]!.once('close', () => resolve()));
    agent.destroy();
    await closed;
    expect(signal.aborted).toBe(false);
  });

  test('a caller that leaves cancels its verb', async () => {
    const before = filterSignals.length;
    const req = request(`${server.urlPrefix}/filter`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ Pod: pod, NodeNames: ['hang'] }));
    await pollUntil(async () => (filterSignals.length > before ? true : undefined), { what: 'the verb runs', timeoutMs: 10_000 });
    req.destroy();
    const signal = filterSignals.at(-1)!;
    await pollUntil(async () => (signal.aborted ? true : undefined), { what: 'the verb is cancelled', timeoutMs: 10_000 });
    expect((signal.reason as Error).message).toBe('the caller closed the connection');
  });

  test('/healthz answers', async () => {
    expect((await post('/healthz', '', 'GET')).status).toBe(200);
  });
});
