/**
 * @schedmesh/framework: the scheduling framework's contract. One interface per
 * extension point, the batched Extender point, Status values, cycle state, the
 * NodeInfo/PodInfo/SnapshotLister interfaces plugins read, plugin names, the
 * plugin definition (`definePlugin`), and the extension points on the wire.
 * No implementation of the runner or the snapshot (@schedmesh/scheduling) and
 * no plugin (@schedmesh/plugins).
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
export { EXTENDER_PLUGIN_NAME, MAX_EXTENDER_PRIORITY } from './extender.js';
export type { Extender, ExtenderFilterResult, ExtenderPriorities } from './extender.js';
export type { AffinityTerm, ControllerKind, HostPortUsage, NodeInfo, PodInfo, SimulatedNodeInfo, SnapshotLister, WeightedAffinityTerm } from './types.js';
export { hasPodAffinityTerms, podMatchesAllTerms, resolveNamespaceSelector, termMatches } from './affinity.js';
export { PluginNames } from './names.js';
export type { PluginName } from './names.js';
export { definePlugin, InvalidPluginArgsError } from './plugin-factory.js';
export type { ArgsIssue, PluginDefinition, PluginFactory } from './plugin-factory.js';
export { extensionPointFromProto, extensionPointToProto, WIRE_EXTENSION_POINTS } from './points.js';
export type { WireExtensionPoint } from './points.js';
