// What the run started, stopped in reverse order, each within a bound: on the
// normal end, a failure, a signal, or the run's time limit. Whatever does not
// stop in time is SIGKILLed by testkit's exit hook when the process exits.
import { startControlPlane, startNats, startRedis } from '@schedmesh/testkit';
import type { ControlPlane, RedisServer, TestServer } from '@schedmesh/testkit';

/** The stops of what the run started. */
export class Teardown {
  private readonly stops: { name: string; stop: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(name: string, stop: () => Promise<unknown>): void {
    this.stops.push({ name, stop });
  }

  /** Runs every stop once (later calls share the first run), last added first, each given `boundMs`. */
  run(log: (line: string) => void, boundMs = 20_000): Promise<void> {
    this.running ??= (async () => {
      for (const { name, stop } of this.stops.reverse()) {
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          stop().then(
            () => 'stopped',
            (err: unknown) => `failed to stop: ${err instanceof Error ? err.message : String(err)}`,
          ),
          new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`did not stop within ${boundMs / 1000} s (killed at exit)`), boundMs))),
        ]);
        clearTimeout(timer);
        if (outcome !== 'stopped') log(`${name}: ${outcome}`);
      }
    })();
    return this.running;
  }
}

/** The servers every cluster benchmark runs on: a redis-server, a nats-server and etcd + kube-apiserver, each stopped by `teardown`. */
export async function startBenchServers(teardown: Teardown): Promise<{ redis: RedisServer; nats: TestServer; cp: ControlPlane }> {
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  teardown.add('redis', () => redis.stop());
  teardown.add('nats', () => nats.stop());
  const cp = await startControlPlane();
  teardown.add('control plane', () => cp.stop());
  return { redis, nats, cp };
}
