import { isDns1123Subdomain, labelValueProblem, namespaceNameProblem, validatePod } from '@schedmesh/model';
import { AdmissionDecision, AdmitResponse, GetAppStateResponse } from '@schedmesh/proto/v1/admission';
import type { AdmissionServiceImplementation } from '@schedmesh/proto/v1/admission';
import type { Pod } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError, NotFoundError } from '@schedmesh/runtime';
import type { Admitter } from './admission.js';
import type { PolicyStore } from './policy-store.js';

/** Maps AdmissionService RPCs onto the admitter and the policy store. */
export function admissionServer(store: PolicyStore, admitter: Admitter): AdmissionServiceImplementation {
  return {
    async admit(request, context) {
      const pod = admissiblePod(request.pod);
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
      const namespace = namespaceNameProblem(request.namespace);
      if (namespace !== undefined) throw new InvalidArgumentError('namespace', namespace);
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

/**
 * The checks that make a pod evaluable: the model's edge validation (identity,
 * selectors, affinity...), a service account name usable as an RBAC subject,
 * and named hostPath volumes (the host path rules name them).
 */
function admissiblePod(pod: Pod | undefined): Pod {
  if (!pod) throw new InvalidArgumentError('pod', 'must be set');
  const [problem] = validatePod(pod);
  if (problem !== undefined) throw InvalidArgumentError.fromProblem(problem);
  const sa = pod.serviceAccountName;
  if (sa !== '' && !isDns1123Subdomain(sa)) {
    throw new InvalidArgumentError('pod.service_account_name', `${JSON.stringify(sa)} is not a service account name (a DNS-1123 subdomain)`);
  }
  pod.volumes.forEach((volume, i) => {
    if (volume.source?.$case === 'hostPath' && volume.name === '') throw new InvalidArgumentError(`pod.volumes[${i}].name`, 'must not be empty');
  });
  return pod;
}
