/**
 * @schedmesh/scheduling: the runner of the scheduling framework and the one
 * cluster snapshot. The Framework (one profile's plugins and the calls into
 * them at every point), the filter/score cycle with extenders and preemption
 * dry runs, the plugin registry and profile configuration, and
 * ClusterSnapshot with its NodeInfo/PodInfo implementations and the proto
 * NodeInfo the snapshot service serves. Implements the contract of
 * @schedmesh/framework; knows no in-tree plugin (@schedmesh/plugins).
 */
export { DuplicatePluginError, Registry } from './registry.js';
export {
  DEFAULT_MULTI_POINT,
  DEFAULT_SCHEDULER_NAME,
  formatPath,
  resolveProfiles,
  SchedulerConfigError,
  schedulerConfigSchema,
} from './config.js';
export type { ConfigIssue, PluginSetConfig, ResolvedPlugin, ResolvedProfile, ResolvedSchedulerConfig, SchedulerConfigInput } from './config.js';
export { Framework, MAX_PERMIT_TIMEOUT_MS, newCycleState } from './framework.js';
export type { FrameworkOptions, NodePluginScores, PluginScore, PluginScoreSummary, PreFilterOutcome, ScoredNodes } from './framework.js';
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
  summarizeScores,
} from './cycle.js';
export type { CycleRequest, EvaluateResult, FilterResult, NodeRejection, PreemptionSearchResult, ReasonCount } from './cycle.js';
export { ExtenderError, REASON_EXTENDER_DROPPED, runExtenderFilters, runExtenderPrioritizers } from './extenders.js';
export type { ExtenderErrorListener, ExtenderFilterOutcome, ExtenderRejection, ExtenderScore } from './extenders.js';
export { ClusterSnapshot, snapshotOf } from './snapshot/cluster-snapshot.js';
export type { WorkloadObject } from './snapshot/cluster-snapshot.js';
export { BIND_ALL_HOST_IP, buildNodeInfo, HostPortSet, MutableNodeInfo } from './snapshot/node-info.js';
export { compileAffinityTerm, newPodInfo } from './snapshot/pod-info.js';
export { toNodeInfoMessage } from './snapshot/node-info-message.js';
