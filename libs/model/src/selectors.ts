/**
 * Label selectors and node selectors: matching, precompiled matching, and
 * validation, with the semantics of upstream k8s.io/apimachinery/pkg/labels
 * and k8s.io/component-helpers/scheduling/corev1/nodeaffinity.
 *
 * - A label selector that is absent selects nothing; an empty one selects everything.
 * - A node selector ORs its terms; a selector without terms selects no node.
 * - A node selector term ANDs its requirements; a term without any requirement selects no node.
 */
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import type { LabelSelector, Node, NodeSelector, NodeSelectorTerm, Pod, SelectorRequirement } from '@schedmesh/proto/v1/types';
import { isDns1123Subdomain } from './names.js';
import type { FieldProblem } from './problem.js';

/** Labels of an object: key → value. */
export type Labels = { readonly [key: string]: string };

/** Where a requirement appears, which decides the operators it may use. */
export type RequirementKind =
  /** metav1.LabelSelector matchExpressions: In, NotIn, Exists, DoesNotExist. */
  | 'label'
  /** Node selector term matchExpressions: also Gt and Lt. */
  | 'node'
  /** Node selector term matchFields: "metadata.name" with In or NotIn and one value. */
  | 'field';

/** The only field a node selector term's matchFields may name. */
export const NODE_FIELD_METADATA_NAME = 'metadata.name';

const OPERATOR_NAMES: ReadonlyMap<SelectorOperator, string> = new Map([
  [SelectorOperator.SELECTOR_OPERATOR_IN, 'In'],
  [SelectorOperator.SELECTOR_OPERATOR_NOT_IN, 'NotIn'],
  [SelectorOperator.SELECTOR_OPERATOR_EXISTS, 'Exists'],
  [SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST, 'DoesNotExist'],
  [SelectorOperator.SELECTOR_OPERATOR_GT, 'Gt'],
  [SelectorOperator.SELECTOR_OPERATOR_LT, 'Lt'],
]);

const OPERATORS_BY_KIND: Readonly<Record<RequirementKind, ReadonlyMap<string, SelectorOperator>>> = {
  label: new Map([
    ['In', SelectorOperator.SELECTOR_OPERATOR_IN],
    ['NotIn', SelectorOperator.SELECTOR_OPERATOR_NOT_IN],
    ['Exists', SelectorOperator.SELECTOR_OPERATOR_EXISTS],
    ['DoesNotExist', SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST],
  ]),
  node: new Map([
    ['In', SelectorOperator.SELECTOR_OPERATOR_IN],
    ['NotIn', SelectorOperator.SELECTOR_OPERATOR_NOT_IN],
    ['Exists', SelectorOperator.SELECTOR_OPERATOR_EXISTS],
    ['DoesNotExist', SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST],
    ['Gt', SelectorOperator.SELECTOR_OPERATOR_GT],
    ['Lt', SelectorOperator.SELECTOR_OPERATOR_LT],
  ]),
  field: new Map([
    ['In', SelectorOperator.SELECTOR_OPERATOR_IN],
    ['NotIn', SelectorOperator.SELECTOR_OPERATOR_NOT_IN],
  ]),
};

const SUPPORTED_TEXT: Readonly<Record<RequirementKind, string>> = {
  label: supportedText(OPERATORS_BY_KIND.label),
  node: supportedText(OPERATORS_BY_KIND.node),
  field: supportedText(OPERATORS_BY_KIND.field),
};

function supportedText(ops: ReadonlyMap<string, SelectorOperator>): string {
  return [...ops.keys()]
    .sort()
    .map((o) => `"${o}"`)
    .join(', ');
}

/** The operator named s ("In", "NotIn", ...) if kind allows it, else undefined. */
export function selectorOperatorFromString(s: string, kind: RequirementKind): SelectorOperator | undefined {
  return OPERATORS_BY_KIND[kind].get(s);
}

/** The Kubernetes name of an operator ("In"), or its number for an unknown one. */
export function selectorOperatorName(op: SelectorOperator): string {
  return OPERATOR_NAMES.get(op) ?? String(op);
}

/** The reason for an operator a requirement of kind may not use. */
export function unsupportedOperatorReason(value: string, kind: RequirementKind): string {
  return `unsupported value ${JSON.stringify(value)}: supported values: ${SUPPORTED_TEXT[kind]}`;
}

// --- Syntax of label keys and values (k8s.io/apimachinery/pkg/util/validation).

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

// Keys already found valid. The same few hundred keys recur in every object of
// a cluster; remembering them takes the regular expressions off the hot path.
// Bounded: cleared when full.
const validKeys = new Set<string>();
const VALID_KEYS_MAX = 4096;

/** Why key is not a valid label key (a qualified name, "prefix/name"), or undefined if it is. */
export function labelKeyProblem(key: string): string | undefined {
  if (validKeys.has(key)) return undefined;
  const problem = checkLabelKey(key);
  if (problem === undefined) {
    if (validKeys.size >= VALID_KEYS_MAX) validKeys.clear();
    validKeys.add(key);
  }
  return problem;
}

function checkLabelKey(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  const slash = key.indexOf('/');
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0) return 'prefix part must not be empty';
    if (!isDns1123Subdomain(prefix)) return `prefix part ${JSON.stringify(prefix)} must be a DNS-1123 subdomain`;
  }
  if (name.length === 0) return 'name part must not be empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME.test(name)) {
    return `name part ${JSON.stringify(name)} must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

/** Why value is not a valid label value, or undefined if it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value)) {
    return `${JSON.stringify(value)} must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

/** Parses a decimal int64 as Go's strconv.ParseInt(s, 10, 64); undefined if it is not one. */
export function parseInt64(s: string): bigint | undefined {
  const n = s.length;
  let i = 0;
  if (n > 0 && (s.charCodeAt(0) === 43 /* + */ || s.charCodeAt(0) === 45) /* - */) i = 1;
  if (i === n || n - i > 19) return undefined;
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return undefined;
  }
  const v = BigInt(s);
  return v > INT64_MAX || v < INT64_MIN ? undefined : v;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** What is wrong with one field of a requirement. */
export interface RequirementProblem extends FieldProblem {
  /** The field of the requirement, relative to it. */
  readonly field: 'key' | 'operator' | 'values';
}

/**
 * Why a requirement is invalid where it appears, or undefined if it is valid:
 * the key syntax, the operator allowed for the kind, and the number (and for
 * Gt/Lt the form) of values each operator takes.
 */
export function requirementProblem(req: SelectorRequirement, kind: RequirementKind): RequirementProblem | undefined {
  if (kind === 'field') {
    if (req.key !== NODE_FIELD_METADATA_NAME) {
      return { field: 'key', reason: `unsupported value ${JSON.stringify(req.key)}: supported values: "${NODE_FIELD_METADATA_NAME}"` };
    }
  } else {
    const keyProblem = labelKeyProblem(req.key);
    if (keyProblem !== undefined) return { field: 'key', reason: keyProblem };
  }
  const name = OPERATOR_NAMES.get(req.operator);
  if (name === undefined || !OPERATORS_BY_KIND[kind].has(name)) {
    return { field: 'operator', reason: unsupportedOperatorReason(name ?? String(req.operator), kind) };
  }
  const count = req.values.length;
  switch (req.operator) {
    case SelectorOperator.SELECTOR_OPERATOR_IN:
    case SelectorOperator.SELECTOR_OPERATOR_NOT_IN:
      if (kind === 'field' && count !== 1) {
        return { field: 'values', reason: 'must have exactly one value when `operator` is "In" or "NotIn" for a node field selector' };
      }
      if (count === 0) return { field: 'values', reason: 'must be specified when `operator` is "In" or "NotIn"' };
      return undefined;
    case SelectorOperator.SELECTOR_OPERATOR_EXISTS:
    case SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST:
      if (count !== 0) return { field: 'values', reason: 'may not be specified when `operator` is "Exists" or "DoesNotExist"' };
      return undefined;
    case SelectorOperator.SELECTOR_OPERATOR_GT:
    case SelectorOperator.SELECTOR_OPERATOR_LT:
      if (count !== 1) return { field: 'values', reason: 'must have exactly one value when `operator` is "Gt" or "Lt"' };
      if (parseInt64(req.values[0] ?? '') === undefined) {
        return { field: 'values', reason: `${JSON.stringify(req.values[0])} must be an integer when \`operator\` is "Gt" or "Lt"` };
      }
      return undefined;
    default:
      return { field: 'operator', reason: unsupportedOperatorReason(String(req.operator), kind) };
  }
}

/** SelectorError is one invalid field of a selector, named by its path in the Kubernetes object. */
export class SelectorError extends Error implements FieldProblem {
  override readonly name = 'SelectorError';
  /** The field path ("spec.affinity.nodeAffinity...matchExpressions[0].operator"). */
  readonly field: string;
  /** Why the field is invalid. */
  readonly reason: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(`${field}: ${reason}`, options);
    this.field = field;
    this.reason = reason;
  }
}

function validateRequirements(reqs: readonly SelectorRequirement[], kind: RequirementKind, path: string, out: SelectorError[]): void {
  for (let i = 0; i < reqs.length; i++) {
    const req = reqs[i] as SelectorRequirement;
    const problem = requirementProblem(req, kind);
    if (problem !== undefined) out.push(new SelectorError(`${path}[${i}].${problem.field}`, problem.reason));
  }
}

/**
 * The errors of a label selector (metav1.LabelSelector), each naming its field
 * below path (e.g. `${path}.matchExpressions[0].operator`); empty if it is valid.
 */
export function validateLabelSelector(selector: LabelSelector, path: string): SelectorError[] {
  const out: SelectorError[] = [];
  for (const key of Object.keys(selector.matchLabels)) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(selector.matchLabels[key] ?? '');
    if (problem !== undefined) out.push(new SelectorError(`${path}.matchLabels[${key}]`, problem));
  }
  validateRequirements(selector.matchExpressions, 'label', `${path}.matchExpressions`, out);
  return out;
}

/** The errors of a node selector term below path; empty if it is valid. */
export function validateNodeSelectorTerm(term: NodeSelectorTerm, path: string): SelectorError[] {
  const out: SelectorError[] = [];
  validateRequirements(term.matchExpressions, 'node', `${path}.matchExpressions`, out);
  validateRequirements(term.matchFields, 'field', `${path}.matchFields`, out);
  return out;
}

/**
 * The errors of a required node selector below path (its terms are
 * `${path}.nodeSelectorTerms[i]`); empty if it is valid. A required selector
 * needs at least one term.
 */
export function validateNodeSelector(selector: NodeSelector, path: string): SelectorError[] {
  if (selector.terms.length === 0) return [new SelectorError(`${path}.nodeSelectorTerms`, 'must have at least one node selector term')];
  const out: SelectorError[] = [];
  for (let i = 0; i < selector.terms.length; i++) {
    out.push(...validateNodeSelectorTerm(selector.terms[i] as NodeSelectorTerm, `${path}.nodeSelectorTerms[${i}]`));
  }
  return out;
}

// --- Matching.

function labelValue(labels: Labels, key: string): string | undefined {
  // Own string entries only: a plain object also answers "constructor".
  const v = labels[key];
  return typeof v === 'string' ? v : undefined;
}

function compareInt64(labelValueText: string, operand: bigint, op: SelectorOperator): boolean {
  const v = parseInt64(labelValueText);
  if (v === undefined) return false;
  return op === SelectorOperator.SELECTOR_OPERATOR_GT ? v > operand : v < operand;
}

/** Whether a value (a label's, or a field's) satisfies a requirement; undefined means absent. */
function valueMatches(req: SelectorRequirement, v: string | undefined): boolean {
  switch (req.operator) {
    case SelectorOperator.SELECTOR_OPERATOR_IN:
      return v !== undefined && req.values.includes(v);
    case SelectorOperator.SELECTOR_OPERATOR_NOT_IN:
      return v === undefined || !req.values.includes(v);
    case SelectorOperator.SELECTOR_OPERATOR_EXISTS:
      return v !== undefined;
    case SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST:
      return v === undefined;
    case SelectorOperator.SELECTOR_OPERATOR_GT:
    case SelectorOperator.SELECTOR_OPERATOR_LT: {
      if (v === undefined || req.values.length !== 1) return false;
      const operand = parseInt64(req.values[0] ?? '');
      return operand !== undefined && compareInt64(v, operand, req.operator);
    }
    default:
      return false;
  }
}

/** Whether labels satisfy one requirement (labels.Requirement.Matches). */
export function requirementMatches(req: SelectorRequirement, labels: Labels): boolean {
  return valueMatches(req, labelValue(labels, req.key));
}

/** Whether every key=value of selector is in labels (a map selector such as spec.nodeSelector; empty matches all). */
export function mapSelectorMatches(selector: Labels, labels: Labels): boolean {
  for (const key in selector) {
    if (labelValue(labels, key) !== selector[key]) return false;
  }
  return true;
}

/** Whether a label selector selects labels: absent selects nothing, empty selects everything. */
export function labelSelectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  if (!mapSelectorMatches(selector.matchLabels, labels)) return false;
  for (const req of selector.matchExpressions) if (!requirementMatches(req, labels)) return false;
  return true;
}

/** Whether a node selector term selects a node: a term without requirements selects none. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, nodeName: string, labels: Labels): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  for (const req of term.matchExpressions) if (!requirementMatches(req, labels)) return false;
  for (const req of term.matchFields) {
    if (!valueMatches(req, req.key === NODE_FIELD_METADATA_NAME ? nodeName : undefined)) return false;
  }
  return true;
}

/** Whether any term of a node selector selects the node; a selector without terms selects none. */
export function nodeSelectorMatches(selector: NodeSelector, nodeName: string, labels: Labels): boolean {
  for (const term of selector.terms) if (nodeSelectorTermMatches(term, nodeName, labels)) return true;
  return false;
}

/**
 * Whether a node satisfies a pod's hard node constraints: spec.nodeSelector
 * and the required node affinity (upstream GetRequiredNodeAffinity(pod).Match).
 */
export function requiredNodeAffinityMatches(pod: Pick<Pod, 'nodeSelector' | 'affinity'>, node: Pick<Node, 'name' | 'labels'>): boolean {
  if (!mapSelectorMatches(pod.nodeSelector, node.labels)) return false;
  const required = pod.affinity?.nodeAffinity?.required;
  return required === undefined || nodeSelectorMatches(required, node.name, node.labels);
}

// --- Precompiled matching, for the hot path (one pod against many nodes or pods).

/** A label selector compiled once and matched many times. */
export interface CompiledLabelSelector {
  /** Whether the selector selects labels. */
  matches(labels: Labels): boolean;
}

/** A node selector (or term) compiled once and matched against many nodes. */
export interface CompiledNodeSelector {
  /** Whether the selector selects the node. */
  matches(nodeName: string, labels: Labels): boolean;
}

enum Op {
  Equals,
  In,
  NotIn,
  Exists,
  DoesNotExist,
  Gt,
  Lt,
  Never,
}

interface Check {
  readonly key: string;
  readonly op: Op;
  /** Equals: the value. */
  readonly value: string;
  /** In / NotIn: the values. */
  readonly values: readonly string[];
  /** In / NotIn with many values: the values as a set. */
  readonly set: ReadonlySet<string> | undefined;
  /** Gt / Lt: the operand. */
  readonly operand: bigint;
}

const NO_VALUES: readonly string[] = [];
// Below this many values an array scan beats a Set lookup.
const SET_THRESHOLD = 8;

function check(key: string, op: Op, value = '', values: readonly string[] = NO_VALUES, operand = 0n): Check {
  return { key, op, value, values, set: values.length > SET_THRESHOLD ? new Set(values) : undefined, operand };
}

function compileRequirement(req: SelectorRequirement): Check {
  switch (req.operator) {
    case SelectorOperator.SELECTOR_OPERATOR_IN:
      if (req.values.length === 1) return check(req.key, Op.Equals, req.values[0]);
      return check(req.key, Op.In, '', req.values);
    case SelectorOperator.SELECTOR_OPERATOR_NOT_IN:
      return check(req.key, Op.NotIn, '', req.values);
    case SelectorOperator.SELECTOR_OPERATOR_EXISTS:
      return check(req.key, Op.Exists);
    case SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST:
      return check(req.key, Op.DoesNotExist);
    case SelectorOperator.SELECTOR_OPERATOR_GT:
    case SelectorOperator.SELECTOR_OPERATOR_LT: {
      const operand = req.values.length === 1 ? parseInt64(req.values[0] ?? '') : undefined;
      if (operand === undefined) return check(req.key, Op.Never);
      return check(req.key, req.operator === SelectorOperator.SELECTOR_OPERATOR_GT ? Op.Gt : Op.Lt, '', NO_VALUES, operand);
    }
    default:
      return check(req.key, Op.Never);
  }
}

function includes(c: Check, v: string): boolean {
  return c.set !== undefined ? c.set.has(v) : c.values.includes(v);
}

function checkValue(c: Check, v: string | undefined): boolean {
  switch (c.op) {
    case Op.Equals:
      return v === c.value;
    case Op.In:
      return v !== undefined && includes(c, v);
    case Op.NotIn:
      return v === undefined || !includes(c, v);
    case Op.Exists:
      return v !== undefined;
    case Op.DoesNotExist:
      return v === undefined;
    case Op.Gt: {
      const n = v === undefined ? undefined : parseInt64(v);
      return n !== undefined && n > c.operand;
    }
    case Op.Lt: {
      const n = v === undefined ? undefined : parseInt64(v);
      return n !== undefined && n < c.operand;
    }
    default:
      return false;
  }
}

function checkAll(checks: readonly Check[], labels: Labels): boolean {
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i] as Check;
    if (!checkValue(c, labelValue(labels, c.key))) return false;
  }
  return true;
}

function compileChecks(matchLabels: Labels, reqs: readonly SelectorRequirement[]): Check[] {
  const checks: Check[] = [];
  for (const key in matchLabels) {
    checks.push(check(key, Op.Equals, matchLabels[key]));
  }
  for (const req of reqs) checks.push(compileRequirement(req));
  return checks;
}

/** Selects nothing. */
export const MATCH_NOTHING: CompiledLabelSelector = Object.freeze({ matches: () => false });
/** Selects everything. */
export const MATCH_EVERYTHING: CompiledLabelSelector = Object.freeze({ matches: () => true });

/** Compiles a label selector: absent selects nothing, empty selects everything. */
export function compileLabelSelector(selector: LabelSelector | undefined): CompiledLabelSelector {
  if (selector === undefined) return MATCH_NOTHING;
  const checks = compileChecks(selector.matchLabels, selector.matchExpressions);
  if (checks.length === 0) return MATCH_EVERYTHING;
  return { matches: (labels) => checkAll(checks, labels) };
}

/** Compiles a map selector such as spec.nodeSelector (empty selects everything). */
export function compileMapSelector(selector: Labels): CompiledLabelSelector {
  const checks = compileChecks(selector, []);
  if (checks.length === 0) return MATCH_EVERYTHING;
  return { matches: (labels) => checkAll(checks, labels) };
}

interface CompiledTerm {
  readonly expressions: readonly Check[];
  readonly fields: readonly Check[];
}

function compileTerm(term: NodeSelectorTerm): CompiledTerm | undefined {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return undefined;
  return {
    expressions: term.matchExpressions.map(compileRequirement),
    fields: term.matchFields.map((req) => (req.key === NODE_FIELD_METADATA_NAME ? compileRequirement(req) : { ...compileRequirement(req), op: Op.Never })),
  };
}

function termMatches(term: CompiledTerm, nodeName: string, labels: Labels): boolean {
  if (!checkAll(term.expressions, labels)) return false;
  for (const c of term.fields) if (!checkValue(c, nodeName)) return false;
  return true;
}

const NO_NODE: CompiledNodeSelector = Object.freeze({ matches: () => false });
const ANY_NODE: CompiledNodeSelector = Object.freeze({ matches: () => true });

/** Compiles a node selector term (a term without requirements selects no node). */
export function compileNodeSelectorTerm(term: NodeSelectorTerm): CompiledNodeSelector {
  const compiled = compileTerm(term);
  if (compiled === undefined) return NO_NODE;
  return { matches: (nodeName, labels) => termMatches(compiled, nodeName, labels) };
}

/** Compiles a node selector (terms ORed; without terms it selects no node). */
export function compileNodeSelector(selector: NodeSelector): CompiledNodeSelector {
  const terms = selector.terms.map(compileTerm).filter((t): t is CompiledTerm => t !== undefined);
  if (terms.length === 0) return NO_NODE;
  return {
    matches: (nodeName, labels) => {
      for (const t of terms) if (termMatches(t, nodeName, labels)) return true;
      return false;
    },
  };
}

/** Compiles a pod's hard node constraints (spec.nodeSelector AND required node affinity). */
export function compileRequiredNodeAffinity(pod: Pick<Pod, 'nodeSelector' | 'affinity'>): CompiledNodeSelector {
  const map = compileMapSelector(pod.nodeSelector);
  const required = pod.affinity?.nodeAffinity?.required;
  const affinity = required === undefined ? ANY_NODE : compileNodeSelector(required);
  if (map === MATCH_EVERYTHING) return affinity;
  if (affinity === ANY_NODE) return { matches: (_nodeName, labels) => map.matches(labels) };
  return { matches: (nodeName, labels) => map.matches(labels) && affinity.matches(nodeName, labels) };
}
