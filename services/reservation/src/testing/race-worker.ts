/**
 * A racing client in its own OS process (forked by race.test.ts with tsx).
 * Protocol over IPC: the parent sends a job; the worker connects and answers
 * "ready"; on "go" (sent to every worker at once) it places its pods over
 * gRPC and sends the result back.
 */
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { Resources } from '@schedmesh/proto/v1/types';
import { createChannel, createClient } from 'nice-grpc';
import { placePods } from './race.js';

/** The job a worker receives. */
export interface RaceJob {
  address: string;
  pods: string[];
  nodes: string[];
  requests: Resources;
  seed: number;
  holder: string;
}

process.once('message', (job: RaceJob) => {
  const channel = createChannel(job.address);
  const client = createClient(ReservationServiceDefinition, channel);
  // A first call opens the connection, so the race starts on warm channels.
  client
    .getLedger({ nodeName: job.nodes[0] ?? '' })
    .catch(() => undefined)
    .then(() => {
      process.once('message', () => {
        placePods(client, job)
          .then((result) => {
            channel.close();
            process.send?.({ ok: true, result }, () => process.exit(0));
          })
          .catch((err: unknown) => {
            process.send?.({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
          });
      });
      process.send?.({ ready: true });
    })
    .catch(() => process.exit(2));
});
