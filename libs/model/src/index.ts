/**
 * @schedmesh/model: the compact scheduling model. Quantity parsing, resource
 * arithmetic, label and node selectors, taints and tolerations, and the edge
 * conversion of Kubernetes objects into the proto messages (convert/), the
 * edge validation of what RPCs carry (validate.ts), object keys and Duration
 * arithmetic: pure functions on the types of @schedmesh/proto.
 */
export {
  addAmounts,
  ceilAmount,
  compareAmounts,
  formatBytes,
  formatMilliCpu,
  isQuantity,
  MAX_QUANTITY_LENGTH,
  milliValue,
  parseAmount,
  parseQuantity,
  QuantityError,
  toMilli,
  toUnits,
  value,
  wholeAmount,
  ZERO_AMOUNT,
} from './quantity.js';
export type { Amount, Quantity, QuantityErrorCode, QuantityValueOptions } from './quantity.js';

export {
  addInto,
  addResources,
  cloneResources,
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  effectivePodRequests,
  fitsResources,
  formatResourceAmount,
  getResource,
  insufficientReason,
  insufficientResources,
  isCoreResourceName,
  isExtendedResourceName,
  isMilliResource,
  isScalarResourceName,
  isSupportedPodLevelResource,
  isZeroResources,
  maxResources,
  parseResourceList,
  REASON_TOO_MANY_PODS,
  RESOURCE_CPU,
  RESOURCE_EPHEMERAL_STORAGE,
  RESOURCE_HUGEPAGES_PREFIX,
  RESOURCE_MEMORY,
  RESOURCE_PODS,
  ResourceError,
  resourceNameProblem,
  resourcesEqual,
  resourcesFromAmounts,
  setResource,
  subtractInto,
  subtractResources,
  zeroResources,
} from './resources.js';
export type { FitOptions, InitContainerResources, InsufficientResource, PodRequests, PodResourceInput, ResourceAmounts } from './resources.js';

export {
  compileLabelSelector,
  compileMapSelector,
  compileNodeSelector,
  compileNodeSelectorTerm,
  compileRequiredNodeAffinity,
  labelKeyProblem,
  labelSelectorMatches,
  labelValueProblem,
  mapSelectorMatches,
  MATCH_EVERYTHING,
  MATCH_NOTHING,
  NODE_FIELD_METADATA_NAME,
  nodeSelectorMatches,
  nodeSelectorTermMatches,
  parseInt64,
  requiredNodeAffinityMatches,
  requirementMatches,
  requirementProblem,
  SelectorError,
  selectorOperatorFromString,
  selectorOperatorName,
  validateLabelSelector,
  validateNodeSelector,
  validateNodeSelectorTerm,
} from './selectors.js';
export type { CompiledLabelSelector, CompiledNodeSelector, Labels, RequirementKind, RequirementProblem } from './selectors.js';

export {
  countUntoleratedTaints,
  FILTER_EFFECTS,
  findUntoleratedTaint,
  taintEffectFromString,
  taintEffectName,
  taintProblem,
  tolerationOperatorFromString,
  tolerationProblem,
  toleratesTaint,
  tolerationsTolerateTaint,
} from './taints.js';
export type { TaintFilter, TaintProblem } from './taints.js';

export type { FieldProblem } from './problem.js';

export { isDns1123Label, isDns1123Subdomain } from './names.js';
export {
  MAX_PERMIT_WAIT_MS,
  MAX_POD_GROUP_MIN_MEMBER,
  MAX_REQUEST_AMOUNT,
  namespaceNameProblem,
  nodeNameProblem,
  podGroupProblem,
  podUidProblem,
  requestsProblem,
  validatePod,
} from './validate.js';

export { groupKey, objectKey, podKey, splitObjectKey } from './keys.js';
export type { ObjectRef } from './keys.js';

export { durationProblem, durationToMs, msToDuration } from './time.js';
export { compareResourceVersions } from './resource-version.js';

export { EdgeError } from './convert/edge.js';
export type { EdgeObjectKind } from './convert/edge.js';
export { isPodTerminal, podHoldsNode } from './pods.js';

export {
  ANNOTATION_POD_GROUP_MIN_MEMBER,
  ANNOTATION_POD_GROUP_TIMEOUT,
  KEPT_POD_ANNOTATION_PREFIXES,
  KEPT_POD_ANNOTATIONS,
  LABEL_POD_GROUP,
  LABEL_REGION,
  LABEL_REGION_LEGACY,
  LABEL_ZONE,
  LABEL_ZONE_LEGACY,
  SCHEDMESH_ANNOTATION_PREFIX,
} from './convert/labels.js';
export { convertPod } from './convert/pod.js';
export { convertNode, DEFAULT_NODE_CONVERT_OPTIONS } from './convert/node.js';
export type { NodeConvertOptions } from './convert/node.js';
export { convertNamespace } from './convert/namespace.js';
export { convertAdmissionPolicy } from './convert/policy.js';
export { convertConfigMap } from './convert/configmap.js';
export { convertPodDisruptionBudget } from './convert/pdb.js';
export { convertPodGroup } from './convert/pod-group.js';
export { convertWorkloadSelector } from './convert/workload.js';
export type { WorkloadKind } from './convert/edge.js';
export { PodGroupIndex, resolvePodGroup } from './pod-groups.js';
export type { PodGroupLookup, PodGroupResolution } from './pod-groups.js';
