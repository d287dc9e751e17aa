/**
 * The per-call cost of the runtime's gRPC server middleware (OpenTelemetry,
 * Prometheus, the in-flight limit, error mapping and logging): one trivial
 * handler (an Unreserve that answers at once) served four ways in one process
 * and called over loopback by a plain nice-grpc client, one call at a time and
 * then 16 at a time:
 *
 * - a bare nice-grpc server, no middleware (the floor, and the baseline);
 * - nice-grpc + the OpenTelemetry middleware alone;
 * - nice-grpc + the Prometheus middleware alone;
 * - the runtime's server (`startService`), the whole chain.
 *
 *     npm run build && npx tsx bench/grpc-server.bench.ts
 *
 * The process installs the runtime's tracer provider first, as every service
 * does. Rounds are interleaved; the table shows the median round: calls per
 * second and its ratio to the bare server, and the process's CPU time per
 * call (client and server together), which a loaded machine disturbs less —
 * what a mode adds over the bare server is its middleware's cost.
 */
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { ReservationServiceImplementation } from '@schedmesh/proto/v1/reservation';
import { commonConfigSchema, initTelemetry, startService } from '@schedmesh/runtime';
import { createChannel, createClient, createServer, ServerError, Status } from 'nice-grpc';
import type { ServerMiddleware } from 'nice-grpc-common';
import { openTelemetryServerMiddleware } from 'nice-grpc-opentelemetry';
import { prometheusServerMiddleware } from 'nice-grpc-prometheus';
import { callRound, interleavedRounds, printTable, runBench } from './support.js';

const ROUNDS = 7;
const CALLS_PER_ROUND = 1_000;

const unimplemented = async (): Promise<never> => {
  throw new ServerError(Status.UNIMPLEMENTED, 'not in this benchmark');
};
const impl: ReservationServiceImplementation = {
  unreserve: async () => ({ released: false }),
  reserve: unimplemented,
  reserveBatch: unimplemented,
  unreserveBatch: unimplemented,
  confirmBatch: unimplemented,
  confirm: unimplemented,
  renew: unimplemented,
  permit: unimplemented,
  getReservation: unimplemented,
  getLedger: unimplemented,
};

/** A bare nice-grpc server with the given middleware (none: the floor); resolves with its port and a stop. */
async function bare(middleware: ServerMiddleware | undefined): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = middleware ? createServer().use(middleware) : createServer();
  server.add(ReservationServiceDefinition, impl);
  const port = await server.listen('127.0.0.1:0');
  return { port, stop: () => server.shutdown() };
}

async function runtimeServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const config = commonConfigSchema.parse({ grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' } });
  const runtime = startService({ name: 'grpc-server-bench', config, handleSignals: false });
  runtime.grpc.add(ReservationServiceDefinition, impl);
  const { grpcPort } = await runtime.listen();
  runtime.setReady(true);
  return { port: grpcPort, stop: () => runtime.stop() };
}

async function main(): Promise<void> {
  initTelemetry({ serviceName: 'grpc-server-bench' });
  const modes = [
    { name: 'bare nice-grpc (no middleware)', start: () => bare(undefined) },
    { name: '+ OpenTelemetry middleware only', start: () => bare(openTelemetryServerMiddleware()) },
    { name: '+ Prometheus middleware only', start: () => bare(prometheusServerMiddleware()) },
    { name: "the runtime's server (whole chain)", start: runtimeServer },
  ];
  const servers = [];
  for (const m of modes) servers.push(await m.start());
  const channels = servers.map((s) => createChannel(`127.0.0.1:${s.port}`));
  const clients = channels.map((ch) => createClient(ReservationServiceDefinition, ch));
  const request = { podUid: 'bench', fencingVersion: 1 };
  try {
    const rows: string[][] = [];
    for (const parallel of [1, 16]) {
      const rounds = await interleavedRounds(clients.map((c) => () => callRound(() => c.unreserve(request), CALLS_PER_ROUND, parallel)), ROUNDS);
      const base = rounds[0]!;
      modes.forEach((m, i) => {
        const { rate, cpuUsPerCall } = rounds[i]!;
        rows.push([m.name, String(parallel), rate.toFixed(0), (rate / base.rate).toFixed(2), cpuUsPerCall.toFixed(0), `+${(cpuUsPerCall - base.cpuUsPerCall).toFixed(0)}`]);
      });
    }
    // Client and server share this process: the CPU a mode adds over the bare server is its server middleware's.
    printTable(console.log, ['server', 'in flight', 'calls/s', 'vs bare', 'CPU µs/call', 'CPU vs bare'], rows);
  } finally {
    for (const ch of channels) ch.close();
    for (const s of servers) await s.stop();
  }
}

runBench('grpc-server', main);
