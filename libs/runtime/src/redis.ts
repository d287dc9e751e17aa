import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { redactUrl } from './nats.js';
import { readSecretText } from './secret-file.js';

/** Options of {@link connectRedis}. */
export interface RedisOptions {
  /** "redis://[:password@]host:port[/db]". */
  url: string;
  /** Client name shown by CLIENT LIST (the service name). */
  name: string;
  /** The logger for connection state changes. */
  logger: Logger;
  /** How long one command may wait for a (re)connection before failing, in ms (default 2 s). */
  commandTimeoutMs?: number;
  /**
   * A file holding the password (a mounted Secret), instead of one inside
   * `url`. Read at start and again before every reconnect, so a rotated
   * password applies without a restart. `passwordKey` names it in errors.
   */
  passwordFile?: string;
  /** The configuration key of `passwordFile`, for its errors (default "redis.passwordFile"). */
  passwordKey?: string;
}

/**
 * Connects to Redis and waits until it is ready. While Redis is down, commands
 * fail fast (no unbounded offline queue) so callers can degrade; the client
 * reconnects with capped backoff forever.
 */
export async function connectRedis(options: RedisOptions): Promise<Redis> {
  const { passwordFile } = options;
  const password = passwordFile === undefined ? undefined : (): string => readSecretText(passwordFile, options.passwordKey ?? 'redis.passwordFile');
  const redis = new Redis(options.url, {
    ...(password ? { password: password() } : {}),
    connectionName: options.name,
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  });
  const where = redactUrl(options.url);
  redis.on('ready', () => options.logger.info({ redis: where }, 'redis ready'));
  redis.on('end', () => options.logger.info({ redis: where }, 'redis connection closed'));
  redis.on('reconnecting', (ms: number) => {
    options.logger.warn({ redis: where, inMs: ms }, 'redis reconnecting');
    if (!password) return;
    try {
      redis.options.password = password();
    } catch (err) {
      options.logger.warn({ err: (err as Error).message }, 'redis: the password file could not be read again; the last password is used');
    }
  });
  redis.on('error', (err: Error) => options.logger.warn({ redis: where, err: err.message }, 'redis error'));
  await redis.connect();
  return redis;
}
