import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '@schedmesh/testkit';
import type { LookupAddress } from 'node:dns';
import { EndpointPolicy } from './endpoint-policy.js';
import { PluginCallError } from './failures.js';
import type { Resolver } from './guarded-lookup.js';
import { PluginHttp } from './plugin-http.js';

let served = 0;
const server = createServer((req, res) => {
  served++;
  if (req.url === '/big') res.end(JSON.stringify({ pad: 'x'.repeat(10_000) }));
  else if (req.url === '/reset') req.socket.destroy();
  else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
let base: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function post(url: string, { endpoints = EndpointPolicy.default, resolve }: { endpoints?: EndpointPolicy; resolve?: Resolver } = {}): Promise<unknown> {
  const http = new PluginHttp({ endpoint: new URL(url), maxResponseBytes: 1024, endpoints, ...(resolve ? { resolve } : {}) });
  try {
    return await http.post('{}', { 'content-type': 'application/json' }, new AbortController().signal);
  } catch (err) {
    return err;
  } finally {
    await http.close();
  }
}

test('a JSON answer is parsed', async () => {
  expect(await post(`${base}/`)).toEqual({ ok: true });
});

test('a refused connection is a network failure that never reached the plugin (safe to repeat anywhere)', async () => {
  const err = await post(`http://127.0.0.1:${await freePort()}/`);
  expect(err).toBeInstanceOf(PluginCallError);
  expect(err).toMatchObject({ kind: 'network', transient: true, notDelivered: true });
});

test('a connection reset after the request was sent is transient but may have been delivered', async () => {
  expect(await post(`${base}/reset`)).toMatchObject({ kind: 'network', transient: true, notDelivered: false });
});

test('an answer larger than maxResponseBytes is a bad response', async () => {
  expect(await post(`${base}/big`)).toMatchObject({ kind: 'bad_response', message: expect.stringContaining('maxResponseBytes') });
});

// Review M6: a name the configuration allowed is checked again, against what it resolves to, at every connection.
// No resolver here can make a name point at a link-local address, so these names resolve through a table (a stand-in for DNS).
describe('an endpoint name that resolves to a link-local (metadata) address is not connected to', () => {
  const resolveTo =
    (...addresses: string[]): Resolver =>
    (_hostname, _options, callback) =>
      callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
  const port = (): string => new URL(base).port;

  test.each([
    ['the metadata address', ['169.254.169.254']],
    ['a loopback and an IPv6 link-local address', ['127.0.0.1', 'fe80::1']],
  ])('refused: %s', async (_what, addresses) => {
    const before = served;
    const err = await post(`http://plugin.test:${port()}/`, { resolve: resolveTo(...addresses) });
    expect(err).toBeInstanceOf(PluginCallError);
    expect(err).toMatchObject({ kind: 'network', reason: 'the connection to the plugin failed (ERR_ENDPOINT_ADDRESS_REFUSED)', transient: false, notDelivered: false });
    expect((err as Error).message).toContain('a link-local or metadata address');
    expect(served).toBe(before);
  });

  test('a name that resolves to an ordinary address is connected to', async () => {
    expect(await post(`http://plugin.test:${port()}/`, { resolve: resolveTo('127.0.0.1') })).toEqual({ ok: true });
  });

  test.each<[string, string[] | undefined, string, boolean]>([
    ['the default policy', undefined, '169.254.169.254', false],
    ['the default policy', undefined, 'fe80::1', false],
    ['the default policy', undefined, '10.0.0.7', true],
    ['an allowlist of names only', ['plugin.test'], '169.254.169.254', false],
    ['an allowlist naming the link-local CIDR', ['plugin.test', '169.254.0.0/16'], '169.254.169.254', true],
  ])('%s (%j): a name resolving to %s may be connected to: %s', (_what, entries, address, allowed) => {
    const policy = entries ? EndpointPolicy.allowlist(entries).policy : EndpointPolicy.default;
    expect(policy.addressProblem(address) === undefined).toBe(allowed);
  });
});
