// Certificate rotation without a restart, over real gRPC on loopback: the
// server and the client read their PEM files again while running, as they do
// when Kubernetes updates a mounted certificate Secret.
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Status } from 'nice-grpc';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import type { AdmissionServiceImplementation } from '@schedmesh/proto/v1/admission';
import { makeTestPki, pollUntil } from '@schedmesh/testkit';
import type { TestPki } from '@schedmesh/testkit';
import { ConfigError } from './errors.js';
import { clientConfigSchema, connectClient } from './grpc-client.js';
import type { ConnectedClient } from './grpc-client.js';
import { createGrpcServer } from './grpc-server.js';
import type { GrpcServer } from './grpc-server.js';
import { createLogger } from './logger.js';
import { ReloadingPemFiles } from './tls-files.js';

const RELOAD = '50ms';
const WAIT = { timeoutMs: 30_000, intervalMs: 100 };

const admission: AdmissionServiceImplementation = {
  async admit(request) {
    return { decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, code: 0, reasonCode: 'Allowed', message: `admitted ${request.pod?.name ?? ''}`, policies: [] };
  },
  async getAppState() {
    return { hibernating: false, reason: '' };
  },
};

/** Replaces `dest` at once, as the kubelet swaps a Secret volume's files. */
function install(source: string, dest: string): void {
  copyFileSync(source, `${dest}.new`);
  renameSync(`${dest}.new`, dest);
}

let a: TestPki;
let b: TestPki;
let dir: string;
let server: GrpcServer | undefined;
const clients: ConnectedClient<typeof AdmissionServiceDefinition>[] = [];
const logLines: string[] = [];
const logger = createLogger({
  service: 'tls-test',
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});

beforeAll(() => {
  a = makeTestPki('ca-a');
  b = makeTestPki('ca-b');
});

afterAll(() => {
  a.remove();
  b.remove();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.shutdown(500);
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
  logLines.length = 0;
});

/** A server whose certificate, key and client CA are files in `dir`, first copied from `pki`. */
async function startServer(pki: TestPki): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'schedmesh-tls-'));
  install(pki.serverCert, join(dir, 'tls.crt'));
  install(pki.serverKey, join(dir, 'tls.key'));
  install(pki.caCert, join(dir, 'ca.crt'));
  server = createGrpcServer({
    logger,
    tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), clientCaFile: join(dir, 'ca.crt'), reloadInterval: 50 },
  });
  server.add(AdmissionServiceDefinition, admission);
  server.setServing(true);
  return `localhost:${await server.listen('127.0.0.1:0')}`;
}

function client(address: string, tls: { caFile: string; certFile: string; keyFile: string }): ConnectedClient<typeof AdmissionServiceDefinition> {
  const c = connectClient(AdmissionServiceDefinition, clientConfigSchema.parse({ address, tls: { ...tls, reloadInterval: RELOAD }, deadline: '3s' }), { retryMaxAttempts: 1, logger });
  clients.push(c);
  return c;
}

/** One call on a new channel that trusts `pki`'s CA and presents its client certificate. */
async function callAs(address: string, pki: TestPki): Promise<string> {
  const c = client(address, { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey });
  try {
    return (await c.client.admit({ pod: { name: 'rotated', uid: 'u', namespace: 'd' } })).message;
  } finally {
    c.close();
  }
}

describe('a gRPC server', () => {
  test('serves a rotated certificate and client CA to new connections without a restart', async () => {
    const address = await startServer(a);
    await expect(callAs(address, a)).resolves.toBe('admitted rotated');
    await expect(callAs(address, b)).rejects.toMatchObject({ code: Status.UNAVAILABLE });

    install(b.serverCert, join(dir, 'tls.crt'));
    install(b.serverKey, join(dir, 'tls.key'));
    install(b.caCert, join(dir, 'ca.crt'));

    await pollUntil(() => callAs(address, b), { what: 'the server to present the rotated certificate', ...WAIT });
    await expect(callAs(address, a)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(logLines.some((l) => l.includes('rotated certificate files loaded'))).toBe(true);
  }, 60_000);

  test('keeps the certificates in use when the new files are not a valid pair', async () => {
    const address = await startServer(a);
    // Half a rotation: the certificate of the next Secret version, the key of this one.
    install(b.serverCert, join(dir, 'tls.crt'));
    await pollUntil(async () => (logLines.some((l) => l.includes('keeping the certificates in use')) ? true : undefined), { what: 'the torn rotation to be refused', ...WAIT });
    await expect(callAs(address, a)).resolves.toBe('admitted rotated');
    expect(logLines.join('')).not.toContain('PRIVATE KEY');

    install(b.serverKey, join(dir, 'tls.key'));
    install(b.caCert, join(dir, 'ca.crt'));
    await pollUntil(() => callAs(address, b), { what: 'the completed rotation to apply', ...WAIT });
  }, 60_000);
});

describe('a gRPC client', () => {
  test('presents a rotated client certificate on the same channel without a restart', async () => {
    const address = await startServer(b);
    const files = { caFile: join(dir, 'client-ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') };
    install(b.caCert, files.caFile);
    // A client certificate from a CA the server does not trust: refused.
    install(a.clientCert, files.certFile);
    install(a.clientKey, files.keyFile);
    const c = client(address, files);
    const admit = async (): Promise<string> => (await c.client.admit({ pod: { name: 'same-channel', uid: 'u', namespace: 'd' } })).message;
    await expect(admit()).rejects.toMatchObject({ code: Status.UNAVAILABLE });

    install(b.clientCert, files.certFile);
    install(b.clientKey, files.keyFile);
    await expect(pollUntil(admit, { what: 'the channel to present the rotated client certificate', ...WAIT })).resolves.toBe('admitted same-channel');
  }, 60_000);
});

describe('unusable files at start-up', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'schedmesh-tls-'));
  });

  test.each<[string, () => ConstructorParameters<typeof ReloadingPemFiles>[0], RegExp]>([
    ['a missing file', () => ({ certFile: join(dir, 'absent.crt'), keyFile: a.serverKey }), /TLS files certFile=.*absent\.crt.*ENOENT/],
    ['a key that does not match the certificate', () => ({ certFile: a.serverCert, keyFile: b.serverKey }), /TLS files certFile=.*key values mismatch/],
    ['a certificate without its key', () => ({ certFile: a.serverCert }), /certFile and keyFile go together/],
    ['nothing at all', () => ({}), /set certFile and keyFile, caFile, or both/],
  ])('%s is a configuration error', (_name, files, message) => {
    expect(() => new ReloadingPemFiles(files())).toThrow(ConfigError);
    expect(() => new ReloadingPemFiles(files())).toThrow(message);
  });
});
