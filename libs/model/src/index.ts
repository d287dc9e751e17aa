/**
 * @schedmesh/model: the compact scheduling model. Quantity parsing, resource
 * arithmetic, label and node selectors, taints and tolerations, and the edge
 * conversion of Kubernetes objects into the proto messages: pure functions on
 * the types of @schedmesh/proto.
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
  isExtendedResourceName,
  isMilliResource,
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

export { isPodTerminal, podHoldsNode } from './pods.js';

export {
  ANNOTATION_POD_GROUP_MIN_MEMBER,
  ANNOTATION_POD_GROUP_TIMEOUT,
  convertNamespace,
  convertNode,
  convertPod,
  DEFAULT_NODE_CONVERT_OPTIONS,
  EdgeError,
  KEPT_POD_ANNOTATION_PREFIXES,
  KEPT_POD_ANNOTATIONS,
  LABEL_POD_GROUP,
  LABEL_REGION,
  LABEL_REGION_LEGACY,
  LABEL_ZONE,
  LABEL_ZONE_LEGACY,
  SCHEDMESH_ANNOTATION_PREFIX,
} from './convert.js';
export type { EdgeObjectKind, NodeConvertOptions } from './convert.js';
