// Real Kubernetes control plane (etcd + kube-apiserver), kube-scheduler and
// Jaeger for end-to-end tests, run from the binaries test/cluster/build.sh makes.
export { CLUSTER_BIN_ENV, clusterBinDir, requireBinary } from './binaries.js';
export type { ClusterBinary } from './binaries.js';
export { kubeconfigYaml, startControlPlane } from './controlplane.js';
export type { ControlPlane, ControlPlaneOptions } from './controlplane.js';
export { CLUSTER_BUILD_COMMAND, ClusterBinaryMissingError, ClusterStartError } from './errors.js';
export { findTraces, getTrace, startJaeger } from './jaeger.js';
export type { Jaeger, JaegerKeyValue, JaegerOptions, JaegerSpan, JaegerTrace, TraceQueryOptions } from './jaeger.js';
export { kubectl } from './kubectl.js';
export { freePort, LOOPBACK } from './net.js';
export {
  createFakeNodes,
  DEFAULT_NODE_CAPACITY,
  deleteFakeNodes,
  FAKE_NODE_LABEL,
  fakeNodeObject,
  fakeNodeSpecs,
  RACK_LABEL,
  ZONE_LABEL,
} from './nodes.js';
export type { CreateFakeNodesOptions, FakeNodeImage, FakeNodeSpec, ResourceList } from './nodes.js';
export { httpGet } from './http.js';
export type { HttpResponse } from './http.js';
export { spawnManaged } from './process.js';
export type { ManagedProcess, ProcessExit, SpawnOptions } from './process.js';
export { resolveSchedulerConfig, startKubeScheduler } from './scheduler.js';
export type { KubeScheduler, KubeSchedulerConfiguration, KubeSchedulerOptions } from './scheduler.js';
export { pollUntil, PollTimeoutError, waitReady } from './wait.js';
export type { PollOptions } from './wait.js';
