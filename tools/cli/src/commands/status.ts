/**
 * `schedmesh status`: every service's gRPC health at its address, the
 * generation of its cluster state where its API tells it (the scheduler's
 * view, the snapshot), and the scheduler's queues. Asks every service at
 * once; one that does not answer is a row, not the end of the command.
 */
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health';
import { SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import type { GetQueueStatusResponse } from '@schedmesh/proto/v1/scheduler';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { SERVICES } from '../options.js';
import type { ServiceName } from '../options.js';
import type { ServiceStatusView, StatusView } from '../views.js';
import type { CommandContext } from './context.js';

const HEALTH: Partial<Record<HealthCheckResponse_ServingStatus, ServiceStatusView['health']>> = {
  [HealthCheckResponse_ServingStatus.SERVING]: 'serving',
  [HealthCheckResponse_ServingStatus.NOT_SERVING]: 'not-serving',
};

/** Asks `services` (all, in the usual order, by default). */
export async function status(ctx: CommandContext, services: readonly ServiceName[] = SERVICES): Promise<StatusView> {
  const scheduler = ctx.connections.client('scheduler', SchedulerServiceDefinition);
  const snapshot = ctx.connections.client('snapshot', SnapshotServiceDefinition);
  const [healths, queues, snapshotGeneration] = await Promise.all([
    Promise.all(services.map((s) => health(ctx, s))),
    services.includes('scheduler') ? answer(ctx, 'scheduler', () => scheduler.getQueueStatus({})) : undefined,
    services.includes('snapshot') ? answer(ctx, 'snapshot', async () => (await snapshot.waitForGeneration({ minGeneration: 0 })).generation) : undefined,
  ]);
  const rows = healths.map((row): ServiceStatusView => {
    if (row.service === 'scheduler' && queues) return { ...row, generation: queues.generation, detail: row.detail || (queues.synced ? '' : 'view not synced with the cluster stream yet') };
    if (row.service === 'snapshot' && snapshotGeneration !== undefined) return { ...row, generation: snapshotGeneration };
    return row;
  });
  return {
    services: rows,
    ...(queues ? { queues: queuesView(queues) } : {}),
    healthy: rows.every((r) => r.health === 'serving'),
  };
}

async function health(ctx: CommandContext, service: ServiceName): Promise<ServiceStatusView> {
  const address = ctx.options.services[service].address;
  const client = ctx.connections.client(service, HealthDefinition);
  try {
    const res = await ctx.connections.call(service, () => client.check({ service: '' }));
    return { service, address, health: HEALTH[res.status] ?? 'unknown', detail: '' };
  } catch (err) {
    return { service, address, health: 'unreachable', detail: (err as Error).message };
  }
}

/** A call whose failure the health row already tells: undefined instead. */
async function answer<T>(ctx: CommandContext, service: ServiceName, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await ctx.connections.call(service, fn);
  } catch {
    return undefined;
  }
}

function queuesView(q: GetQueueStatusResponse): StatusView['queues'] {
  return { active: q.active, backoff: q.backoff, unschedulable: q.unschedulable, inFlight: q.inFlight, recordedPods: q.recordedPods };
}
