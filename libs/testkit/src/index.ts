export {
  CLUSTER_BIN_ENV,
  CLUSTER_BUILD_COMMAND,
  ClusterBinaryMissingError,
  clusterBinDir,
  ClusterStartError,
  createFakeNodes,
  DEFAULT_NODE_CAPACITY,
  deleteFakeNodes,
  FAKE_NODE_LABEL,
  fakeNodeObject,
  fakeNodeSpecs,
  findTraces,
  getTrace,
  httpGet,
  kubeconfigYaml,
  kubectl,
  freePort,
  LOOPBACK,
  pollUntil,
  PollTimeoutError,
  RACK_LABEL,
  requireBinary,
  resolveSchedulerConfig,
  startControlPlane,
  startJaeger,
  spawnManaged,
  startKubeScheduler,
  waitReady,
  ZONE_LABEL,
} from './cluster/index.js';
export type {
  ClusterBinary,
  ControlPlane,
  ControlPlaneOptions,
  CreateFakeNodesOptions,
  FakeNodeImage,
  FakeNodeSpec,
  HttpResponse,
  Jaeger,
  JaegerKeyValue,
  JaegerOptions,
  JaegerSpan,
  JaegerTrace,
  KubeScheduler,
  KubeSchedulerConfiguration,
  KubeSchedulerOptions,
  ManagedProcess,
  PollOptions,
  ProcessExit,
  ResourceList,
  SpawnOptions,
  TraceQueryOptions,
} from './cluster/index.js';
export { admissionPod, hostPathVolume, namespaceEvent, policyEvent, policyObject } from './builders/admission.js';
export type { PolicyObjectOptions } from './builders/admission.js';
export { clusterEvent, makeNode, makePod, namespace, node, NodeBuilder, pod, PodBuilder } from './builders/cluster.js';
export type { ContainerRequests, NodeResources, TaintEffectName } from './builders/cluster.js';
export { affinityTerm, doesNotExistReq, existsReq, inReq, notInReq, selector } from './builders/selectors.js';
export { loopbackConfig } from './loopback.js';
export type { ConfigSchema } from './loopback.js';
export { makeTestPki } from './pki.js';
export { startServiceProcess } from './service-process.js';
export type { ServiceProcess, ServiceProcessOptions } from './service-process.js';
export type { TestPki } from './pki.js';
export { requireServerBinary, sharedServers, startNats, startRedis, testEnvKeys, TestServerError } from './servers.js';
export type { NatsServerOptions, RedisServer, RedisServerOptions, TestServer } from './servers.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
