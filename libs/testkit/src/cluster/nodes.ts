import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Node, V1NodeStatus, V1Taint } from '@kubernetes/client-node';

/** Well-known zone label (topology.kubernetes.io/zone). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** schedmesh's rack label (the default the informer reads). */
export const RACK_LABEL = 'schedmesh.io/rack';
/** Label put on every node createFakeNodes makes, so tests can find (and delete) them. */
export const FAKE_NODE_LABEL = 'schedmesh.io/fake-node';

// Taints the node lifecycle controller or the TaintNodesByCondition admission
// plugin put on a node that has not reported Ready. No controller runs here to
// lift them, so a fake node that did not ask for one must not keep one.
const CONDITION_TAINT_KEYS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

/** Resource quantities as Kubernetes writes them ("4", "500m", "16Gi", "110"). */
export type ResourceList = Readonly<Record<string, string>>;

/** One node without a kubelet: what the scheduler reads from a Node object. */
export interface FakeNodeSpec {
  readonly name: string;
  /** Default: cpu "4", memory "16Gi", pods "110". Extended resources (e.g. "nvidia.com/gpu") go here too. */
  readonly capacity?: ResourceList;
  /** Default: the capacity. */
  readonly allocatable?: ResourceList;
  readonly labels?: Readonly<Record<string, string>>;
  /** Sets ZONE_LABEL. */
  readonly zone?: string;
  /** Sets RACK_LABEL. */
  readonly rack?: string;
  readonly taints?: readonly V1Taint[];
  readonly unschedulable?: boolean;
  /** Ready condition status; default true. */
  readonly ready?: boolean;
  /** Container images the node reports as present (status.images), for ImageLocality. */
  readonly images?: readonly FakeNodeImage[];
}

/** One image a fake node holds: its names and size. */
export interface FakeNodeImage {
  readonly names: readonly string[];
  readonly sizeBytes: number;
}

export interface CreateFakeNodesOptions {
  /** Requests in flight at once; default 16. */
  readonly concurrency?: number;
}

export const DEFAULT_NODE_CAPACITY: ResourceList = { cpu: '4', memory: '16Gi', pods: '110' };

/**
 * Builds `count` node specs named `<prefix>-<i>` spread round-robin over
 * `zones` zones and `racksPerZone` racks in each (labels zone-<z>, rack-<z>-<r>).
 */
export function fakeNodeSpecs(
  count: number,
  opts: {
    readonly prefix?: string;
    readonly zones?: number;
    readonly racksPerZone?: number;
    readonly capacity?: ResourceList;
    readonly labels?: Readonly<Record<string, string>>;
  } = {},
): FakeNodeSpec[] {
  const zones = opts.zones ?? 3;
  const racks = opts.racksPerZone ?? 2;
  const width = String(Math.max(count - 1, 0)).length;
  return Array.from({ length: count }, (_, i) => {
    const z = i % zones;
    const r = Math.floor(i / zones) % racks;
    return {
      name: `${opts.prefix ?? 'fake-node'}-${String(i).padStart(width, '0')}`,
      zone: `zone-${z}`,
      rack: `rack-${z}-${r}`,
      ...(opts.capacity ? { capacity: opts.capacity } : {}),
      ...(opts.labels ? { labels: opts.labels } : {}),
    };
  });
}

/** The status a fake node reports: capacity, allocatable and the Ready condition. */
function fakeNodeStatus(spec: FakeNodeSpec): V1NodeStatus {
  const capacity = { ...DEFAULT_NODE_CAPACITY, ...spec.capacity };
  const now = new Date();
  return {
    capacity,
    allocatable: { ...capacity, ...spec.allocatable },
    phase: 'Running',
    conditions: [
      {
        type: 'Ready',
        status: spec.ready === false ? 'False' : 'True',
        reason: spec.ready === false ? 'FakeNodeNotReady' : 'FakeNodeReady',
        message: 'fake node created by @schedmesh/testkit (no kubelet)',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    addresses: [{ type: 'Hostname', address: spec.name }],
    ...(spec.images?.length ? { images: spec.images.map((i) => ({ names: [...i.names], sizeBytes: i.sizeBytes })) } : {}),
    nodeInfo: {
      architecture: 'amd64',
      operatingSystem: 'linux',
      osImage: 'fake',
      kernelVersion: 'fake',
      kubeletVersion: 'fake',
      kubeProxyVersion: 'fake',
      containerRuntimeVersion: 'fake://0',
      bootID: '',
      machineID: '',
      systemUUID: '',
    },
  };
}

/** The Node object for a spec, status included (a node may be created with its status). */
export function fakeNodeObject(spec: FakeNodeSpec): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        [FAKE_NODE_LABEL]: 'true',
        ...(spec.zone !== undefined ? { [ZONE_LABEL]: spec.zone } : {}),
        ...(spec.rack !== undefined ? { [RACK_LABEL]: spec.rack } : {}),
        ...spec.labels,
      },
    },
    spec: {
      ...(spec.taints?.length ? { taints: spec.taints.map((t) => ({ ...t })) } : {}),
      ...(spec.unschedulable ? { unschedulable: true } : {}),
    },
    status: fakeNodeStatus(spec),
  };
}

function readyStatus(status: V1NodeStatus | undefined): string | undefined {
  return status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

function sameResources(got: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => got?.[k] === v);
}

async function createOne(api: CoreV1Api, spec: FakeNodeSpec): Promise<V1Node> {
  const body = fakeNodeObject(spec);
  const status = fakeNodeStatus(spec);
  let node = await api.createNode({ body });
  // Status given on create is kept by today's apiservers; should one drop it,
  // the status subresource sets it.
  if (readyStatus(node.status) !== readyStatus(status) || !sameResources(node.status?.allocatable, status.allocatable)) {
    node = await api.replaceNodeStatus({ name: spec.name, body: { ...node, status } });
  }
  // An apiserver with TaintNodesByCondition on (the default) adds the not-ready
  // taint at creation: drop the condition taints the spec did not ask for.
  const asked = new Set((spec.taints ?? []).map((t) => t.key));
  const taints = node.spec?.taints ?? [];
  const kept = taints.filter((t) => !CONDITION_TAINT_KEYS.has(t.key) || asked.has(t.key));
  if (kept.length !== taints.length) {
    node = await api.replaceNode({ name: spec.name, body: { ...node, spec: { ...node.spec, taints: kept } } });
  }
  return node;
}

/**
 * Creates the nodes (capacity, allocatable, Ready condition, labels, taints)
 * so kube-scheduler can bind pods to them although no kubelet runs. Returns
 * the created objects in the order of `specs`.
 */
export async function createFakeNodes(
  kubeConfig: KubeConfig,
  specs: readonly FakeNodeSpec[],
  opts: CreateFakeNodesOptions = {},
): Promise<V1Node[]> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const results: V1Node[] = new Array<V1Node>(specs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const i = next++;
      const spec = specs[i];
      if (spec) results[i] = await createOne(api, spec);
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? 16, specs.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** Deletes every node createFakeNodes made (label FAKE_NODE_LABEL). */
export async function deleteFakeNodes(kubeConfig: KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  await api.deleteCollectionNode({ labelSelector: `${FAKE_NODE_LABEL}=true` });
}
