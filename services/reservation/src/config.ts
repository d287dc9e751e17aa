import { MAX_PERMIT_WAIT_MS } from '@schedmesh/model';
import { commonConfigSchema, duration, natsConfigSchema } from '@schedmesh/runtime';
import { z } from 'zod';
import { DEFAULT_CONFIRMED_TTL_MS, MIN_TTL_MS } from './ledger.js';
import { DEFAULT_GANG_MEMBER_WAIT_MS, DEFAULT_NODE_WAIT_MS } from './reservations.js';

const withinWait = (what: string) =>
  [(ms: number) => ms >= MIN_TTL_MS && ms <= MAX_PERMIT_WAIT_MS, { message: `${what} must be between 1s and 15m` }] as const;

/**
 * The reservation service's options: the common ones plus redis, nats (the
 * runtime's one NATS block) and reservation. Environment: SCHEDMESH_REDIS__URL,
 * SCHEDMESH_NATS__URL, SCHEDMESH_NATS__STREAM, SCHEDMESH_NATS__TOKEN,
 * SCHEDMESH_RESERVATION__DEFAULT_TTL, …
 */
export const reservationConfigSchema = commonConfigSchema.extend({
  redis: z
    .object({
      /** "redis://[[user]:password@]host:port[/db]"; keep the password out of it with passwordFile. */
      url: z.string().min(1).default('redis://127.0.0.1:6379'),
      /** A file holding the Redis password (a mounted Secret), re-read at every reconnect. */
      passwordFile: z.string().min(1).optional(),
      /** Prefix of every key (several deployments may share one Redis). */
      keyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9:_.-]+$/, 'letters, digits and : _ . - only')
        .default('schedmesh:rsv'),
      /** How long one command may wait for Redis before the call fails UNAVAILABLE. */
      commandTimeout: duration().default(2_000),
      /** How often the epoch marker is checked for a Redis that lost its data. */
      checkInterval: duration().default(500),
      /**
       * Replicas that must hold a grant or a Confirm before it is answered
       * (Redis WAIT): with Redis replicas and failover, set it to 1 or more,
       * or a failover to a replica that had not received a grant loses it
       * and the capacity is granted twice. 0 = do not wait (one Redis).
       */
      waitReplicas: z.number().int().min(0).max(10).default(0),
      /** How long a grant waits for waitReplicas acknowledgements before it fails UNAVAILABLE (and is given back). */
      waitTimeout: duration().default(200),
      /**
       * After a Redis loss, how long grants wait at most for every replica
       * to put its leases back (the restore barrier; a replica that died
       * with Redis never does). It bounds how long a live but slow replica
       * (CPU-starved, replaying a long stream) may take to notice the loss
       * and put its leases back. A replica that died with Redis took its
       * leases with it: waiting longer for it protects nothing, and a
       * lease's lifetime (up to 15 min) would stop scheduling that long.
       */
      restoreWait: duration()
        .refine((ms) => ms >= 1_000 && ms <= 12 * 3_600_000, { message: 'redis.restoreWait must be between 1s and 12h' })
        .default(120_000),
    })
    .strict()
    .superRefine((r, ctx) => {
      if (r.passwordFile !== undefined && urlPassword(r.url) !== '') {
        ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'redis.url carries a password too: set one of them (passwordFile keeps it out of the config)' });
      }
    })
    .prefault({}),
  nats: natsConfigSchema.prefault({}),
  reservation: z
    .object({
      /** Lease TTL when a Reserve names none. */
      defaultTtl: duration()
        .default(30_000)
        .refine(...withinWait('reservation.defaultTtl')),
      /**
       * How long a confirmed lease holds its capacity when no bound event of
       * the pod settles it (a Confirm for a pod that was never bound). Longer
       * than any cluster-stream outage the ledger should ride out.
       */
      confirmedTtl: duration()
        .default(DEFAULT_CONFIRMED_TTL_MS)
        .refine((ms) => ms >= 1_000 && ms <= 12 * 3_600_000, { message: 'reservation.confirmedTtl must be between 1s and 12h' }),
      /** How often lapsed leases and gangs past their deadline are swept without a caller. */
      sweepInterval: duration()
        .default(1_000)
        .refine((ms) => ms >= 10 && ms <= 60_000, { message: 'reservation.sweepInterval must be between 10ms and 1m' }),
      /** How long a gang waits at Permit when neither the call nor the pod group says. */
      permitDefaultTimeout: duration()
        .default(60_000)
        .refine(...withinWait('reservation.permitDefaultTimeout')),
      /** How often a member waiting at Permit re-reads its gang without news. */
      permitPollInterval: duration().default(500),
      /**
       * How long a Reserve with a pod group waits for the cluster stream to
       * show the pod (a real pod carrying the group) before refusing it.
       */
      gangMemberWait: duration()
        .default(DEFAULT_GANG_MEMBER_WAIT_MS)
        .refine((ms) => ms <= 30_000, { message: 'reservation.gangMemberWait must be at most 30s' }),
      /**
       * How long a Reserve on a node this replica has not seen yet waits for
       * the cluster stream to reach the caller's min_generation (the node was
       * just added, or this replica is behind the caller's snapshot) before
       * answering NOT_FOUND. A known node never waits.
       */
      nodeWait: duration()
        .default(DEFAULT_NODE_WAIT_MS)
        .refine((ms) => ms <= 30_000, { message: 'reservation.nodeWait must be at most 30s' }),
    })
    .strict()
    .prefault({}),
});

/** The password inside a Redis URL ("" if none, or if it is no URL: ioredis reports that when it connects). */
function urlPassword(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    return '';
  }
}

/** The resolved configuration. */
export type ReservationConfig = z.output<typeof reservationConfigSchema>;
