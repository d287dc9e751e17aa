import { extensionPointFromProto, extensionPointToProto } from '@schedmesh/framework';
import { InvokeResponse, ListPluginsResponse } from '@schedmesh/proto/v1/gateway';
import type { DeepPartial, GatewayServiceImplementation, InvokeRequest, PluginResult } from '@schedmesh/proto/v1/gateway';
import { ExtensionPoint } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import { msToDuration, nodeNameProblem, podUidProblem } from '@schedmesh/model';
import { InvalidArgumentError } from '@schedmesh/runtime';
import type { Gateway, InvokeInput } from './gateway.js';
import type { InvokeResult, PluginResultView } from './merge.js';

/**
 * GatewayService over gRPC: validates requests (InvalidArgumentError naming
 * the field), calls the domain, and builds replies. A plugin's failure is
 * part of the reply, never an RPC error; the caller's deadline or
 * cancellation reaches the plugins' HTTP requests through `signal`.
 */
export function gatewayService(gateway: Gateway): GatewayServiceImplementation {
  return {
    async invoke(request, { signal }) {
      const result = await gateway.invoke(validateInvoke(request), signal);
      return toInvokeResponse(result);
    },
    async listPlugins() {
      const { plugins, version } = gateway.listPlugins();
      return ListPluginsResponse.fromPartial({
        configVersion: version,
        plugins: plugins.map((p) => ({
          name: p.name,
          protocol: p.protocol,
          points: p.points.map(extensionPointToProto),
          defaultPoints: p.defaultPoints,
          failurePolicy: p.failurePolicy,
          breakerState: p.breakerState,
          tenants: [...p.tenants],
        })),
      });
    },
  };
}

/** Checks an InvokeRequest and converts it to the domain's input. */
export function validateInvoke(request: InvokeRequest): InvokeInput {
  const point = extensionPointFromProto(request.point);
  if (point === undefined) {
    throw new InvalidArgumentError('point', request.point === ExtensionPoint.EXTENSION_POINT_UNSPECIFIED ? 'must be set' : `unknown extension point ${request.point}`);
  }
  const pod: Pod | undefined = request.pod;
  if (!pod) throw new InvalidArgumentError('pod', 'must be set');
  const uid = podUidProblem(pod.uid);
  if (uid !== undefined) throw new InvalidArgumentError('pod.uid', uid);
  const seen = new Set<string>();
  request.nodes.forEach((node, i) => {
    const name = nodeNameProblem(node.name);
    if (name !== undefined) throw new InvalidArgumentError(`nodes[${i}].name`, name);
    if (seen.has(node.name)) throw new InvalidArgumentError(`nodes[${i}].name`, `duplicate node ${JSON.stringify(node.name)}`);
    seen.add(node.name);
  });
  request.plugins.forEach((name, i) => {
    if (name === '') throw new InvalidArgumentError(`plugins[${i}]`, 'must not be empty');
  });
  return { point, pod, nodes: request.nodes, plugins: request.plugins };
}

function toInvokeResponse(result: InvokeResult): InvokeResponse {
  return InvokeResponse.fromPartial({
    status: { code: result.code, reasons: result.reasons, plugin: result.plugin },
    results: result.results.map(toPluginResult),
    feasible: result.feasible,
    scores: result.scores,
    patch: result.patch,
  });
}

// A plain object: InvokeResponse.fromPartial copies it once (fromPartial here too would copy every result twice).
function toPluginResult(r: PluginResultView): DeepPartial<PluginResult> {
  return {
    plugin: r.plugin,
    status: { code: r.code, reasons: r.reasons, plugin: r.plugin },
    rejected: r.rejected.map((v) => ({ nodeName: v.node, status: { code: v.code, reasons: v.reasons, plugin: r.plugin } })),
    scores: r.scores,
    ...(r.patch ? { patch: r.patch } : {}),
    cached: r.cached,
    duration: msToDuration(r.durationMs),
  };
}
