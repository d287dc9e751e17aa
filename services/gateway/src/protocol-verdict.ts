import { z } from 'zod';
import { Code } from '@schedmesh/proto/v1/types';
import type { PointName } from './points.js';
import { parseAnswer, v1RequestBody } from './protocol.js';
import type { PluginAnswer } from './protocol.js';
import type { PluginProtocol } from './protocols.js';

/**
 * The verdict protocol: a compliance service that only says yes or no, as in
 * the source design's `{"allowed": false, "reason": "Missing security
 * attestation"}`. It receives the v1 request (pod and nodes) and answers
 * `{allowed, reason}`; a refusal is UnschedulableAndUnresolvable — waiting
 * or preempting does not give a pod what a policy finds missing — and at
 * filter it rejects every candidate node.
 */
export const verdictResponseSchema = z
  .object({
    allowed: z.boolean().describe('Whether the pod may go on.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .nullable()
      .optional()
      .describe('Why not: a short, stable phrase ("Missing security attestation"). Ignored when allowed.'),
  })
  .strict()
  .describe('What a verdict plugin answers (HTTP 200, Content-Type: application/json).');

/** The reason given when a plugin refuses without saying why. */
export const NO_REASON = 'refused by the plugin (no reason given)';

const points: readonly PointName[] = ['preFilter', 'filter', 'reserve', 'permit', 'preBind'];

function interpret(body: unknown): PluginAnswer {
  const answer = parseAnswer(verdictResponseSchema, body);
  if (answer.allowed) return { code: Code.CODE_SUCCESS, reasons: [], rejected: [], scores: {} };
  return { code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasons: [answer.reason ?? NO_REASON], rejected: [], scores: {} };
}

/** The verdict protocol as the gateway speaks it. */
export const verdictProtocol: PluginProtocol = {
  name: 'verdict',
  points,
  defaultPoints: ['preFilter'],
  requestBody: v1RequestBody,
  interpret,
};
