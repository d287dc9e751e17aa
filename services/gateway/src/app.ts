import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { connectNatsFrom, GenerationGate, readConfigFile, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { pluginPolicyOf } from './config.js';
import type { GatewayConfig } from './config.js';
import { followPluginConfigMap } from './config-map.js';
import { watchConfigFile } from './config-watch.js';
import type { ConfigWatch } from './config-watch.js';
import { Gateway } from './gateway.js';
import type { SecretSources } from './plugin-config.js';
import { gatewayService } from './server.js';

/** Options of {@link startGatewayService}. */
export interface StartGatewayOptions extends AppOptions {
  /** Where secretEnv values come from (default process.env). */
  secrets?: SecretSources;
}

/** A running gateway service; its stop also stops watching and closes plugin connections. */
export interface GatewayServiceHandle extends ServiceApp {
  readonly gateway: Gateway;
}

/**
 * Composes the service: runtime (telemetry, logs, metrics, gRPC), the
 * gateway with the plugins file (an invalid one stops start-up), the file
 * watch, the plugin ConfigMap (with a `nats` block), GatewayService; then
 * listens. Ready at once without the ConfigMap; with it, once the ConfigMap's
 * current version (if any) is applied — after that the configuration in force
 * keeps serving while NATS is away.
 */
export async function startGatewayService(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<GatewayServiceHandle> {
  const runtime = startService({ name: 'schedmesh-gateway', config, handleSignals: options.handleSignals ?? true });
  const gateway = new Gateway({
    logger: runtime.logger,
    metrics: runtime.metrics,
    tracer: runtime.tracer,
    maxResponseBytes: config.gateway.maxResponseBytes,
    policy: pluginPolicyOf(config.gateway),
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
      const text = readConfigFile(path, 'gateway.pluginsFile');
      await gateway.reload(text, { source: path, kind: 'file' });
      if (config.gateway.watch) {
        watcher = watchConfigFile({
          path,
          initialText: text,
          debounceMs: config.gateway.watchDebounce,
          logger: runtime.logger,
          onChange: async (next) => {
            await gateway.reload(next, { source: path, kind: 'file' });
          },
        });
      }
    }
    let configMap: GenerationGate | undefined;
    if (config.nats) {
      const nc = await connectNatsFrom(config.nats, 'schedmesh-gateway', runtime.logger);
      const stop = new AbortController();
      configMap = new GenerationGate({ name: 'the plugin ConfigMap' });
      const following = followPluginConfigMap({
        nc,
        gateway,
        logger: runtime.logger,
        gate: configMap,
        name: config.configMap.name,
        key: config.configMap.key,
        stream: config.nats.stream,
        subjectPrefix: config.nats.subjectPrefix,
        signal: stop.signal,
      });
      runtime.onShutdown(async () => {
        stop.abort();
        await following;
        await nc.drain();
      });
    }
    runtime.grpc.add(GatewayServiceDefinition, gatewayService(gateway));
    const { grpcPort, httpPort } = await runtime.listen();
    if (!configMap) runtime.setReady(true);
    else {
      const whenSynced = configMap.onSyncChange((synced) => {
        if (!synced) return;
        runtime.setReady(true);
        whenSynced();
      });
    }
    return { runtime, gateway, grpcPort, httpPort, stop: () => runtime.stop() };
  } catch (err) {
    await runtime.stop();
    throw err;
  }
}
