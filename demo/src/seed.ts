// Writes the sample cluster into the API server: the AdmissionPolicy CRD, the
// namespaces, the nodes, the tenant's RBAC and the policies (before the mesh
// starts), then the pods (once it runs).
import { join } from 'node:path';

import type { V1Pod } from '@kubernetes/client-node';
import { createFakeNodes, kubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

import { NAMESPACES, sampleNodes, samplePolicies, sampleRbac } from './sample.js';

/** Everything but the pods; returns the node count. */
export async function seedCluster(cp: ControlPlane, root: string): Promise<number> {
  await kubectl(cp, ['apply', '-f', join(root, 'deploy/base/crds/admissionpolicy.yaml')]);
  await kubectl(cp, ['wait', '--for', 'condition=established', '--timeout=60s', 'crd/admissionpolicies.schedmesh.io']);
  const namespaces = [...NAMESPACES, 'schedmesh-system'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  await kubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...namespaces, ...sampleRbac(), ...samplePolicies()] }));
  const nodes = sampleNodes();
  await createFakeNodes(cp.kubeConfig, nodes);
  return nodes.length;
}

/** Creates the pods, `concurrency` requests at a time. */
export async function submitPods(cp: ControlPlane, pods: readonly V1Pod[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pods.length) {
      const pod = pods[next++]!;
      await cp.core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pods.length) }, worker));
}
