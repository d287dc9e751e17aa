/**
 * The cost of mTLS and authorization per gRPC call: the same trivial service
 * (an Admit that answers at once) served three ways in one process, called
 * over loopback one call at a time and then 16 at a time:
 *
 * - plaintext (the baseline),
 * - server TLS,
 * - mTLS with the authorization interceptor (what the production overlay
 *   runs: a client certificate checked against the table per call).
 *
 *     npm run build && npx tsx bench/mtls.bench.ts
 *
 * Rounds of the three are interleaved, so the machine's noise falls on all of
 * them alike; the table shows the median round and the ratio to plaintext.
 */
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import type { AdmissionServiceImplementation } from '@schedmesh/proto/v1/admission';
import { commonConfigSchema, connectChannel, createServiceClient, startService } from '@schedmesh/runtime';
import type { ServiceRuntime } from '@schedmesh/runtime';
import { makeTestPki } from '@schedmesh/testkit';
import { callRound, interleavedRounds, printTable, runBench } from './support.js';

const ROUNDS = 7;
const CALLS_PER_ROUND = 400;

const impl: AdmissionServiceImplementation = {
  async admit() {
    return { decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, code: 0, reasonCode: 'Allowed', message: '', policies: [] };
  },
  async getAppState() {
    return { hibernating: false, source: '', wakeHint: '' };
  },
};

async function serve(tls: object | undefined): Promise<{ runtime: ServiceRuntime; port: number }> {
  const config = commonConfigSchema.parse({ grpc: { host: '127.0.0.1', port: 0, ...(tls ? { tls } : {}) }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } });
  const runtime = startService({ name: 'mtls-bench', config, handleSignals: false });
  runtime.grpc.add(AdmissionServiceDefinition, impl);
  const { grpcPort } = await runtime.listen();
  runtime.setReady(true);
  return { runtime, port: grpcPort };
}

const request = { pod: { name: 'p', uid: 'u', namespace: 'd' } };

async function main(): Promise<void> {
  const pki = makeTestPki('mtls-bench-ca');
  const scheduler = pki.issue('scheduler');
  const modes = [
    { name: 'plaintext', server: undefined, client: undefined },
    { name: 'TLS', server: { certFile: pki.serverCert, keyFile: pki.serverKey }, client: { caFile: pki.caCert } },
    {
      name: 'mTLS + authorization',
      server: { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert },
      client: { caFile: pki.caCert, certFile: scheduler.cert, keyFile: scheduler.key },
    },
  ] as const;
  const running = await Promise.all(modes.map((m) => serve(m.server)));
  const channels = modes.map((m, i) => connectChannel(`localhost:${running[i]!.port}`, m.client ? { tls: m.client } : {}));
  const clients = channels.map((ch) => createServiceClient(AdmissionServiceDefinition, ch, { retryMaxAttempts: 1, defaultDeadlineMs: 10_000 }));
  try {
    const rows: string[][] = [];
    for (const parallel of [1, 16]) {
      // The warm-up round also makes the connections and TLS handshakes.
      const rounds = await interleavedRounds(clients.map((c) => () => callRound(() => c.admit(request), CALLS_PER_ROUND, parallel)), ROUNDS);
      modes.forEach((m, i) => {
        const { rate } = rounds[i]!;
        rows.push([m.name, String(parallel), rate.toFixed(0), (1e6 / rate).toFixed(0), (rate / rounds[0]!.rate).toFixed(2)]);
      });
    }
    printTable(console.log, ['mode', 'in flight', 'calls/s', 'µs/call', 'vs plaintext'], rows);
  } finally {
    for (const ch of channels) ch.close();
    for (const r of running) await r.runtime.stop();
    pki.remove();
  }
}

runBench('mtls', main);
