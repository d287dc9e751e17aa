import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { UnavailableError } from '@schedmesh/runtime';
import { KubeApi, KubeApiError, kubeRoute } from './api.js';

// Span names must not carry namespaces or object names: one name per kind of write.
test.each([
  ['/api/v1/namespaces/team-a/pods/web-0/binding', 'pods/binding'],
  ['/api/v1/namespaces/team-a/pods/web-0/eviction', 'pods/eviction'],
  ['/api/v1/namespaces/team-a/pods/web-0', 'pods'],
  ['/api/v1/namespaces/team-a/events', 'events'],
  ['/api/v1/nodes/node-1', 'nodes'],
  ['/api/v1/nodes/node-1/status', 'nodes/status'],
  ['/apis/events.k8s.io/v1/namespaces/team-a/events', 'events'],
  ['/apis/schedmesh.io/v1alpha1/admissionpolicies/lockdown', 'admissionpolicies'],
  ['/api/v1/namespaces/team-a/pods/web-0/status?fieldManager=schedmesh', 'pods/status'],
])('%s is %s', (path, route) => expect(kubeRoute(path)).toBe(route));

// A real HTTP server on loopback stands in for the API server: these tests are about the client's own handling.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function kubeConfig(server: string, token: string, kc = new KubeConfig()): KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

function api(options: ConstructorParameters<typeof KubeApi>[0]): KubeApi {
  const client = new KubeApi(options);
  cleanups.push(() => client.close());
  return client;
}

test('credentials are read once per credentialsTtlMs, and again at once after a 401', async () => {
  const revoked = new Set<string>();
  const seen: string[] = [];
  const { url } = await serve((req, res) => {
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    res.writeHead(revoked.has(auth) ? 401 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ reason: revoked.has(auth) ? 'Unauthorized' : '', path: req.url }));
  });
  const kc = kubeConfig(url, 'first');
  const client = api({ kubeConfig: kc, credentialsTtlMs: 3_600_000 });
  const signal = new AbortController().signal;

  expect((await client.get<{ path: string }>('/api/v1/namespaces/a/pods/p?x=1', signal)).body?.path).toBe('/api/v1/namespaces/a/pods/p?x=1');
  // The token rotates and the old one is refused: the kept credentials are used until the 401.
  kubeConfig(url, 'second', kc);
  revoked.add('Bearer first');
  const refused = await client.get('/api/v1/namespaces/a/pods/p', signal).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(KubeApiError);
  expect((refused as KubeApiError).status).toBe(401);
  expect((await client.post('/api/v1/namespaces/a/pods/p/binding', {}, signal)).status).toBe(200);
  expect(seen).toEqual(['Bearer first', 'Bearer first', 'Bearer second']);
});

test('a server that never answers is an UnavailableError after the budget, naming the call', async () => {
  const { url } = await serve(() => undefined);
  const client = api({ kubeConfig: kubeConfig(url, 't'), timeoutMs: 300 });
  const err = await client.post('/api/v1/namespaces/a/pods/p/binding?dryRun=All', {}, new AbortController().signal).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnavailableError);
  expect((err as Error).message).toBe('POST /api/v1/namespaces/a/pods/p/binding: the API server is unreachable (no answer within 300 ms)');
});

test("the caller's abort ends a request with its reason", async () => {
  const { url } = await serve(() => undefined);
  const client = api({ kubeConfig: kubeConfig(url, 't') });
  const ac = new AbortController();
  const pending = client.get('/api/v1/nodes/n1', ac.signal);
  const reason = new Error('caller gave up');
  ac.abort(reason);
  await expect(pending).rejects.toBe(reason);
});
