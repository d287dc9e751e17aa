import { z } from 'zod';
import { Code } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import { canonicalJson } from './canonical-json.js';
import { badResponse, parseAnswer, patchProblems, stringMap } from './protocol.js';
import type { PluginAnswer, PodPatchValue, RequestParts } from './protocol.js';
import type { AnswerContext, PluginProtocol } from './protocols.js';

/**
 * dstack's apply-policy contract (dstack's built-in `rest_plugin`): the
 * platform POSTs `{user, project, spec}` and the policy service answers
 * `{spec, error}` — `error` set: the apply is refused with it; otherwise
 * `spec` is what to apply, the original or mutated. dstack fails closed: any
 * failure to get a valid answer refuses the apply. Here:
 *
 * - `user` is the identity the pod runs as, `system:serviceaccount:<namespace>:<serviceAccount>`
 *   (Kubernetes does not record who created a pod; its service account is who it acts as);
 * - `project` is the namespace;
 * - `spec` is the pod, the proto3 JSON mapping of schedmesh.v1.Pod;
 * - the answer's `spec` may change labels and annotations only (add or set;
 *   a scheduler cannot change the rest of a pod, nor should a policy remove
 *   what others rely on): at preBind they are patched onto the pod; at
 *   preFilter they are checked but the patch waits for preBind;
 * - a plugin of this protocol must have failurePolicy Fail (checked when the
 *   configuration loads).
 */
export const dstackRequestSchema = z
  .object({
    user: z.string().describe('The identity the pod runs as: system:serviceaccount:<namespace>:<serviceAccount>.'),
    project: z.string().describe('The pod\'s namespace.'),
    spec: z
      .looseObject({ uid: z.string(), namespace: z.string().optional(), name: z.string().optional(), labels: stringMap.optional(), annotations: stringMap.optional() })
      .describe('The pod: the proto3 JSON mapping of schedmesh.v1.Pod (proto/schedmesh/v1/types.proto).'),
  })
  .strict()
  .describe('What the schedmesh gateway POSTs to a dstack apply-policy service.');

export const dstackResponseSchema = z
  .object({
    spec: z
      .looseObject({ labels: stringMap.optional(), annotations: stringMap.optional() })
      .describe('The spec to apply: the original, or the original with labels or annotations added or changed.'),
    error: z.string().min(1).max(4096).nullable().optional().describe('Set when the apply is refused: why.'),
  })
  .strict()
  .describe('What a dstack apply-policy service answers (HTTP 200, Content-Type: application/json).');

/** The Kubernetes user name of the pod's service account. */
export function podUser(pod: Pod): string {
  return `system:serviceaccount:${pod.namespace}:${pod.serviceAccountName || 'default'}`;
}

function requestBody(parts: RequestParts): string {
  return `{"user":${JSON.stringify(podUser(parts.pod))},"project":${JSON.stringify(parts.pod.namespace)},"spec":${parts.podJson}}`;
}

function interpret(body: unknown, context: AnswerContext): PluginAnswer {
  const answer = parseAnswer(dstackResponseSchema, body);
  if (answer.error != null) return { code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasons: [answer.error], rejected: [], scores: {} };
  const patch = metadataChanges(JSON.parse(context.podJson) as Record<string, unknown>, answer.spec);
  return { code: Code.CODE_SUCCESS, reasons: [], rejected: [], scores: {}, ...(context.point === 'preBind' ? { patch } : {}) };
}

/** The labels and annotations the answered spec adds or changes; anything else that differs is a bad_response. */
function metadataChanges(sent: Record<string, unknown>, answered: Record<string, unknown>): PodPatchValue {
  for (const key of new Set([...Object.keys(sent), ...Object.keys(answered)])) {
    if (key === 'labels' || key === 'annotations') continue;
    if (canonicalJson(sent[key]) !== canonicalJson(answered[key])) throw badResponse(`spec.${key}: only labels and annotations may change`);
  }
  const patch: PodPatchValue = { labels: {}, annotations: {} };
  for (const field of ['labels', 'annotations'] as const) {
    const before = (sent[field] ?? {}) as Record<string, string>;
    const after = (answered[field] ?? {}) as Record<string, string>;
    const removed = Object.keys(before).find((key) => !(key in after));
    if (removed !== undefined) throw badResponse(`spec.${field}.${removed}: removing ${field} is not supported; add or change them only`);
    for (const [key, value] of Object.entries(after)) if (before[key] !== value) patch[field][key] = value;
  }
  const problem = patchProblems(patch)[0];
  if (problem) throw badResponse(`spec.${problem.path.join('.')}: ${problem.message}`);
  return patch;
}

/** dstack's apply policy as the gateway speaks it: refuse at preFilter, mutate at preBind. */
export const dstackApplyPolicyProtocol: PluginProtocol = {
  name: 'dstack-apply-policy',
  points: ['preFilter', 'preBind'],
  defaultPoints: ['preFilter', 'preBind'],
  failClosed: true,
  requestBody,
  interpret,
};
