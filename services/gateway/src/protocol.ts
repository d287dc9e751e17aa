import { z } from 'zod';
import { WIRE_EXTENSION_POINTS } from '@schedmesh/framework';
import { labelKeyProblem, labelValueProblem } from '@schedmesh/model';
import { Code } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import { PluginCallError } from './failures.js';
import type { PointName } from './points.js';

/**
 * The plugin protocol, version schedmesh.io/plugin/v1: what the gateway POSTs
 * to a plugin and what the plugin answers. The zod schemas here are the
 * source of services/gateway/schema/*.json (plugin authors build against those;
 * a test fails if they drift). The gateway builds requests itself and
 * validates every answer with {@link interpretResponse}: an unknown apiVersion
 * or a malformed answer is a `bad_response` failure, handled by the plugin's
 * failurePolicy like any other.
 */
export const PLUGIN_API_VERSION = 'schedmesh.io/plugin/v1';

/** A string-to-string map (labels, annotations). */
export const stringMap = z.record(z.string(), z.string());
const labels = stringMap;

/** The request body. */
export const pluginRequestSchema = z
  .object({
    apiVersion: z.literal(PLUGIN_API_VERSION).describe('The protocol version. A plugin must refuse versions it does not know.'),
    kind: z.literal('PluginRequest'),
    requestId: z
      .string()
      .describe('Identifies the invocation; the same in every retry of it, so a plugin can de-duplicate.'),
    plugin: z.string().describe('The plugin name from the gateway configuration (one endpoint may serve several).'),
    extensionPoint: z.enum(WIRE_EXTENSION_POINTS).describe('The scheduling framework point being asked.'),
    pod: z
      .looseObject({
        uid: z.string(),
        namespace: z.string().optional(),
        name: z.string().optional(),
        labels: labels.optional(),
        annotations: labels.optional(),
        resourceVersion: z.string().optional(),
      })
      .describe(
        'The pod: the proto3 JSON mapping of schedmesh.v1.Pod (proto/schedmesh/v1/types.proto). Fields with default values are omitted; quantities are integers (milli-CPU, bytes).',
      ),
    nodes: z
      .array(
        z.looseObject({
          name: z.string(),
          labels: labels.optional(),
          resourceVersion: z.string().optional(),
        }),
      )
      .describe(
        'filter, score: every candidate node, in one call. preBind, permit, reserve, bind, postBind: the chosen node. Each is the proto3 JSON mapping of schedmesh.v1.Node.',
      ),
  })
  .strict()
  .describe('What the schedmesh gateway POSTs (Content-Type: application/json) to a REST plugin.');

/** A request body as the gateway sends it. */
export type PluginRequest = z.output<typeof pluginRequestSchema>;

const statusNames = ['Success', 'Skip', 'Unschedulable', 'UnschedulableAndUnresolvable', 'Wait'] as const;
type StatusName = (typeof statusNames)[number];
const reasons = z.array(z.string().min(1).max(1024)).max(64);

const patchSchema = z
  .object({
    labels: labels.optional().describe('Labels to set on the pod (Kubernetes label syntax).'),
    annotations: labels.optional().describe('Annotations to set on the pod (keys in Kubernetes qualified-name syntax).'),
  })
  .strict()
  .superRefine((patch, ctx) => {
    for (const problem of patchProblems(patch)) ctx.addIssue({ code: 'custom', ...problem });
  });

/**
 * What is wrong with a pod patch: label keys and values that are not
 * Kubernetes label syntax, annotation keys that are not qualified names.
 */
export function patchProblems(patch: { labels?: Record<string, string>; annotations?: Record<string, string> }): Array<{ path: string[]; message: string }> {
  const problems: Array<{ path: string[]; message: string }> = [];
  for (const [key, value] of Object.entries(patch.labels ?? {})) {
    const message = labelKeyProblem(key) ?? labelValueProblem(value);
    if (message) problems.push({ path: ['labels', key], message });
  }
  for (const key of Object.keys(patch.annotations ?? {})) {
    const message = labelKeyProblem(key);
    if (message) problems.push({ path: ['annotations', key], message });
  }
  return problems;
}

/** The response body. */
export const pluginResponseSchema = z
  .object({
    apiVersion: z.literal(PLUGIN_API_VERSION).describe('Must equal the request\'s apiVersion.'),
    kind: z.literal('PluginResponse').optional(),
    status: z
      .enum(statusNames)
      .default('Success')
      .describe(
        'The verdict for the pod. Unschedulable: it does not fit now (preemption may help). UnschedulableAndUnresolvable: it never will. Skip: the plugin has nothing to do for this pod. Wait: permit only.',
      ),
    reasons: reasons.default([]).describe('Short, stable, human-readable reasons ("cost-center over budget").'),
    rejected: z
      .array(
        z
          .object({
            node: z.string().min(1).describe('A candidate node name from the request.'),
            status: z.enum(['Unschedulable', 'UnschedulableAndUnresolvable']).default('Unschedulable'),
            reasons: reasons.default([]),
          })
          .strict(),
      )
      .optional()
      .describe('filter only: the candidate nodes the pod must not run on. Nodes not listed pass.'),
    scores: z
      .record(z.string().min(1), z.number().int().min(0).max(100))
      .optional()
      .describe('score only: candidate node name to a score 0..100. Nodes not listed score 0.'),
    patch: patchSchema.optional().describe('preBind only: labels and annotations to add to the pod.'),
  })
  .strict()
  .describe('What a REST plugin answers (HTTP 200, Content-Type: application/json).');

/** A pod patch a preBind plugin asks for. */
export interface PodPatchValue {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A node a filter plugin rejected. */
export interface NodeVerdict {
  node: string;
  code: Code;
  reasons: string[];
}

/** A plugin's answer, validated against the request it answers. */
export interface PluginAnswer {
  code: Code;
  reasons: string[];
  rejected: NodeVerdict[];
  scores: Record<string, number>;
  patch?: PodPatchValue;
}

const statusCodes: Record<StatusName, Code> = {
  Success: Code.CODE_SUCCESS,
  Skip: Code.CODE_SKIP,
  Unschedulable: Code.CODE_UNSCHEDULABLE,
  UnschedulableAndUnresolvable: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
  Wait: Code.CODE_WAIT,
};

/**
 * Validates a parsed response body for the point it answers and the nodes it
 * was asked about. Throws a `bad_response` {@link PluginCallError} saying what
 * is wrong (first problem by field path).
 */
export function interpretResponse(body: unknown, point: PointName, candidates: ReadonlySet<string>): PluginAnswer {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badResponse('the response is not a JSON object');
  const version = (body as { apiVersion?: unknown }).apiVersion;
  if (version !== PLUGIN_API_VERSION) {
    throw badResponse(`unsupported apiVersion ${JSON.stringify(version ?? null)} (the gateway speaks ${PLUGIN_API_VERSION})`);
  }
  const r = parseAnswer(pluginResponseSchema, body);
  if (r.rejected !== undefined && point !== 'filter') throw badResponse(`rejected is only valid at filter, not ${point}`);
  if (r.scores !== undefined && point !== 'score') throw badResponse(`scores is only valid at score, not ${point}`);
  if (r.patch !== undefined && point !== 'preBind') throw badResponse(`patch is only valid at preBind, not ${point}`);
  if (r.status === 'Wait' && point !== 'permit') throw badResponse(`status Wait is only valid at permit, not ${point}`);

  const rejected: NodeVerdict[] = [];
  const seen = new Set<string>();
  for (const [i, rejection] of (r.rejected ?? []).entries()) {
    if (!candidates.has(rejection.node)) throw badResponse(`rejected.${i}.node: ${JSON.stringify(rejection.node)} is not a candidate node`);
    if (seen.has(rejection.node)) throw badResponse(`rejected.${i}.node: ${JSON.stringify(rejection.node)} is listed twice`);
    seen.add(rejection.node);
    rejected.push({ node: rejection.node, code: statusCodes[rejection.status], reasons: rejection.reasons });
  }
  const scores: Record<string, number> = {};
  for (const [node, score] of Object.entries(r.scores ?? {})) {
    if (!candidates.has(node)) throw badResponse(`scores.${node}: not a candidate node`);
    scores[node] = score;
  }
  return {
    code: statusCodes[r.status],
    reasons: r.reasons,
    rejected,
    scores,
    ...(r.patch ? { patch: { labels: r.patch.labels ?? {}, annotations: r.patch.annotations ?? {} } } : {}),
  };
}

/** A `bad_response` failure: the answer cannot be used. */
export function badResponse(message: string): PluginCallError {
  return new PluginCallError('bad_response', message);
}

/**
 * Parses an answer with `schema`, or throws a `bad_response` naming the first
 * problem by field path (and how many more there are).
 */
export function parseAnswer<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(response)';
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
  throw badResponse(`${path}: ${issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message}${more}`);
}

/** The v1 request body, built around the pod and nodes serialized once per invocation. */
export function v1RequestBody(parts: RequestParts): string {
  return (
    `{"apiVersion":${JSON.stringify(PLUGIN_API_VERSION)},"kind":"PluginRequest","requestId":${JSON.stringify(parts.requestId)},` +
    `"plugin":${JSON.stringify(parts.plugin)},"extensionPoint":${JSON.stringify(parts.point)},"pod":${parts.podJson},"nodes":${parts.nodesJson}}`
  );
}

/** What every protocol's request is built from. */
export interface RequestParts {
  requestId: string;
  plugin: string;
  point: PointName;
  /** The pod, as the proto3 JSON mapping of schedmesh.v1.Pod. */
  podJson: string;
  /** The nodes sent, as a JSON array of schedmesh.v1.Node. */
  nodesJson: string;
  pod: Pod;
}
