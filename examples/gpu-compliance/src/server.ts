import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublicKeyFile } from './key-file.js';
import type { KeyFileEvent } from './key-file.js';
import { attestationVerdict, attestedNodesFilter } from './rules.js';
import type { ComplianceRules, V1Request } from './rules.js';

/**
 * The GPU compliance plugin for the schedmesh gateway, in plain node:http.
 * Two routes, two gateway plugins:
 *
 * - `POST /attestation` speaks the gateway's `verdict` protocol at preFilter:
 *   a pod that requests a GPU resource without a valid attestation gets
 *   `{"allowed": false, "reason": "Missing security attestation…"}`;
 * - `POST /nodes` speaks `schedmesh.io/plugin/v1` at filter: for a GPU pod,
 *   nodes without the attested label are rejected.
 *
 * Both receive the v1 request; anything else is refused with 400 and a reason.
 */

export const DEFAULT_GPU_RESOURCES: readonly string[] = ['nvidia.com/gpu'];
export const DEFAULT_ATTESTED_NODE_LABEL = 'schedmesh.io/gpu-attested';
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** Options of {@link startGpuCompliancePlugin}. */
export interface GpuCompliancePluginOptions {
  /**
   * The Ed25519 public key(s) (PEM, SPKI; several during a rotation) that verify attestations: a file from a mounted Secret.
   * It is read again every `keyReloadIntervalMs`, so a rotated Secret takes effect without a restart.
   */
  publicKeyFile: string;
  /** How often the key file is read again, in ms (default 10 000). */
  keyReloadIntervalMs?: number;
  /** Told when the key file's new content is applied, or could not be read or parsed (the keys in force are kept). */
  onKeyFileEvent?: (event: KeyFileEvent) => void;
  /** Extended resources that count as GPUs (default nvidia.com/gpu). */
  gpuResources?: readonly string[];
  /** The node label, value "true", that marks attested GPUs (default schedmesh.io/gpu-attested). */
  attestedNodeLabel?: string;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** The clock, in unix seconds (tests). */
  nowSeconds?: () => number;
}

/** A gateway plugin definition, ready for the gateway's plugins document. */
export interface GatewayPluginDefinition {
  name: string;
  type: 'rest';
  protocol: 'verdict' | 'schedmesh.io/plugin/v1';
  endpoint: string;
  extensionPoints: string[];
  failurePolicy: 'Fail';
}

/** A running GPU compliance plugin. */
export interface GpuCompliancePlugin {
  /** The base URL ("http://127.0.0.1:PORT/"); the routes are below it. */
  readonly url: string;
  /**
   * The two gateway plugins this service is, fail-closed: put them in the
   * gateway's `plugins:` list (e.g. `yaml.stringify({plugins: plugin.gatewayPlugins})`).
   */
  readonly gatewayPlugins: readonly GatewayPluginDefinition[];
  close(): Promise<void>;
}

/** Starts the plugin. A key file without a usable key fails the start; later changes of the file are picked up while it runs. */
export async function startGpuCompliancePlugin(options: GpuCompliancePluginOptions): Promise<GpuCompliancePlugin> {
  const keyFile = PublicKeyFile.open(options.publicKeyFile, {
    ...(options.keyReloadIntervalMs !== undefined ? { intervalMs: options.keyReloadIntervalMs } : {}),
    ...(options.onKeyFileEvent ? { onEvent: options.onKeyFileEvent } : {}),
  });
  const rules: ComplianceRules = {
    get publicKeys() {
      return keyFile.keys;
    },
    gpuResources: options.gpuResources ?? DEFAULT_GPU_RESOURCES,
    attestedNodeLabel: options.attestedNodeLabel ?? DEFAULT_ATTESTED_NODE_LABEL,
    nowSeconds: options.nowSeconds ?? (() => Math.floor(Date.now() / 1000)),
  };
  const routes: Record<string, (request: V1Request) => unknown> = {
    '/attestation': (request) => attestationVerdict(request, rules),
    '/nodes': (request) => attestedNodesFilter(request, rules),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routes[new URL(req.url ?? '/', 'http://plugin').pathname];
    if (!route) return send(res, 404, { error: 'routes: POST /attestation (verdict), POST /nodes (v1 filter)' });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_REQUEST_BYTES) return send(res, 413, { error: `the request is larger than ${MAX_REQUEST_BYTES} bytes` });
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { error: 'the body is not JSON' });
    }
    const problem = requestProblem(body);
    if (problem) return send(res, 400, { error: problem });
    send(res, 200, route(body as V1Request));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  }).catch((err: unknown) => {
    keyFile.close();
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url,
    gatewayPlugins: [
      { name: 'gpu-attestation', type: 'rest', protocol: 'verdict', endpoint: `${url}attestation`, extensionPoints: ['preFilter'], failurePolicy: 'Fail' },
      { name: 'gpu-attested-nodes', type: 'rest', protocol: 'schedmesh.io/plugin/v1', endpoint: `${url}nodes`, extensionPoints: ['filter'], failurePolicy: 'Fail' },
    ],
    close: () =>
      new Promise<void>((resolve) => {
        keyFile.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function requestProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const { apiVersion, pod, nodes } = body as Record<string, unknown>;
  if (apiVersion !== 'schedmesh.io/plugin/v1') return `unsupported apiVersion ${JSON.stringify(apiVersion ?? null)}`;
  if (typeof pod !== 'object' || pod === null || Array.isArray(pod)) return 'pod: must be an object';
  if (!Array.isArray(nodes)) return 'nodes: must be an array';
  return undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
