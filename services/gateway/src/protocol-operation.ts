import { z } from 'zod';
import { Code } from '@schedmesh/proto/v1/types';
import { badResponse, parseAnswer, patchProblems, stringMap, v1RequestBody } from './protocol.js';
import type { PluginAnswer } from './protocol.js';
import type { AnswerContext, PluginProtocol } from './protocols.js';

/**
 * The operation protocol: a mutating service that names an operation and its
 * parameters, as in the source design's cost tracking
 * `{"operation": "inject_tags", "parameters": {"cost_center": "rd-department-42"}}`.
 * It receives the v1 request at preBind (the pod and its chosen node) and its
 * tags become labels — or annotations, by the plugin's `injectTagsAs` — that
 * the scheduler patches onto the pod before it binds.
 */
export const OPERATIONS = ['inject_tags'] as const;

/** At most this many tags in one answer. */
export const MAX_TAGS = 64;

export const operationResponseSchema = z
  .object({
    operation: z.enum(OPERATIONS).describe('inject_tags: set the parameters on the pod as labels or annotations.'),
    parameters: stringMap
      .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `must hold at most ${MAX_TAGS} tags`)
      .describe('Tag name to value. As labels: Kubernetes label keys and values; as annotations: qualified-name keys.'),
  })
  .strict()
  .describe('What an operation plugin answers at preBind (HTTP 200, Content-Type: application/json).');

function interpret(body: unknown, context: AnswerContext): PluginAnswer {
  const { parameters } = parseAnswer(operationResponseSchema, body);
  const patch = context.tagsAs === 'annotations' ? { labels: {}, annotations: parameters } : { labels: parameters, annotations: {} };
  const problem = patchProblems(patch)[0];
  // The path names the tag as the plugin sent it; the message says what the target syntax wants.
  if (problem) throw badResponse(`parameters.${problem.path[1]}: ${problem.message} (tags are injected as ${context.tagsAs})`);
  return { code: Code.CODE_SUCCESS, reasons: [], rejected: [], scores: {}, patch };
}

/** The operation protocol as the gateway speaks it: preBind only. */
export const operationProtocol: PluginProtocol = {
  name: 'operation',
  points: ['preBind'],
  defaultPoints: ['preBind'],
  requestBody: v1RequestBody,
  interpret,
};
