import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { freePort } from '@schedmesh/testkit';
import { PluginCallError } from './failures.js';
import { PluginHttp } from './plugin-http.js';

const server = createServer((req, res) => {
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

async function post(url: string): Promise<unknown> {
  const http = new PluginHttp({ endpoint: new URL(url), maxResponseBytes: 1024 });
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
