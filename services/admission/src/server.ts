import { labelValueProblem } from '@schedmesh/model';
import { AdmissionDecision, AdmitResponse, GetAppStateResponse } from '@schedmesh/proto/v1/admission';
import type { AdmissionServiceImplementation } from '@schedmesh/proto/v1/admission';
import type { Pod } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError, NotFoundError } from '@schedmesh/runtime';
import type { Admitter } from './admission.js';
import type { PolicyStore } from './policy-store.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Maps AdmissionService RPCs onto the admitter and the policy store. */
export function admissionServer(store: PolicyStore, admitter: Admitter): AdmissionServiceImplementation {
  return {
    async admit(request, context) {
      const pod = validatePod(request.pod);
      store.gate.requireSynced();
      if (request.minGeneration > 0) await store.gate.waitFor(request.minGeneration, context.signal);
      const decision = await admitter.admit(pod, context.signal);
      return AdmitResponse.fromPartial({
        decision: decision.allowed ? AdmissionDecision.ADMISSION_DECISION_ALLOW : AdmissionDecision.ADMISSION_DECISION_REJECT,
        code: decision.code,
        reasonCode: decision.reasonCode,
        message: decision.message,
        policies: [...decision.policies],
        ...(decision.pools ? { nodeSubset: { pools: [...decision.pools], nodeNames: [] } } : {}),
      });
    },

    async getAppState(request) {
      namespaceName(request.namespace, 'namespace');
      if (request.app !== '') {
        const problem = labelValueProblem(request.app);
        if (problem !== undefined) throw new InvalidArgumentError('app', `must be an app label value: ${problem}`);
      }
      store.gate.requireSynced();
      const ns = store.namespace(request.namespace);
      if (!ns) throw new NotFoundError('namespace', request.namespace);
      return GetAppStateResponse.fromPartial(admitter.appState(ns, request.app));
    },
  };
}

function namespaceName(value: string, field: string): void {
  if (value === '') throw new InvalidArgumentError(field, 'must not be empty');
  if (value.length > 63 || !DNS1123_LABEL.test(value)) throw new InvalidArgumentError(field, `${JSON.stringify(value)} is not a namespace name (a DNS-1123 label)`);
}

/** The checks that make a pod evaluable: identity, and a service account name usable as an RBAC subject. */
function validatePod(pod: Pod | undefined): Pod {
  if (!pod) throw new InvalidArgumentError('pod', 'must be set');
  namespaceName(pod.namespace, 'pod.namespace');
  if (pod.name === '') throw new InvalidArgumentError('pod.name', 'must not be empty');
  const sa = pod.serviceAccountName;
  if (sa !== '' && (sa.length > 253 || !DNS1123_SUBDOMAIN.test(sa))) {
    throw new InvalidArgumentError('pod.service_account_name', `${JSON.stringify(sa)} is not a service account name (a DNS-1123 subdomain)`);
  }
  pod.volumes.forEach((volume, i) => {
    if (volume.source?.$case === 'hostPath' && volume.name === '') throw new InvalidArgumentError(`pod.volumes[${i}].name`, 'must not be empty');
  });
  return pod;
}
