import { ConfigError, UnavailableError } from '@schedmesh/runtime';
import type { ChainableCommander, Redis } from 'ioredis';
import { allScripts } from './scripts.js';
import type { LuaScript } from './scripts.js';

/**
 * Redis access for the ledger: scripts by SHA (loaded once with SCRIPT LOAD;
 * after a restart that emptied the script cache, the NOSCRIPT reply reloads
 * the script and the call is repeated), and every failure that means "Redis is
 * not there" turned into an UnavailableError, so a caller gets UNAVAILABLE and
 * retries rather than INTERNAL.
 */
export class RedisStore {
  constructor(
    readonly redis: Redis,
    private readonly replication: ReplicationOptions = { replicas: 0, timeoutMs: 0 },
  ) {}

  /**
   * Waits until the writes of this connection so far reached
   * `replication.replicas` replicas (Redis WAIT), so a failover to one of
   * them keeps them. UNAVAILABLE if fewer acknowledged within the timeout; a
   * no-op when no replicas are asked for.
   */
  async replicated(what: string): Promise<void> {
    const { replicas, timeoutMs } = this.replication;
    if (replicas <= 0) return;
    const acked = await this.call(() => this.redis.wait(replicas, timeoutMs));
    if (acked < replicas) {
      throw new UnavailableError(`redis: ${what} reached ${acked} of ${replicas} replicas within ${timeoutMs} ms (redis.waitReplicas); retry shortly`);
    }
  }

  /**
   * Refuses a Redis the ledger cannot run on, with a ConfigError naming
   * redis.url: older than {@link MIN_REDIS_VERSION} (the ledger uses SET … GET,
   * and its scripts read TIME before writing), or a Redis Cluster node (the
   * client is a standalone one, and release-and-move spans several slots; one
   * primary, with replicas and failover, is the supported shape).
   */
  async requireSupportedServer(): Promise<void> {
    const [server, cluster] = await this.call(() => Promise.all([this.redis.info('server'), this.redis.info('cluster')]));
    const version = infoField(server, 'redis_version');
    if (version === undefined || compareVersions(version, MIN_REDIS_VERSION) < 0) {
      throw new ConfigError([`redis.url: the server is Redis ${version ?? '(unknown version)'}; the reservation service needs Redis ${MIN_REDIS_VERSION} or later (its scripts use SET … GET)`]);
    }
    if (infoField(cluster, 'cluster_enabled') === '1') {
      throw new ConfigError(['redis.url: the server is a Redis Cluster node; Redis Cluster is not supported (a standalone client; release-and-move spans slots): use one primary, with replicas and redis.waitReplicas for failover']);
    }
  }

  /** Loads every script (at start, and before a rebuild). */
  async loadScripts(): Promise<void> {
    await this.call(() => Promise.all(allScripts.map((s) => this.redis.script('LOAD', s.source))));
  }

  /** Runs a script by SHA; reloads it once on NOSCRIPT. */
  async run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== script.numberOfKeys) throw new TypeError(`${script.name}: expected ${script.numberOfKeys} keys, got ${keys.length}`);
    return this.call(async () => {
      try {
        return await this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        await this.redis.script('LOAD', script.source);
        return this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
      }
    });
  }

  /**
   * Runs one script for each entry in a single round trip (a pipeline of
   * EVALSHA); entries that met NOSCRIPT are loaded and run once more. The
   * replies come back in order, each the script's reply or the error its own
   * call would have thrown (Redis away: an UnavailableError).
   */
  async runMany(script: LuaScript, calls: readonly ScriptCall[]): Promise<Array<unknown>> {
    for (const c of calls) if (c.keys.length !== script.numberOfKeys) throw new TypeError(`${script.name}: expected ${script.numberOfKeys} keys, got ${c.keys.length}`);
    const replies = await this.pipelined(script, calls);
    const missing = replies.flatMap((r, i) => (r instanceof Error && isNoScript(r) ? [i] : []));
    if (missing.length > 0) {
      await this.call(() => this.redis.script('LOAD', script.source));
      const again = await this.pipelined(script, missing.map((i) => calls[i]!));
      missing.forEach((i, j) => (replies[i] = again[j]));
    }
    return replies.map((r) => (r instanceof Error ? toStoreError(r) : r));
  }

  private async pipelined(script: LuaScript, calls: readonly ScriptCall[]): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const c of calls) pipeline.evalsha(script.sha, c.keys.length, ...c.keys, ...c.args);
    const results = (await this.call(() => pipeline.exec())) ?? [];
    return calls.map((_, i) => {
      const [err, value] = results[i] ?? [new Error('redis: no reply to a pipelined command')];
      return err ?? value;
    });
  }

  /** Runs a pipeline of plain commands in one round trip: their replies, or the first failure (mapped as by {@link call}). */
  async exec(pipeline: ChainableCommander): Promise<unknown[]> {
    const results = (await this.call(() => pipeline.exec())) ?? [];
    return results.map(([err, value]) => {
      if (err) throw toStoreError(err);
      return value;
    });
  }

  /** Runs plain commands with the same error mapping. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err);
    }
  }
}

/** One script call of {@link RedisStore.runMany}. */
export interface ScriptCall {
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

/** How many replicas must hold a grant before it is answered (see {@link RedisStore.replicated}). */
export interface ReplicationOptions {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** The oldest Redis the ledger runs on (SET with GET came in 6.2). */
export const MIN_REDIS_VERSION = '6.2.0';

/** A field of an INFO reply ("name:value" lines). */
function infoField(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** Compares dotted versions numerically ("6.10.0" > "6.2.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

const unavailableReplies = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

/** Connection loss, timeouts and "not now" replies are UNAVAILABLE; any other reply error is a bug (INTERNAL). */
export function toStoreError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (err instanceof UnavailableError) return err;
  if (err.name === 'ReplyError' && !unavailableReplies.test(err.message)) return err;
  return new UnavailableError(`redis unavailable: ${err.message}`, { cause: err });
}

/** A node script's reply. */
export interface ScriptReply {
  readonly status: string;
  readonly payload: string;
  /** Pod uids whose leases this call released because they had lapsed. */
  readonly expired: readonly string[];
  /** The node's earliest lease expiry (ms) after the call; undefined if none. */
  readonly earliest: number | undefined;
  /** Redis TIME when the script ran (ms); undefined when it returned before reading it. */
  readonly nowMs: number | undefined;
}

/** Parses the 5-element reply of a node script. */
export function parseReply(raw: unknown): ScriptReply {
  if (!Array.isArray(raw) || raw.length < 5) throw new TypeError(`unexpected script reply: ${JSON.stringify(raw)}`);
  const [status, payload, expired, earliest, now] = raw as unknown[];
  return {
    status: String(status),
    payload: typeof payload === 'string' ? payload : '',
    expired: Array.isArray(expired) ? expired.map(String) : [],
    earliest: typeof earliest === 'string' && earliest !== '' ? Number(earliest) : undefined,
    nowMs: typeof now === 'string' && now !== '' ? Number(now) : undefined,
  };
}

/** A value of a script reply array as a string array (HGETALL and friends). */
export function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
