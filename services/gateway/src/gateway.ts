import { randomUUID } from 'node:crypto';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { Code } from '@schedmesh/proto/v1/types';
import type { Node, Pod } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import { InvocationPayload } from './invocation-payload.js';
import { GatewayMetrics } from './metrics.js';
import type { BreakerStateName } from './metrics.js';
import { mergeResults } from './merge.js';
import type { InvokeResult, PluginResultView } from './merge.js';
import { PluginClient } from './plugin-client.js';
import type { CallInput, CallOutcome } from './plugin-client.js';
import { PluginConfigError, defaultPluginPolicy, loadPluginConfig, parsePluginConfig } from './plugin-config.js';
import type { LoadedPluginConfig, PluginPolicy, SecretSources } from './plugin-config.js';
import type { PointName } from './points.js';
import type { ProtocolName } from './protocols.js';

/** Options of {@link Gateway}. */
export interface GatewayOptions {
  logger: Logger;
  /** The service registry; the gateway's metrics are registered on it. */
  metrics: Registry;
  /** Spans per plugin call, with the W3C context sent to the plugin. */
  tracer?: Tracer;
  /** Largest plugin response accepted, in bytes (default 4 MiB). */
  maxResponseBytes?: number;
  /** Where secretEnv values come from (default process.env). */
  secrets?: SecretSources;
  /** What plugin documents may do: secret roots, endpoints, credentials over http (default {@link defaultPluginPolicy}). */
  policy?: PluginPolicy;
}

/** An invocation, validated by the caller (server.ts): a pod with a uid, named nodes. */
export interface InvokeInput {
  point: PointName;
  pod: Pod;
  nodes: readonly Node[];
  /** Only these plugins (each must serve `point`); empty = every plugin at the point. */
  plugins: readonly string[];
}

/** A configured plugin as ListPlugins reports it. */
export interface PluginSummary {
  name: string;
  protocol: ProtocolName;
  points: readonly PointName[];
  /** The configuration named no points: `points` are the protocol's defaults. */
  defaultPoints: boolean;
  failurePolicy: 'Ignore' | 'Fail';
  breakerState: BreakerStateName;
  tenants: readonly string[];
}

/** Where a configuration came from: a name for messages, and the kind for metrics. */
export interface ConfigOrigin {
  /** Shown in errors and logs: a file path, "ConfigMap schedmesh/plugins". */
  source: string;
  kind: 'file' | 'configmap';
}

/** What a reload did. */
export interface ReloadResult {
  /** The configuration version now in force. */
  version: string;
  /** False when the new text resolved to the configuration already in force. */
  changed: boolean;
  /** Plugins in force, in order. */
  plugins: string[];
}

/**
 * The REST plugin gateway: the configured plugins, invoked concurrently at an
 * extension point with their answers merged; and configuration reloads that
 * swap plugins without dropping calls in flight. Knows nothing of gRPC.
 */
export class Gateway {
  readonly #options: GatewayOptions;
  readonly #metrics: GatewayMetrics;
  #clients: ReadonlyMap<string, PluginClient> = new Map();
  #version = '';
  /** Reloads run one at a time, in the order they arrived: the last one received is the one in force. */
  #reloads: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** A gateway with no plugins; {@link reload} gives it its configuration. */
  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#metrics = new GatewayMetrics(options.metrics);
    this.#version = parsePluginConfig('', '(empty)').version;
  }

  /** Fingerprint of the configuration in force. */
  get version(): string {
    return this.#version;
  }

  /**
   * Validates `yamlText` and puts it in force. Plugins whose definition and
   * secrets are unchanged keep their client (breaker state, cache,
   * connections); replaced ones finish their calls in flight, then close.
   * An invalid configuration rejects with {@link PluginConfigError} naming
   * every wrong field, and the configuration in force stays. Secret files are
   * read asynchronously; reloads are applied one at a time, in call order.
   */
  reload(yamlText: string, origin: ConfigOrigin = { source: 'ConfigMap', kind: 'configmap' }): Promise<ReloadResult> {
    const applied = this.#reloads.then(() => this.#reload(yamlText, origin));
    this.#reloads = applied.catch(() => undefined);
    return applied;
  }

  async #reload(yamlText: string, origin: ConfigOrigin): Promise<ReloadResult> {
    let loaded: LoadedPluginConfig;
    try {
      loaded = await loadPluginConfig(yamlText, origin.source, { ...this.#options.secrets, ...(this.#options.policy ? { policy: this.#options.policy } : {}) });
    } catch (err) {
      this.#metrics.reload(origin.kind, 'rejected');
      if (err instanceof PluginConfigError) {
        this.#options.logger.error({ source: origin.source, issues: err.issues, version: this.#version }, 'plugin configuration rejected; the one in force stays');
      }
      throw err;
    }
    if (this.#closed) return { version: this.#version, changed: false, plugins: [] };
    const old = this.#clients;
    const next = new Map<string, PluginClient>();
    let changed = loaded.version !== this.#version || loaded.plugins.length !== old.size;
    for (const plugin of loaded.plugins) {
      const existing = old.get(plugin.name);
      if (existing && existing.plugin.fingerprint === plugin.fingerprint) {
        next.set(plugin.name, existing);
      } else {
        changed = true;
        next.set(
          plugin.name,
          new PluginClient(plugin, {
            metrics: this.#metrics,
            logger: this.#options.logger,
            maxResponseBytes: this.#options.maxResponseBytes ?? 4 * 1024 * 1024,
            endpoints: (this.#options.policy ?? defaultPluginPolicy).endpoints,
            ...(this.#options.tracer ? { tracer: this.#options.tracer } : {}),
          }),
        );
      }
    }
    this.#clients = next;
    this.#version = loaded.version;
    for (const [name, client] of old) {
      if (next.get(name) === client) continue;
      client.retire();
      if (!next.has(name)) this.#metrics.forget(name);
    }
    this.#metrics.reload(origin.kind, changed ? 'applied' : 'unchanged');
    if (changed) this.#options.logger.info({ source: origin.source, version: loaded.version, plugins: [...next.keys()] }, 'plugin configuration applied');
    return { version: loaded.version, changed, plugins: [...next.keys()] };
  }

  /** The plugins in force, in configuration order, and the configuration version. */
  listPlugins(): { plugins: PluginSummary[]; version: string } {
    return {
      version: this.#version,
      plugins: [...this.#clients.values()].map((client) => ({
        name: client.plugin.name,
        protocol: client.plugin.protocol,
        points: client.plugin.points,
        defaultPoints: client.plugin.defaultPoints,
        failurePolicy: client.plugin.failurePolicy,
        breakerState: client.breakerState(),
        tenants: client.plugin.tenants,
      })),
    };
  }

  /**
   * Calls the plugins registered at `input.point` concurrently — one HTTP
   * call each, with every candidate node — and merges their answers. A plugin
   * failure becomes its result (SKIP or ERROR by its failurePolicy); only a
   * bad request (InvalidArgumentError) or the caller's cancellation rejects.
   */
  async invoke(input: InvokeInput, signal: AbortSignal): Promise<InvokeResult> {
    const clients = this.#select(input);
    const nodeNames = input.nodes.map((n) => n.name);
    const call: Omit<CallInput, 'signal'> = {
      point: input.point,
      pod: input.pod,
      requestId: randomUUID(),
      payload: new InvocationPayload(input.pod, input.nodes),
      candidates: new Set(nodeNames),
    };
    const namespace = input.pod.namespace;
    const results = await Promise.all(
      clients.map(async (client): Promise<PluginResultView> => {
        const { plugin } = client;
        if (plugin.tenants.length > 0 && !plugin.tenants.includes(namespace)) {
          return view(client, Code.CODE_SKIP, [`namespace ${JSON.stringify(namespace)} is not among the plugin's tenants`]);
        }
        return toView(client, input.point, nodeNames, await client.call({ ...call, signal }));
      }),
    );
    return mergeResults(input.point, nodeNames, results);
  }

  /** Closes every plugin's connections. */
  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#clients.values()];
    this.#clients = new Map();
    await Promise.all(clients.map((c) => c.close()));
  }

  #select(input: InvokeInput): PluginClient[] {
    const all = this.#clients;
    if (input.plugins.length === 0) return [...all.values()].filter((c) => c.plugin.points.includes(input.point));
    const wanted = new Set<string>();
    input.plugins.forEach((name, i) => {
      const client = all.get(name);
      if (!client) throw new InvalidArgumentError(`plugins[${i}]`, `unknown plugin ${JSON.stringify(name)}`);
      if (!client.plugin.points.includes(input.point)) {
        throw new InvalidArgumentError(`plugins[${i}]`, `plugin ${JSON.stringify(name)} is not registered at ${input.point}`);
      }
      wanted.add(name);
    });
    // Configuration order decides the verdict, whatever order the caller named them in.
    return [...all.values()].filter((c) => wanted.has(c.plugin.name));
  }
}

function view(client: PluginClient, code: Code, reasons: string[]): PluginResultView {
  return { plugin: client.plugin.name, code, reasons, rejected: [], scores: {}, cached: false, durationMs: 0, weight: client.plugin.weight };
}

function toView(client: PluginClient, point: PointName, nodes: readonly string[], outcome: CallOutcome): PluginResultView {
  const { plugin } = client;
  if (!outcome.ok) {
    const { kind, message } = outcome.failure;
    const ignored = plugin.failurePolicy === 'Ignore';
    // The caller gets the gateway's reason, never the plugin's words (M6); the log has the diagnosis.
    const reason = `plugin call failed (${kind}): ${outcome.failure.reason}${ignored ? '; ignored by failurePolicy Ignore' : ''}`;
    return { ...view(client, ignored ? Code.CODE_SKIP : Code.CODE_ERROR, [reason]), durationMs: outcome.durationMs, failure: { kind, message } };
  }
  const { answer } = outcome;
  let { rejected } = answer;
  // A filter plugin that turns the pod down as a whole rejects every candidate, with its reasons.
  if (point === 'filter' && (answer.code === Code.CODE_UNSCHEDULABLE || answer.code === Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE)) {
    const listed = new Set(rejected.map((r) => r.node));
    rejected = [...rejected, ...nodes.filter((n) => !listed.has(n)).map((node) => ({ node, code: answer.code, reasons: answer.reasons }))];
  }
  return {
    ...view(client, answer.code, answer.reasons),
    rejected,
    scores: answer.scores,
    ...(answer.patch ? { patch: answer.patch } : {}),
    cached: outcome.cached,
    durationMs: outcome.durationMs,
  };
}
