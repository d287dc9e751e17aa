import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createGrpcServer, createLogger } from '@schedmesh/runtime';
import type { GrpcServer } from '@schedmesh/runtime';
import { makeTestPki } from '@schedmesh/testkit';
import type { TestPki } from '@schedmesh/testkit';
import { runCli } from './cli.js';
import type { StatusView } from './views.js';

/** Runs the command line in-process, collecting what it writes. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env,
    readInput: async () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
  });
  return { code, stdout, stderr };
}

describe('the command line', () => {
  test('--help prints the usage on stdout, exit 0; no command prints it on stderr, exit 2', async () => {
    const help = await run(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: schedmesh <command> \[flags\]/);
    expect(help.stdout).toMatch(/^ {2}--scheduler HOST:PORT\s+the scheduler's gRPC address \(default 127\.0\.0\.1:50057\)$/m);
    const none = await run([]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^Usage:/);
  });

  test.each([
    [['explain', 'a/b'], /^schedmesh: unknown command "explain": expected why, schedule or status/],
    [['why', 'a/b', '--colour'], /^schedmesh: Unknown option '--colour'/],
    [['why'], /^schedmesh: why takes one pod: schedmesh why NAMESPACE\/POD/],
    [['why', 'a/b/c'], /^schedmesh: expected NAMESPACE\/POD \(or POD with -n NAMESPACE\), got "a\/b\/c"/],
    [['why', 'Not_A_Name'], /^schedmesh: expected NAMESPACE\/POD/],
    [['schedule', '--dry-run'], /^schedmesh: schedule needs the pod: -f FILE/],
    [['schedule', '-f', 'pod.yaml'], /^schedmesh: schedule needs --dry-run: the CLI only asks/],
    [['schedule', '-f', 'missing.yaml', '--dry-run'], /^schedmesh: -f missing.yaml: cannot read it \(ENOENT\)/],
    [['status', 'now'], /^schedmesh: status takes no arguments/],
    [['status', '-o', 'yaml'], /^schedmesh: --output: expected "table" or "json", got "yaml"/],
  ])('%p is a usage error (exit 2) that says what is wrong', async (argv, message) => {
    const out = await run(argv);
    expect(out).toMatchObject({ code: 2, stdout: '' });
    expect(out.stderr).toMatch(message);
  });
});

describe('mTLS to the services', () => {
  let pki: TestPki;
  let server: GrpcServer;
  let address: string;

  beforeAll(async () => {
    pki = makeTestPki();
    // A real gRPC server of the runtime, as every service runs it: health, and clients must present a certificate.
    server = createGrpcServer({ logger: createLogger({ service: 'cli-test', level: 'silent' }), tls: { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert } });
    address = `localhost:${await server.listen('127.0.0.1:0')}`;
    server.setServing(true);
  });
  afterAll(async () => {
    await server.shutdown(500);
    pki.remove();
  });

  test('with the CA, a client certificate and its key from the environment, the service answers', async () => {
    const env = { SCHEDMESHCTL_INFORMER_ADDRESS: address, SCHEDMESHCTL_TLS_CA: pki.caCert, SCHEDMESHCTL_TLS_CERT: pki.clientCert, SCHEDMESHCTL_TLS_KEY: pki.clientKey };
    const out = await run(['status', '--services', 'informer', '-o', 'json'], env);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(out.stdout) as StatusView).services).toEqual([{ service: 'informer', address, health: 'serving', detail: '' }]);
  });

  test('without a client certificate the service refuses: the row says so and status exits 4', async () => {
    const out = await run(['status', '--services', 'informer', '--informer', address, '--tls-ca', pki.caCert]);
    expect(out.code).toBe(4);
    expect(out.stdout).toMatch(new RegExp(`^informer\\s+${address}\\s+unreachable\\s+-\\s+informer unreachable at ${address}`, 'm'));
  });
});

describe('a service that accepts connections and never answers', () => {
  test('the call ends at --timeout with a message saying so (exit 1)', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const out = await run(['why', 'default/web', '--scheduler', address, '--timeout', '300ms']);
      expect(out).toMatchObject({ code: 1, stdout: '' });
      expect(out.stderr).toBe(`schedmesh: scheduler at ${address} did not answer within 300 ms: is it overloaded? raise --timeout\n`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
