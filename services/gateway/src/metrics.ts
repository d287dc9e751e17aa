import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { FailureKind } from './failures.js';
import type { PointName } from './points.js';

/** The breaker states as the gauge reports them. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';
const breakerValues: Record<BreakerStateName, number> = { closed: 0, open: 1, 'half-open': 2 };

/**
 * The gateway's Prometheus metrics, registered on the service registry:
 * - schedmesh_gateway_plugin_call_duration_seconds{plugin,point,outcome}: calls
 *   that went to the plugin (retries included; not cache hits or open breakers);
 * - schedmesh_gateway_plugin_errors_total{plugin,point,kind}: failed calls by
 *   kind (timeout, http_status, bad_response, breaker_open, network, internal,
 *   request_too_large);
 * - schedmesh_gateway_plugin_breaker_state{plugin}: 0 closed, 1 open, 2 half-open;
 * - schedmesh_gateway_plugin_cache_hits_total / _misses_total{plugin,point};
 * - schedmesh_gateway_config_reloads_total{source,result}.
 */
export class GatewayMetrics {
  readonly #latency: Histogram<'plugin' | 'point' | 'outcome'>;
  readonly #errors: Counter<'plugin' | 'point' | 'kind'>;
  readonly #breaker: Gauge<'plugin'>;
  readonly #hits: Counter<'plugin' | 'point'>;
  readonly #misses: Counter<'plugin' | 'point'>;
  readonly #reloads: Counter<'source' | 'result'>;

  constructor(registry: Registry) {
    this.#latency = reuse(registry, 'schedmesh_gateway_plugin_call_duration_seconds', () =>
      new Histogram({
        name: 'schedmesh_gateway_plugin_call_duration_seconds',
        help: 'Time spent on a plugin call, retries included (not cache hits or calls refused by an open breaker).',
        labelNames: ['plugin', 'point', 'outcome'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    );
    this.#errors = reuse(registry, 'schedmesh_gateway_plugin_errors_total', () =>
      new Counter({
        name: 'schedmesh_gateway_plugin_errors_total',
        help: 'Failed plugin calls by kind: timeout, http_status, bad_response, breaker_open, network, internal, request_too_large.',
        labelNames: ['plugin', 'point', 'kind'],
        registers: [registry],
      }),
    );
    this.#breaker = reuse(registry, 'schedmesh_gateway_plugin_breaker_state', () =>
      new Gauge({
        name: 'schedmesh_gateway_plugin_breaker_state',
        help: 'Circuit breaker state per plugin: 0 closed, 1 open, 2 half-open.',
        labelNames: ['plugin'],
        registers: [registry],
      }),
    );
    this.#hits = reuse(registry, 'schedmesh_gateway_plugin_cache_hits_total', () =>
      new Counter({ name: 'schedmesh_gateway_plugin_cache_hits_total', help: 'Plugin answers served from the result cache.', labelNames: ['plugin', 'point'], registers: [registry] }),
    );
    this.#misses = reuse(registry, 'schedmesh_gateway_plugin_cache_misses_total', () =>
      new Counter({ name: 'schedmesh_gateway_plugin_cache_misses_total', help: 'Cacheable plugin calls not found in the result cache.', labelNames: ['plugin', 'point'], registers: [registry] }),
    );
    this.#reloads = reuse(registry, 'schedmesh_gateway_config_reloads_total', () =>
      new Counter({ name: 'schedmesh_gateway_config_reloads_total', help: 'Plugin configuration reloads by source and result (applied, unchanged, rejected).', labelNames: ['source', 'result'], registers: [registry] }),
    );
  }

  callFinished(plugin: string, point: PointName, outcome: 'success' | 'failure', seconds: number): void {
    this.#latency.observe({ plugin, point, outcome }, seconds);
  }

  failed(plugin: string, point: PointName, kind: FailureKind): void {
    this.#errors.inc({ plugin, point, kind });
  }

  breakerState(plugin: string, state: BreakerStateName): void {
    this.#breaker.set({ plugin }, breakerValues[state]);
  }

  /** Drops a removed plugin's breaker series (its counters stay, as counters do). */
  forget(plugin: string): void {
    this.#breaker.remove({ plugin });
  }

  cache(plugin: string, point: PointName, hit: boolean): void {
    (hit ? this.#hits : this.#misses).inc({ plugin, point });
  }

  reload(source: 'file' | 'configmap' | 'api', result: 'applied' | 'unchanged' | 'rejected'): void {
    this.#reloads.inc({ source, result });
  }
}

// Two gateways on one registry (tests) share the metric objects instead of failing to register twice.
function reuse<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
