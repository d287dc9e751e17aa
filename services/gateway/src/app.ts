import { readFileSync } from 'node:fs';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { ConfigError, connectNats, startService } from '@schedmesh/runtime';
import type { ServiceRuntime } from '@schedmesh/runtime';
import type { GatewayConfig } from './config.js';
import { followPluginConfigMap } from './config-map.js';
import { watchConfigFile } from './config-watch.js';
import type { ConfigWatch } from './config-watch.js';
import { Gateway } from './gateway.js';
import type { SecretSources } from './plugin-config.js';
import { gatewayService } from './server.js';

/** Options of {@link startGatewayService}. */
export interface StartGatewayOptions {
  /** Install SIGTERM/SIGINT handling (default true; tests pass false). */
  handleSignals?: boolean;
  /** Where secretEnv values come from (default process.env). */
  secrets?: SecretSources;
}

/** A running gateway service. */
export interface GatewayServiceHandle {
  readonly runtime: ServiceRuntime;
  readonly gateway: Gateway;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Graceful shutdown: NOT_SERVING, drain gRPC, stop watching, close plugin connections. */
  stop(): Promise<void>;
}

/**
 * Composes the service: runtime (telemetry, logs, metrics, gRPC), the
 * gateway with the plugins file (an invalid one stops start-up), the file
 * watch, GatewayService; then listens and reports ready.
 */
export async function startGatewayService(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<GatewayServiceHandle> {
  const runtime = startService({ name: 'schedmesh-gateway', config, handleSignals: options.handleSignals ?? true });
  const gateway = new Gateway({
    logger: runtime.logger,
    metrics: runtime.metrics,
    tracer: runtime.tracer,
    maxResponseBytes: config.gateway.maxResponseBytes,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  let watcher: ConfigWatch | undefined;
  runtime.onShutdown(async () => {
    watcher?.close();
    await gateway.close();
  });
  try {
    const path = config.gateway.pluginsFile;
    if (path !== undefined) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new ConfigError([`gateway.pluginsFile: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`], { cause: err });
      }
      gateway.reload(text, { source: path, kind: 'file' });
      if (config.gateway.watch) {
        watcher = watchConfigFile({
          path,
          initialText: text,
          debounceMs: config.gateway.watchDebounce,
          logger: runtime.logger,
          onChange: (next) => gateway.reload(next, { source: path, kind: 'file' }),
        });
      }
    }
    if (config.configMap.natsUrl) {
      const nc = await connectNats({
        servers: config.configMap.natsUrl,
        name: 'schedmesh-gateway',
        logger: runtime.logger,
        ...(config.configMap.natsToken ? { token: config.configMap.natsToken } : {}),
      });
      const stop = new AbortController();
      const following = followPluginConfigMap({
        nc,
        gateway,
        logger: runtime.logger,
        name: config.configMap.name,
        key: config.configMap.key,
        stream: config.configMap.stream,
        subjectPrefix: config.configMap.subjectPrefix,
        signal: stop.signal,
      }).catch((err: unknown) => runtime.logger.error({ err }, 'following the plugin ConfigMap failed'));
      runtime.onShutdown(async () => {
        stop.abort();
        await following;
        await nc.drain();
      });
    }
    runtime.grpc.add(GatewayServiceDefinition, gatewayService(gateway));
    const { grpcPort, httpPort } = await runtime.listen();
    runtime.setReady(true);
    return { runtime, gateway, grpcPort, httpPort, stop: () => runtime.stop() };
  } catch (err) {
    await runtime.stop();
    throw err;
  }
}
