/**
 * The JSON of k8s.io/kube-scheduler/extender/v1, parsed once at the edge.
 *
 * The upstream structs carry no `json:` tags, so Go writes their PascalCase
 * field names and its decoder matches keys case-insensitively (the last of
 * two keys that fold to one field wins) and ignores unknown keys. The
 * protocol structs' keys are normalised that way here before zod sees them;
 * the embedded Kubernetes objects (v1.Pod, v1.NodeList) keep their own API
 * JSON and go through libs/model's converters, which name the bad field.
 * Responses are written with the exact upstream casing.
 */
import { convertNode, convertPod, EdgeError } from '@schedmesh/model';
import type { Node, Pod } from '@schedmesh/proto/v1/types';
import { z } from 'zod';

/** MaxExtenderPriority: the highest score a prioritize verb may give. */
export const MAX_EXTENDER_PRIORITY = 10;

/** A request the extender cannot read: answered with HTTP 400 and this message (it names what is wrong). */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** The body was longer than the configured limit: HTTP 413. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`the request body is larger than ${limitBytes} bytes`);
  }
}

/**
 * Renames the keys of `value` (a JSON object) to the fields of `fields` they
 * fold to, case-insensitively, as encoding/json does; unknown keys are
 * dropped. Anything but an object is returned as is, for zod to reject.
 */
export function foldKeys(value: unknown, fields: readonly string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const byFold = new Map(fields.map((f) => [f.toLowerCase(), f]));
  const out: Record<string, unknown> = {};
  // Exact matches are preferred by Go; among keys that fold to one field, the last one wins.
  for (const [key, v] of Object.entries(value)) {
    const field = byFold.get(key.toLowerCase());
    if (field !== undefined && (key === field || !Object.hasOwn(value, field))) out[field] = v;
  }
  return out;
}

const NODE_NAME_MAX = 253;
const NODE_NAMES_MAX = 100_000;
const nodeName = z.string().min(1, 'must be a non-empty node name').max(NODE_NAME_MAX, `at most ${NODE_NAME_MAX} characters`);

// The embedded objects are checked for shape only here; their content is the converters' job.
const objectSchema = z.record(z.string(), z.unknown(), { error: 'must be a JSON object' });

const extenderArgsSchema = z.object({
  Pod: objectSchema,
  Nodes: z
    .object({ items: z.array(objectSchema, { error: 'must be an array of Node objects' }).nullish() }, { error: 'must be a NodeList object or null' })
    .nullish(),
  // Checked by nodeNamesOf: zod's run per element costs more than the rest of a request of hundreds of names.
  NodeNames: z.unknown().optional(),
});

/** ExtenderArgs.NodeNames: an array of node names, or null; zod's wording, without its cost per name. */
function nodeNamesOf(value: unknown): readonly string[] | undefined {
  if (value === null || value === undefined) return undefined;
  const problem = (where: string, message: string): WireError => new WireError(`ExtenderArgs: ${where}: ${message}`);
  if (!Array.isArray(value)) throw problem('NodeNames', 'must be an array of node names or null');
  if (value.length > NODE_NAMES_MAX) throw problem('NodeNames', `at most ${NODE_NAMES_MAX} names`);
  for (let i = 0; i < value.length; i++) {
    const name: unknown = value[i];
    if (typeof name !== 'string' || name.length === 0) throw problem(`NodeNames.${i}`, 'must be a non-empty node name');
    if (name.length > NODE_NAME_MAX) throw problem(`NodeNames.${i}`, `at most ${NODE_NAME_MAX} characters`);
  }
  return value as string[];
}

const podUid = z.string({ error: 'must be a string' }).min(1, 'must be a non-empty pod UID');
const pdbViolations = z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must not be negative').nullish();

/** A struct of the protocol whose keys are folded before they are checked. */
function folded<T extends z.ZodRawShape>(shape: T, error: string) {
  return z.preprocess((v) => foldKeys(v, Object.keys(shape)), z.object(shape, { error }));
}

// MetaVictims {Pods []*MetaPod{UID}, NumPDBViolations}: what nodeCacheCapable extenders get.
const metaVictimsSchema = folded(
  {
    Pods: z.array(folded({ UID: podUid }, 'must be a MetaPod object'), { error: 'must be an array of MetaPod objects' }).nullish(),
    NumPDBViolations: pdbViolations,
  },
  'must be a MetaVictims object',
);

// Victims {Pods []*v1.Pod, NumPDBViolations}: the full pods; only their UIDs are read.
const victimsSchema = folded(
  {
    Pods: z.array(z.object({ metadata: z.object({ uid: podUid }, { error: 'must be an ObjectMeta object' }) }, { error: 'must be a Pod object' }), { error: 'must be an array of Pod objects' }).nullish(),
    NumPDBViolations: pdbViolations,
  },
  'must be a Victims object',
);

const preemptionArgsSchema = z.object({
  Pod: objectSchema,
  NodeNameToVictims: z.record(nodeName, victimsSchema.nullable(), { error: 'must be a map of node names to Victims' }).nullish(),
  NodeNameToMetaVictims: z.record(nodeName, metaVictimsSchema.nullable(), { error: 'must be a map of node names to MetaVictims' }).nullish(),
});

const bindingArgsSchema = z.object({
  PodName: z.string({ error: 'must be a string' }).min(1, 'must name the pod'),
  PodNamespace: z.string({ error: 'must be a string' }).min(1, 'must name the namespace'),
  PodUID: z.string({ error: 'must be a string' }).min(1, 'must carry the pod UID'),
  Node: nodeName,
});

/** ExtenderArgs, converted: the pod, and the nodes asked about by name (with their objects when sent). */
export interface ExtenderArgs {
  readonly pod: Pod;
  /** The nodes asked about, in request order (from NodeNames, else from Nodes.items). */
  readonly nodeNames: readonly string[];
  /** Whether the request carried node objects (nodeCacheCapable: false): the reply then carries Nodes. */
  readonly withNodes: boolean;
  /** The request's node objects, converted, by name (empty with nodeCacheCapable: true). */
  readonly nodes: ReadonlyMap<string, Node>;
  /** The request's node objects as sent, by name, for a Nodes reply. */
  readonly rawNodes: ReadonlyMap<string, Record<string, unknown>>;
}

/** The pods kube-scheduler would evict on one node, by UID. */
export interface ProposedVictims {
  readonly uids: readonly string[];
  readonly numPdbViolations: number;
}

/** ExtenderPreemptionArgs, converted: the preemptor and kube-scheduler's victims per node. */
export interface ExtenderPreemptionArgs {
  readonly pod: Pod;
  /** From NodeNameToMetaVictims (nodeCacheCapable: true), else from NodeNameToVictims' pods. */
  readonly victims: ReadonlyMap<string, ProposedVictims>;
}

/** MetaVictims as written on the wire. */
export interface MetaVictims {
  Pods: { UID: string }[];
  NumPDBViolations: number;
}

/** ExtenderPreemptionResult: upstream's has no Error field (a failure is a non-200 answer). */
export interface ExtenderPreemptionResult {
  NodeNameToMetaVictims: Record<string, MetaVictims>;
}

/** ExtenderBindingArgs. */
export interface ExtenderBindingArgs {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly node: string;
}

/** ExtenderFilterResult as written on the wire. */
export interface ExtenderFilterResult {
  Nodes: { items: Record<string, unknown>[] } | null;
  NodeNames: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

/** One HostPriority of a HostPriorityList. */
export interface HostPriority {
  Host: string;
  Score: number;
}

/** ExtenderBindingResult. */
export interface ExtenderBindingResult {
  Error: string;
}

/** Parses a body as JSON; a syntax error (a truncated body, say) is a WireError naming where. */
export function parseJson(body: string): unknown {
  // A test for any non-blank character, not trim(): that would copy a body of thousands of names.
  if (!/\S/.test(body)) throw new WireError('the request body is empty: expected a JSON object');
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new WireError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function issues(error: z.ZodError, what: string): WireError {
  const first = error.issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.join('.') : what}: ${i.message}`);
  return new WireError(`${what}: ${first.join('; ')}`);
}

function edge(err: unknown, where: string): never {
  if (err instanceof EdgeError) throw new WireError(`${where}: ${err.message}`);
  throw err;
}

/** ExtenderArgs of the filter and prioritize verbs. */
export function parseExtenderArgs(json: unknown): ExtenderArgs {
  const folded = foldKeys(json, ['Pod', 'Nodes', 'NodeNames']);
  const nodesFolded = typeof folded === 'object' && folded !== null && 'Nodes' in folded ? { ...folded, Nodes: foldKeys(folded.Nodes, ['items']) } : folded;
  const parsed = extenderArgsSchema.safeParse(nodesFolded);
  if (!parsed.success) throw issues(parsed.error, 'ExtenderArgs');
  const args = parsed.data;
  const names = nodeNamesOf(args.NodeNames);
  const pod = parsePod(args.Pod, 'ExtenderArgs.Pod');
  const nodes = new Map<string, Node>();
  const rawNodes = new Map<string, Record<string, unknown>>();
  const items = args.Nodes?.items ?? [];
  items.forEach((raw, i) => {
    let node: Node;
    try {
      node = convertNode(raw);
    } catch (err) {
      edge(err, `ExtenderArgs.Nodes.items[${i}]`);
    }
    if (node.name === '') throw new WireError(`ExtenderArgs.Nodes.items[${i}]: metadata.name is required`);
    nodes.set(node.name, node);
    rawNodes.set(node.name, raw);
  });
  // Upstream fills NodeNames even with nodeCacheCapable: false in some versions (kubernetes#126425): names win.
  return { pod, nodeNames: [...new Set(names ?? nodes.keys())], withNodes: args.Nodes != null && names === undefined, nodes, rawNodes };
}

/** The embedded pod, converted; it must say who it is. */
function parsePod(raw: Record<string, unknown>, where: string): Pod {
  let pod: Pod;
  try {
    pod = convertPod(raw);
  } catch (err) {
    edge(err, where);
  }
  if (pod.name === '' || pod.namespace === '' || pod.uid === '') throw new WireError(`${where}: metadata.name, metadata.namespace and metadata.uid are required`);
  return pod;
}

/** ExtenderPreemptionArgs of the preempt verb. */
export function parsePreemptionArgs(json: unknown): ExtenderPreemptionArgs {
  const parsed = preemptionArgsSchema.safeParse(foldKeys(json, ['Pod', 'NodeNameToVictims', 'NodeNameToMetaVictims']));
  if (!parsed.success) throw issues(parsed.error, 'ExtenderPreemptionArgs');
  const args = parsed.data;
  const pod = parsePod(args.Pod, 'ExtenderPreemptionArgs.Pod');
  const victims = new Map<string, ProposedVictims>();
  // kube-scheduler sends one of the two maps, as nodeCacheCapable says.
  if (args.NodeNameToMetaVictims != null) {
    for (const [node, v] of Object.entries(args.NodeNameToMetaVictims)) victims.set(node, { uids: (v?.Pods ?? []).map((p) => p.UID), numPdbViolations: v?.NumPDBViolations ?? 0 });
  } else {
    for (const [node, v] of Object.entries(args.NodeNameToVictims ?? {})) victims.set(node, { uids: (v?.Pods ?? []).map((p) => p.metadata.uid), numPdbViolations: v?.NumPDBViolations ?? 0 });
  }
  return { pod, victims };
}

/** ExtenderBindingArgs of the bind verb. */
export function parseBindingArgs(json: unknown): ExtenderBindingArgs {
  const parsed = bindingArgsSchema.safeParse(foldKeys(json, ['PodName', 'PodNamespace', 'PodUID', 'Node']));
  if (!parsed.success) throw issues(parsed.error, 'ExtenderBindingArgs');
  const a = parsed.data;
  return { podName: a.PodName, podNamespace: a.PodNamespace, podUid: a.PodUID, node: a.Node };
}

/**
 * Maps scores of any range to 0..MaxExtenderPriority, relative to the best
 * node: the best gets 10, a node with half its score 5. kube-scheduler
 * multiplies them by the extender's weight and by 10 (MaxNodeScore /
 * MaxExtenderPriority) and adds them to its own plugins' sum.
 */
export function toExtenderScores(scores: readonly { readonly nodeName: string; readonly total: number }[]): Map<string, number> {
  const top = Math.max(0, ...scores.map((s) => s.total));
  return new Map(scores.map((s) => [s.nodeName, top > 0 ? Math.round((Math.max(0, s.total) * MAX_EXTENDER_PRIORITY) / top) : 0]));
}
