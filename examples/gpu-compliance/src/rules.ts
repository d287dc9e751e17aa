import type { KeyObject } from 'node:crypto';
import { ATTESTATION_ANNOTATION, verifyAttestation } from './attestation.js';

/** The source design's reason, word for word; an invalid attestation adds why after a colon. */
export const MISSING_ATTESTATION = 'Missing security attestation';

/** The parts of a schedmesh.io/plugin/v1 request these rules read. */
export interface V1Request {
  pod: {
    namespace?: string;
    serviceAccountName?: string;
    annotations?: Record<string, string>;
    requests?: { scalar?: Record<string, number | string> };
  };
  nodes: Array<{ name: string; labels?: Record<string, string> }>;
}

/** What the rules need to know. */
export interface ComplianceRules {
  /** Extended resources that count as GPUs. */
  gpuResources: readonly string[];
  /** The node label (value "true") that marks a node's GPUs as attested. */
  attestedNodeLabel: string;
  /** Any of them may have signed an attestation; read at each request, as they change with the key file. */
  publicKeys: readonly KeyObject[];
  /** The time, in unix seconds. */
  nowSeconds(): number;
}

/** Whether the pod asks for any of the GPU resources. */
export function requestsGpu(pod: V1Request['pod'], rules: Pick<ComplianceRules, 'gpuResources'>): boolean {
  const scalar = pod.requests?.scalar ?? {};
  return rules.gpuResources.some((resource) => Number(scalar[resource] ?? 0) > 0);
}

/** The verdict for a pod: GPU pods need a valid attestation; others pass. */
export function attestationVerdict(request: V1Request, rules: ComplianceRules): { allowed: boolean; reason?: string } {
  const { pod } = request;
  if (!requestsGpu(pod, rules)) return { allowed: true };
  const value = pod.annotations?.[ATTESTATION_ANNOTATION];
  if (value === undefined) return { allowed: false, reason: MISSING_ATTESTATION };
  const subject = { namespace: pod.namespace ?? 'default', serviceAccount: pod.serviceAccountName ?? '' };
  const check = verifyAttestation(value, subject, rules.publicKeys, rules.nowSeconds());
  return check.valid ? { allowed: true } : { allowed: false, reason: `${MISSING_ATTESTATION}: ${ATTESTATION_ANNOTATION} is not valid (${check.problem})` };
}

/** The filter for a pod, as a v1 answer: a GPU pod may only go to nodes with attested GPUs. */
export function attestedNodesFilter(request: V1Request, rules: ComplianceRules): { apiVersion: string; rejected: Array<{ node: string; status: string; reasons: string[] }> } {
  const reason = `node has no attested GPUs (label ${rules.attestedNodeLabel}=true)`;
  const rejected = requestsGpu(request.pod, rules)
    ? request.nodes.filter((n) => n.labels?.[rules.attestedNodeLabel] !== 'true').map((n) => ({ node: n.name, status: 'UnschedulableAndUnresolvable', reasons: [reason] }))
    : [];
  return { apiVersion: 'schedmesh.io/plugin/v1', rejected };
}
