import { z } from 'zod';
import type { PointName } from './points.js';
import { PLUGIN_API_VERSION, interpretResponse, pluginRequestSchema, pluginResponseSchema, v1RequestBody } from './protocol.js';
import type { PluginAnswer, RequestParts } from './protocol.js';
import { dstackApplyPolicyProtocol, dstackRequestSchema, dstackResponseSchema } from './protocol-dstack.js';
import { operationProtocol, operationResponseSchema } from './protocol-operation.js';
import { verdictProtocol, verdictResponseSchema } from './protocol-verdict.js';

/**
 * The wire protocols a plugin may speak, chosen per plugin by `protocol` in
 * the configuration. Each builds its request from the same parts and turns
 * its answer into the v1 {@link PluginAnswer}, so failure policies, merging,
 * caching and metrics are the same whatever the plugin speaks.
 */
export const PROTOCOL_NAMES = [PLUGIN_API_VERSION, 'verdict', 'operation', 'dstack-apply-policy'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** What an answer is checked against besides its schema. */
export interface AnswerContext {
  point: PointName;
  /** Names of the nodes sent: answers may only name these. */
  candidates: ReadonlySet<string>;
  /** The pod as sent (proto3 JSON). */
  podJson: string;
  /** operation: where injected tags go. */
  tagsAs: 'labels' | 'annotations';
}

/** One protocol: where it may be used, how a request is written and an answer read. */
export interface PluginProtocol {
  readonly name: ProtocolName;
  /** The points a plugin speaking it may be registered at. */
  readonly points: readonly PointName[];
  /** The points used when the configuration names none. */
  readonly defaultPoints: readonly PointName[];
  /** The contract refuses an operation it could not check: failurePolicy must be Fail. */
  readonly failClosed?: boolean;
  requestBody(parts: RequestParts): string;
  /** Validates an answer; throws a `bad_response` PluginCallError saying what is wrong. */
  interpret(body: unknown, context: AnswerContext): PluginAnswer;
}

const v1Protocol: PluginProtocol = {
  name: PLUGIN_API_VERSION,
  points: ['preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'],
  // Before the pod is placed (it may refuse it) and before it binds (it may patch it): the source design's
  // "pre-processing" call and its cost tags. Filter and score cost a call per attempt, so they are asked for by name.
  defaultPoints: ['preFilter', 'preBind'],
  requestBody: v1RequestBody,
  interpret: (body, context) => interpretResponse(body, context.point, context.candidates),
};

/** Every protocol by name. */
export const protocols: Readonly<Record<ProtocolName, PluginProtocol>> = {
  [PLUGIN_API_VERSION]: v1Protocol,
  verdict: verdictProtocol,
  operation: operationProtocol,
  'dstack-apply-policy': dstackApplyPolicyProtocol,
};

/** The JSON Schema documents of every protocol, as written to services/gateway/schema/. */
export function protocolJsonSchemas(): Record<string, unknown> {
  const docs: Array<[string, z.ZodType, string]> = [
    ['plugin-request.v1.schema.json', pluginRequestSchema, 'schedmesh.io/plugin/v1 request'],
    ['plugin-response.v1.schema.json', pluginResponseSchema, 'schedmesh.io/plugin/v1 response'],
    ['verdict-response.schema.json', verdictResponseSchema, 'verdict protocol response (the request is the v1 request)'],
    ['operation-response.schema.json', operationResponseSchema, 'operation protocol response (the request is the v1 request)'],
    ['dstack-apply-policy-request.schema.json', dstackRequestSchema, 'dstack apply-policy request'],
    ['dstack-apply-policy-response.schema.json', dstackResponseSchema, 'dstack apply-policy response'],
  ];
  return Object.fromEntries(
    docs.map(([id, schema, title]) => [id, { $id: `https://schedmesh.io/schema/${id}`, title, ...z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) }]),
  );
}
