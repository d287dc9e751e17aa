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
import { printTable, runBench } from './support.js';

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

type Client = ReturnType<typeof createServiceClient<typeof AdmissionServiceDefinition>>;
const request = { pod: { name: 'p', uid: 'u', namespace: 'd' } };

/** Calls per second over CALLS_PER_ROUND calls, `parallel` in flight at a time. */
async function round(client: Client, parallel: number): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < CALLS_PER_ROUND) {
        next++;
        await client.admit(request);
      }
    }),
  );
  return CALLS_PER_ROUND / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
      for (const c of clients) await round(c, parallel); // warm-up: connections, TLS handshakes, JIT
      const rates: number[][] = modes.map(() => []);
      for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < clients.length; i++) rates[i]!.push(await round(clients[i]!, parallel));
      const base = median(rates[0]!);
      modes.forEach((m, i) => {
        const rate = median(rates[i]!);
        rows.push([m.name, String(parallel), rate.toFixed(0), (1e6 / rate).toFixed(0), (rate / base).toFixed(2)]);
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
