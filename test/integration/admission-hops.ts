// Admission services on loopback for the trace tests: each hop admits every
// pod after running its `admit` (which may call the next hop), so a chain of
// hops carries one trace through real gRPC calls.
import type { Channel } from 'nice-grpc';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { connectChannel, createGrpcServer, createServiceClient } from '@schedmesh/runtime';
import type { GrpcServer, Logger } from '@schedmesh/runtime';

export class AdmissionHops {
  private readonly servers: GrpcServer[] = [];
  private readonly channels: Channel[] = [];

  constructor(private readonly logger: Logger) {}

  /** Starts a hop that runs `admit`, then allows; answers its address. */
  async serve(admit: () => Promise<void>): Promise<string> {
    const server = createGrpcServer({ logger: this.logger });
    server.add(AdmissionServiceDefinition, {
      async admit() {
        await admit();
        return { decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, code: 0, reasonCode: 'Allowed', message: '', policies: [] };
      },
      async getAppState() {
        return { hibernating: false, source: '', wakeHint: '' };
      },
    });
    const port = await server.listen('127.0.0.1:0');
    server.setServing(true);
    this.servers.push(server);
    return `127.0.0.1:${port}`;
  }

  /** The mesh's client of the hop at `address` (its channel closed by {@link close}). */
  client(address: string) {
    return createServiceClient(AdmissionServiceDefinition, this.track(connectChannel(address)));
  }

  /** Closes `channel` with the hops. */
  track(channel: Channel): Channel {
    this.channels.push(channel);
    return channel;
  }

  async close(): Promise<void> {
    for (const c of this.channels) c.close();
    await Promise.all(this.servers.map((s) => s.shutdown(500)));
  }
}
