/**
 * @schedmesh/framework: the scheduling framework. One interface per
 * extension point, Status values, cycle state, the snapshot plugins read,
 * the registry and profile configuration, the runner (filter/score cycle
 * with preemption dry runs), and the in-tree plugins.
 */
export { PluginError, Status, StatusCode, statusCodeName } from './status.js';
export { CycleState, StateKey } from './cycle-state.js';
export type { ReadonlyCycleState, StateData } from './cycle-state.js';
export { EXTENSION_POINTS, implementedPoints, MAX_NODE_SCORE, MIN_NODE_SCORE } from './interfaces.js';
export type {
  BindPlugin,
  ExtensionPoint,
  FilterPlugin,
  FrameworkHandle,
  NodeScore,
  NodeToStatus,
  PermitPlugin,
  PermitResult,
  Plugin,
  PostBindPlugin,
  PostFilterOptions,
  PostFilterPlugin,
  PostFilterResult,
  PreBindPlugin,
  PreemptionCandidate,
  PreFilterExtensions,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  QueuedPodInfo,
  QueueSortPlugin,
  ReservePlugin,
  ScorePlugin,
} from './interfaces.js';
export { compileAffinityTerm, hasPodAffinityTerms, newPodInfo, podMatchesAllTerms, resolveNamespaceSelector, termMatches } from './pod-info.js';
export type { AffinityTerm, PodInfo, WeightedAffinityTerm } from './pod-info.js';
export { BIND_ALL_HOST_IP, buildNodeInfo, cloneNodeInfo, HostPortSet, MutableNodeInfo } from './node-info.js';
export type { HostPortUsage, NodeInfo } from './node-info.js';
export { ClusterSnapshot, podUsesNode, snapshotOf } from './snapshot.js';
export type { SnapshotLister } from './snapshot.js';
export { PluginNames } from './names.js';
export type { PluginName } from './names.js';
export { definePlugin, DuplicatePluginError, InvalidPluginArgsError, Registry } from './registry.js';
export type { ArgsIssue, PluginDefinition, PluginFactory } from './registry.js';
export {
  DEFAULT_MULTI_POINT,
  DEFAULT_SCHEDULER_NAME,
  formatPath,
  resolveSchedulerConfig,
  SchedulerConfigError,
  schedulerConfigSchema,
} from './config.js';
export type { ConfigIssue, PluginSetConfig, ResolvedPlugin, ResolvedProfile, ResolvedSchedulerConfig, SchedulerConfigInput } from './config.js';
export { Framework, MAX_PERMIT_TIMEOUT_MS, newCycleState } from './framework.js';
export type { FrameworkOptions, NodePluginScores, PluginScore, PreFilterOutcome } from './framework.js';
export {
  aggregateReasons,
  BASE_PERCENTAGE_OF_NODES_TO_SCORE,
  Diagnosis,
  evaluatePod,
  findNodesThatFitPod,
  findPreemptionCandidates,
  fitErrorMessage,
  MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND,
  MIN_FEASIBLE_NODES_TO_FIND,
  NO_NODES_AVAILABLE,
  numFeasibleNodesToFind,
  prioritizeNodes,
  rankNodes,
  REASON_NODE_NOT_FOUND,
  scoreNodes,
} from './cycle.js';
export type { CycleRequest, EvaluateResult, FilterResult, NodeRejection, PreemptionSearchResult, ReasonCount } from './cycle.js';
export { defaultNormalizeScore, brokenLinearFunction } from './helpers/normalize.js';
export type { FunctionShapePoint } from './helpers/normalize.js';
export { IN_TREE_PLUGINS, inTreeRegistry } from './plugins/registry.js';
export type { NodeAffinityArgs } from './plugins/nodeaffinity/args.js';
export type { NodeResourcesFitArgs } from './plugins/noderesourcesfit/args.js';
export type { NodeResourcesBalancedAllocationArgs } from './plugins/noderesourcesbalancedallocation/args.js';
export type { PodTopologySpreadArgs } from './plugins/podtopologyspread/args.js';
export type { InterPodAffinityArgs } from './plugins/interpodaffinity/args.js';
export type { TopologyAwareArgs } from './plugins/topologyaware/args.js';
export { PREFERRED_RACK_KEY, PREFERRED_ZONE_KEY } from './plugins/topologyaware/args.js';
export type { DefaultPreemptionArgs } from './plugins/defaultpreemption/args.js';
