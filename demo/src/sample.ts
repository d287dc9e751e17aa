// The demo's sample cluster: nodes in 3 zones × 2 racks and a GPU pool (half
// of it attested), the namespaces, AdmissionPolicies and RBAC that exercise
// admission, and about 200 pods, a few of each feature and the rest plain web
// workloads.
import type { V1Pod, V1Toleration, V1Volume } from '@kubernetes/client-node';
import { ATTESTATION_ANNOTATION, DEFAULT_ATTESTED_NODE_LABEL } from '@schedmesh/gpu-compliance-example';
import type { AttestationSubject } from '@schedmesh/gpu-compliance-example';
import { fakeNodeSpecs } from '@schedmesh/testkit';
import type { FakeNodeSpec } from '@schedmesh/testkit';

export const SCHEDULER_NAME = 'schedmesh';
/** Every object the demo makes carries it, so the demo (and its test) can find them. */
export const DEMO_LABEL = 'schedmesh.io/demo';
export const POOL_LABEL = 'schedmesh.io/node-pool';
export const NAMESPACES = ['shop', 'analytics', 'ml'] as const;
export const GPU = 'nvidia.com/gpu';
/** The label (value "true") of the GPU nodes whose GPUs are attested; the gpu-compliance plugin's default. */
export const GPU_ATTESTED_LABEL = DEFAULT_ATTESTED_NODE_LABEL;

const ZONES = 3;
const RACKS_PER_ZONE = 2;
const NODES_PER_RACK = 10;
const GPU_NODES_PER_ZONE = 2;
const GPU_TAINT: V1Toleration = { key: GPU, operator: 'Exists', effect: 'NoSchedule' };

/**
 * 3 zones × 2 racks × 10 general nodes, and a GPU pool of 2 nodes per zone in
 * a rack of their own: gpu-node-0..2 (one per zone) attested, gpu-node-3..5 not.
 */
export function sampleNodes(): FakeNodeSpec[] {
  const general = fakeNodeSpecs(ZONES * RACKS_PER_ZONE * NODES_PER_RACK, { prefix: 'node', zones: ZONES, racksPerZone: RACKS_PER_ZONE }).map((n) => ({
    ...n,
    // cost-tracking prefers cheaper nodes: zone-2 costs more, so it fills last.
    labels: { [POOL_LABEL]: 'general', 'schedmesh.io/hourly-cost': n.zone === 'zone-2' ? '45' : '30' },
  }));
  const gpu = Array.from({ length: ZONES * GPU_NODES_PER_ZONE }, (_, i): FakeNodeSpec => {
    const z = i % ZONES;
    return {
      name: `gpu-node-${i}`,
      zone: `zone-${z}`,
      rack: `rack-${z}-gpu`,
      capacity: { cpu: '16', memory: '64Gi', pods: '110', [GPU]: '4' },
      labels: { [POOL_LABEL]: 'gpu', 'schedmesh.io/hourly-cost': '250', ...(i < ZONES ? { [GPU_ATTESTED_LABEL]: 'true' } : {}) },
      taints: [{ key: GPU, value: 'present', effect: 'NoSchedule' }],
    };
  });
  return [...general, ...gpu];
}

/**
 * The AdmissionPolicy objects: a hibernated app, a host-path allowlist, a
 * tenant with node-pool RBAC. `tenantFailurePolicy` decides the tenant's pods
 * when no SubjectAccessReview can be had (fixture mode has no API server).
 */
export function samplePolicies(opts: { readonly tenantFailurePolicy: 'Fail' | 'Ignore' } = { tenantFailurePolicy: 'Fail' }): Record<string, unknown>[] {
  const policy = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'schedmesh.io/v1alpha1',
    kind: 'AdmissionPolicy',
    metadata: { name, labels: { [DEMO_LABEL]: 'true' } },
    spec,
  });
  return [
    policy('analytics-hibernation', {
      targetNamespaces: { names: ['analytics'] },
      hibernation: { apps: ['reports'], wakeHint: 'remove "reports" from AdmissionPolicy analytics-hibernation' },
    }),
    policy('shop-host-paths', {
      targetNamespaces: { names: ['shop'] },
      hostPath: { platform: [{ path: '/var/log', readOnly: true }], namespaces: [{ namespace: 'shop', paths: [{ path: '/data/shop' }] }] },
    }),
    policy('ml-tenant', {
      targetNamespaces: { names: ['ml'] },
      failurePolicy: opts.tenantFailurePolicy,
      tenantRBAC: { nodePools: ['gpu'], openPools: ['general'], extendedResources: [GPU] },
    }),
  ];
}

/** RBAC of the ml tenant: service account `trainer` may use the gpu pool and GPUs; `intern` may not. */
export function sampleRbac(): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'schedmesh-demo-gpu-user', labels: { [DEMO_LABEL]: 'true' } },
      rules: [
        { apiGroups: ['schedmesh.io'], resources: ['nodepools'], resourceNames: ['gpu'], verbs: ['use'] },
        { apiGroups: ['schedmesh.io'], resources: ['extendedresources'], resourceNames: [GPU], verbs: ['use'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'trainer-gpu', namespace: 'ml', labels: { [DEMO_LABEL]: 'true' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'schedmesh-demo-gpu-user' },
      subjects: [{ kind: 'ServiceAccount', name: 'trainer', namespace: 'ml' }],
    },
  ];
}

/** What a sample pod is there to show; the report groups by it. */
export type Feature =
  | 'web'
  | 'gang'
  | 'gang-incomplete'
  | 'gpu-forbidden'
  | 'gpu-attested'
  | 'gpu-unattested'
  | 'hibernated'
  | 'host-path-allowed'
  | 'host-path-denied'
  | 'no-cost-center'
  | 'too-big';

interface PodOptions {
  readonly namespace: string;
  readonly name: string;
  readonly feature: Feature;
  readonly app: string;
  readonly cpu: string;
  readonly memory: string;
  readonly costCenter?: string;
  readonly gpus?: number;
  readonly serviceAccount?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  /** The schedmesh.io/gpu-attestation annotation's value. */
  readonly attestation?: string;
  readonly volumes?: readonly { readonly path: string; readonly readOnly: boolean }[];
}

function samplePod(o: PodOptions): V1Pod {
  const volumes: V1Volume[] = (o.volumes ?? []).map((v, i) => ({ name: `host-${i}`, hostPath: { path: v.path } }));
  const requests: Record<string, string> = { cpu: o.cpu, memory: o.memory, ...(o.gpus ? { [GPU]: String(o.gpus) } : {}) };
  const annotations = { ...o.annotations, ...(o.attestation ? { [ATTESTATION_ANNOTATION]: o.attestation } : {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: { [DEMO_LABEL]: 'true', 'schedmesh.io/demo-feature': o.feature, app: o.app, ...(o.costCenter ? { 'cost-center': o.costCenter } : {}), ...o.labels },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: {
      schedulerName: SCHEDULER_NAME,
      ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
      ...(o.gpus ? { tolerations: [GPU_TAINT], nodeSelector: { [POOL_LABEL]: 'gpu' } } : {}),
      containers: [
        {
          name: 'main',
          image: 'registry.invalid/pause:never-pulled',
          resources: o.gpus ? { requests, limits: { [GPU]: String(o.gpus) } } : { requests },
          ...(volumes.length ? { volumeMounts: volumes.map((v, i) => ({ name: v.name, mountPath: `/mnt/${i}`, readOnly: o.volumes![i]!.readOnly })) } : {}),
        },
      ],
      ...(volumes.length ? { volumes } : {}),
    },
  };
}

const gangMember = (group: string, minMember: number, timeoutSeconds: number) => ({
  labels: { 'scheduling.x-k8s.io/pod-group': group },
  annotations: { 'schedmesh.io/pod-group-min-member': String(minMember), 'schedmesh.io/pod-group-schedule-timeout-seconds': String(timeoutSeconds) },
});

/** How the sample is made: the gang timeout, and the signer of GPU attestations. */
export interface SampleOptions {
  readonly gangTimeoutSeconds: number;
  /** The schedmesh.io/gpu-attestation value for a workload (examples/gpu-compliance). */
  readonly attest: (subject: AttestationSubject) => string;
}

/** The feature pods: what the sample shows besides plain placement (25 pods). */
function featurePods(opts: SampleOptions): V1Pod[] {
  const shop = { namespace: 'shop', cpu: '250m', memory: '256Mi', costCenter: 'cc-shop' };
  // Only the trainer's GPU workloads are attested: the platform signs for service accounts RBAC grants GPUs.
  const trainerAttestation = opts.attest({ namespace: 'ml', serviceAccount: 'trainer' });
  const ml = { namespace: 'ml', cpu: '2', memory: '8Gi', costCenter: 'cc-ml', gpus: 1 };
  const trainer = { ...ml, serviceAccount: 'trainer', attestation: trainerAttestation };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  return [
    // A gang of 4 that completes: all bind, or none, on attested GPU nodes.
    ...range(4).map((i) => samplePod({ ...trainer, name: `train-a-${i}`, feature: 'gang', app: 'train-a', ...gangMember('train-a', 4, 60) })),
    // A gang of 3 with 2 members: it times out at Permit and releases its leases.
    ...range(2).map((i) => samplePod({ ...trainer, name: `train-b-${i}`, feature: 'gang-incomplete', app: 'train-b', ...gangMember('train-b', 3, opts.gangTimeoutSeconds) })),
    // Attested GPU pods: the attested nodes only, though the others have room.
    ...range(2).map((i) => samplePod({ ...trainer, name: `infer-${i}`, feature: 'gpu-attested', app: 'infer' })),
    // The trainer may use GPUs (RBAC), but these workloads were never attested: "Missing security attestation".
    ...range(2).map((i) => samplePod({ ...ml, serviceAccount: 'trainer', name: `unattested-${i}`, feature: 'gpu-unattested', app: 'batch' })),
    // An attestation copied from the trainer's workload does not verify for another service account.
    samplePod({ ...ml, namespace: 'shop', costCenter: 'cc-shop', name: 'borrowed-attestation', feature: 'gpu-unattested', app: 'miner', attestation: trainerAttestation }),
    // The tenant's intern may not use GPUs (no RBAC grant), and is not attested either.
    ...range(2).map((i) => samplePod({ ...ml, name: `intern-${i}`, feature: 'gpu-forbidden', app: 'notebook', serviceAccount: 'intern' })),
    ...range(4).map((i) => samplePod({ ...shop, namespace: 'analytics', costCenter: 'cc-bi', name: `reports-${i}`, feature: 'hibernated', app: 'reports' })),
    ...range(2).map((i) => samplePod({ ...shop, name: `uploader-${i}`, feature: 'host-path-allowed', app: 'uploader', volumes: [{ path: '/data/shop/uploads', readOnly: false }, { path: '/var/log', readOnly: true }] })),
    samplePod({ ...shop, name: 'debug-etc', feature: 'host-path-denied', app: 'debug', volumes: [{ path: '/etc', readOnly: true }] }),
    samplePod({ ...shop, name: 'log-writer', feature: 'host-path-denied', app: 'debug', volumes: [{ path: '/var/log', readOnly: false }] }),
    ...range(2).map((i) => samplePod({ ...shop, costCenter: undefined, name: `untracked-${i}`, feature: 'no-cost-center', app: 'untracked' })),
    samplePod({ ...shop, name: 'giant', feature: 'too-big', app: 'giant', cpu: '64' }),
  ];
}

/** `total` pods (at least the feature pods): the feature pods, then web pods of varied size. */
export function samplePods(total: number, opts: SampleOptions): V1Pod[] {
  const features = featurePods(opts);
  const apps = ['web', 'api', 'cart', 'search', 'checkout'];
  const cpus = ['100m', '250m', '500m', '750m'];
  const memories = ['128Mi', '256Mi', '512Mi', '1Gi'];
  const web = Array.from({ length: Math.max(0, total - features.length) }, (_, i) =>
    samplePod({ namespace: 'shop', name: `${apps[i % apps.length]}-${i}`, feature: 'web', app: apps[i % apps.length]!, cpu: cpus[i % cpus.length]!, memory: memories[(i >> 2) % memories.length]!, costCenter: `cc-${100 + (i % 7)}` }),
  );
  return [...features, ...web];
}

/** The smallest sample: every feature pod and no web pod. */
export const FEATURE_POD_COUNT = featurePods({ gangTimeoutSeconds: 1, attest: () => 'counting only' }).length;
