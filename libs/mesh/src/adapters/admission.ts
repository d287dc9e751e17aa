/** Admission as the attempt's first PreFilter: policies, hibernation, host paths, tenant RBAC, webhooks. */
import { Status } from '@schedmesh/framework';
import { AdmissionDecision } from '@schedmesh/proto/v1/admission';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { AdmissionClient } from '../clients.js';
import { statusOf } from './status.js';

/** The plugin name admission's rejections carry. */
export const ADMISSION_PLUGIN = 'SchedmeshAdmission';

/** What admission said of a pod. */
export interface AdmissionOutcome {
  readonly status: Status;
  /** The policies that decided (named in the FailedScheduling message). */
  readonly policies: readonly string[];
  /** The only nodes the pod may use, when a policy narrowed them; absent means every node. */
  readonly nodeNames?: readonly string[];
  /** Node pools the pod is confined to (informational; node names carry the subset). */
  readonly pools: readonly string[];
}

/**
 * Asks admission about the pod at `minGeneration` (the policies it has seen
 * at least up to the pod's own event). ERROR — an outage with failurePolicy
 * Fail — stays an Error status, never "unschedulable".
 */
export async function admit(client: AdmissionClient, pod: Pod, minGeneration: number, signal: AbortSignal): Promise<AdmissionOutcome> {
  const res = await client.admit({ pod, minGeneration }, { signal });
  if (res.decision === AdmissionDecision.ADMISSION_DECISION_ALLOW) {
    const names = res.nodeSubset?.nodeNames ?? [];
    return {
      status: Status.SUCCESS,
      policies: res.policies,
      pools: res.nodeSubset?.pools ?? [],
      ...(names.length > 0 ? { nodeNames: names } : {}),
    };
  }
  const named = res.policies.length > 0 ? ` (policy ${res.policies.join(', ')})` : '';
  const reason = `${res.message || res.reasonCode || 'rejected by admission'}${named}`;
  return { status: statusOf(res.code, [reason], ADMISSION_PLUGIN), policies: res.policies, pools: [] };
}
