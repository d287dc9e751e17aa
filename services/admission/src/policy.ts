/**
 * The AdmissionPolicy spec (schedmesh.io/v1alpha1): its zod schema, and its
 * compilation into the form the admitter evaluates.
 *
 * The spec arrives as the JSON the API server served (AdmissionPolicy.spec_json).
 * It is validated here, by its one owner, with strict objects: an unknown
 * field, an empty selector where one is required or an absurd path refuses the
 * whole policy, naming the field, and nothing of it is applied. The CRD's
 * OpenAPI schema (deploy/base/crds/admissionpolicy.yaml) mirrors this one so
 * the API server refuses most mistakes at write time already.
 */
import { compileLabelSelector, isDns1123Label, labelKeyProblem, labelValueProblem, objectKey, requirementProblem, selectorOperatorFromString } from '@schedmesh/model';
import type { CompiledLabelSelector } from '@schedmesh/model';
import type { AdmissionPolicy, LabelSelector, SelectorRequirement } from '@schedmesh/proto/v1/types';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import { z } from 'zod';
import { SPECIAL_HOST_PATH_TYPES, normalizeHostPath } from './host-path.js';
import type { HostPathRule, HostPathTier } from './host-path.js';

// A gateway plugin name: what the gateway's plugin configuration accepts as a name.
const PLUGIN_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const MAX_LIST = 1_000;

const namespaceName = z.string().refine(isDns1123Label, 'must be a namespace name (a DNS-1123 label: at most 63 lowercase letters, digits and "-")');

const poolName = z.string().superRefine((value, ctx) => {
  const problem = value === '' ? 'must not be empty' : labelValueProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `node pool name ${problem}` });
});

const extendedResourceName = z.string().superRefine((value, ctx) => {
  const problem = labelKeyProblem(value);
  if (problem !== undefined || !value.includes('/') || value.includes('kubernetes.io/')) {
    ctx.addIssue({
      code: 'custom',
      message: `must be an extended resource name such as "nvidia.com/gpu" (a domain-prefixed name outside kubernetes.io)${problem ? `: ${problem}` : ''}`,
    });
  }
});

/** metav1.LabelSelector as JSON; must select something specific (an empty selector would select every object). */
const labelSelectorJson = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z
          .object({
            key: z.string(),
            operator: z.string(),
            values: z.array(z.string()).max(MAX_LIST).optional(),
          })
          .strict(),
      )
      .max(MAX_LIST)
      .optional(),
  })
  .strict()
  .superRefine((selector, ctx) => {
    const labels = Object.entries(selector.matchLabels ?? {});
    const expressions = selector.matchExpressions ?? [];
    if (labels.length === 0 && expressions.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must not be empty: an empty selector selects everything; give matchLabels or matchExpressions' });
      return;
    }
    for (const [key, value] of labels) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['matchLabels', key] });
    }
    expressions.forEach((expr, i) => {
      const operator = selectorOperatorFromString(expr.operator, 'label');
      if (operator === undefined) {
        ctx.addIssue({ code: 'custom', message: `unsupported operator ${JSON.stringify(expr.operator)}: use In, NotIn, Exists or DoesNotExist`, path: ['matchExpressions', i, 'operator'] });
        return;
      }
      const problem = requirementProblem({ key: expr.key, operator, values: expr.values ?? [] }, 'label');
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.reason, path: ['matchExpressions', i, problem.field] });
    });
  });

/** An allowlist path: absolute, no "..", no control characters, and not "/" itself. */
const allowedPath = z.string().superRefine((value, ctx) => {
  const parsed = normalizeHostPath(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value.slice(0, 200))} ${parsed.reason}` });
  else if (parsed.value.components.length === 0) ctx.addIssue({ code: 'custom', message: '"/" would allow the whole host file system; name a directory' });
});

const hostPathEntry = z
  .object({
    /** The allowed path prefix (component-wise: "/data" allows "/data/x", not "/database"). */
    path: allowedPath,
    /** Mounts under this path must be read-only. */
    readOnly: z.boolean().default(false),
    /** The special hostPath types allowed under this path (none by default). */
    allowTypes: z
      .array(z.enum(SPECIAL_HOST_PATH_TYPES))
      .max(SPECIAL_HOST_PATH_TYPES.length)
      .refine((types) => new Set(types).size === types.length, 'must not repeat a type')
      .default([]),
  })
  .strict();

const hostPathList = z.array(hostPathEntry).min(1, 'must list at least one path').max(MAX_LIST);

/** The AdmissionPolicy spec. Field documentation lives in the CRD schema and the service README. */
export const admissionPolicySpecSchema = z
  .object({
    targetNamespaces: z
      .object({
        names: z.array(namespaceName).max(MAX_LIST).optional(),
        selectors: z.array(labelSelectorJson).max(MAX_LIST).optional(),
      })
      .strict()
      .refine((t) => (t.names?.length ?? 0) + (t.selectors?.length ?? 0) > 0, {
        message: 'must give at least one name or selector (omit targetNamespaces to target every namespace)',
      })
      .optional(),
    rejectIfNotMatch: z.boolean().default(false),
    failurePolicy: z.enum(['Fail', 'Ignore']).default('Fail'),
    webhookRef: z.string().max(253).regex(PLUGIN_NAME, 'must be the name of a gateway plugin').optional(),
    hibernation: z
      .object({
        apps: z.array(z.string().min(1).superRefine(appNameCheck)).max(MAX_LIST).optional(),
        allApps: z.boolean().default(false),
        wakeHint: z.string().min(1).max(1024).optional(),
      })
      .strict()
      .refine((h) => h.allApps || (h.apps?.length ?? 0) > 0, { message: 'must set allApps or list apps' })
      .optional(),
    hostPath: z
      .object({
        platform: hostPathList.optional(),
        namespaces: z
          .array(z.object({ namespace: namespaceName, paths: hostPathList }).strict())
          .max(MAX_LIST)
          .optional(),
        workloads: z
          .array(
            z
              .object({
                name: z.string().min(1).max(253),
                namespace: namespaceName.optional(),
                selector: labelSelectorJson,
                paths: hostPathList,
              })
              .strict(),
          )
          .max(MAX_LIST)
          .optional(),
      })
      .strict()
      .optional(),
    tenantRBAC: z
      .object({
        nodePools: z.array(poolName).max(MAX_LIST).optional(),
        openPools: z.array(poolName).max(MAX_LIST).optional(),
        extendedResources: z.array(extendedResourceName).max(MAX_LIST).optional(),
      })
      .strict()
      .refine((r) => (r.nodePools?.length ?? 0) + (r.extendedResources?.length ?? 0) > 0, {
        message: 'must list nodePools or extendedResources to govern',
      })
      .optional(),
  })
  .strict();

function appNameCheck(value: string, ctx: z.RefinementCtx): void {
  const problem = labelValueProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `app name (a label value) ${problem}` });
}

/** The validated spec, defaults applied. */
export type AdmissionPolicySpec = z.output<typeof admissionPolicySpecSchema>;

/** One allowlist entry as written in the spec. */
type HostPathEntry = z.output<typeof hostPathEntry>;

/** A label selector as written in the spec. */
export type LabelSelectorJson = z.output<typeof labelSelectorJson>;

/** What the failure of a dependency (SubjectAccessReview, webhook) does: Fail denies, Ignore allows. */
export type FailurePolicy = AdmissionPolicySpec['failurePolicy'];

/** Namespace facts the policies match on. */
export interface NamespaceView {
  readonly name: string;
  readonly labels: { readonly [key: string]: string };
  readonly annotations: { readonly [key: string]: string };
}

/** A workload tier of the host-path allowlist, compiled. */
export interface WorkloadHostPaths {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly selector: CompiledLabelSelector;
  readonly rules: readonly HostPathRule[];
}

/** An AdmissionPolicy ready to evaluate. Immutable: a new version replaces it whole. */
export interface CompiledPolicy {
  /** "name", or "namespace/name" for a namespaced object. */
  readonly key: string;
  readonly generation: number;
  readonly resourceVersion: string;
  readonly spec: AdmissionPolicySpec;
  /** Whether the policy targets a namespace (no targetNamespaces = every namespace). */
  targets(namespace: NamespaceView): boolean;
  /** A sentence describing the targeted namespaces, for messages. */
  readonly targetDescription: string;
  readonly rejectIfNotMatch: boolean;
  readonly failurePolicy: FailurePolicy;
  readonly webhookRef: string | undefined;
  readonly hibernation: { readonly apps: ReadonlySet<string>; readonly allApps: boolean; readonly wakeHint: string | undefined } | undefined;
  readonly hostPath:
    | {
        readonly platform: readonly HostPathRule[];
        readonly byNamespace: ReadonlyMap<string, readonly HostPathRule[]>;
        readonly workloads: readonly WorkloadHostPaths[];
      }
    | undefined;
  readonly tenantRBAC:
    | { readonly nodePools: readonly string[]; readonly openPools: readonly string[]; readonly extendedResources: readonly string[] }
    | undefined;
}

/** One reason a policy was refused: the field (a path under "spec") and why. */
export interface PolicyIssue {
  readonly field: string;
  readonly reason: string;
}

/** The outcome of {@link compilePolicy}: a policy, or the issues that refuse it (the first names the metric's field). */
export type PolicyResult = { readonly ok: true; readonly policy: CompiledPolicy } | { readonly ok: false; readonly issues: readonly [PolicyIssue, ...PolicyIssue[]] };

/** The stream key of a policy object: "name" or "namespace/name". */
export function policyKey(policy: Pick<AdmissionPolicy, 'name' | 'namespace'>): string {
  return objectKey(policy.namespace, policy.name);
}

/** Validates spec JSON against the schema; returns the spec or every issue. */
export function parsePolicySpec(specJson: string): { ok: true; spec: AdmissionPolicySpec } | { ok: false; issues: readonly [PolicyIssue, ...PolicyIssue[]] } {
  let raw: unknown;
  try {
    raw = JSON.parse(specJson === '' ? '{}' : specJson);
  } catch (err) {
    return { ok: false, issues: [{ field: 'spec', reason: `is not valid JSON (${(err as Error).message})` }] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, issues: [{ field: 'spec', reason: 'must be an object' }] };
  }
  const result = admissionPolicySpecSchema.safeParse(raw);
  if (result.success) return { ok: true, spec: result.data };
  const issues: PolicyIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ field: fieldPath([...issue.path, key]), reason: 'unknown field' });
    } else {
      issues.push({ field: fieldPath(issue.path), reason: issue.message });
    }
  }
  const [first, ...rest] = issues;
  return { ok: false, issues: first ? [first, ...rest] : [{ field: 'spec', reason: 'is invalid' }] };
}

/** "spec.hostPath.platform[0].path"; keys that are not identifiers in brackets ("matchLabels[app.kubernetes.io/name]"). */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = 'spec';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += `.${part}`;
    else out += `[${String(part)}]`;
  }
  return out;
}

/** Validates and compiles an AdmissionPolicy object; a refused policy is a value, with the issues. */
export function compilePolicy(object: AdmissionPolicy): PolicyResult {
  const key = policyKey(object);
  if (object.name === '') return { ok: false, issues: [{ field: 'metadata.name', reason: 'must not be empty' }] };
  const parsed = parsePolicySpec(object.specJson);
  if (!parsed.ok) return parsed;
  const spec = parsed.spec;

  const names = new Set(spec.targetNamespaces?.names ?? []);
  const selectors = (spec.targetNamespaces?.selectors ?? []).map(compileSelectorJson);
  const targetsAll = spec.targetNamespaces === undefined;

  const rules = (entries: readonly HostPathEntry[] | undefined, tier: HostPathTier): HostPathRule[] =>
    (entries ?? []).map((e) => {
      const parsedPath = normalizeHostPath(e.path);
      // The schema refused every path that does not normalize.
      if (!parsedPath.ok) throw new TypeError(`unreachable: ${e.path} passed validation`);
      return { path: parsedPath.value, readOnly: e.readOnly, allowTypes: e.allowTypes, tier, policy: key };
    });

  const hostPath = spec.hostPath
    ? {
        platform: rules(spec.hostPath.platform, 'platform'),
        byNamespace: groupByNamespace((spec.hostPath.namespaces ?? []).map((n) => [n.namespace, rules(n.paths, 'namespace')] as const)),
        workloads: (spec.hostPath.workloads ?? []).map((w) => ({
          name: w.name,
          namespace: w.namespace,
          selector: compileLabelSelector(toLabelSelector(w.selector)),
          rules: rules(w.paths, 'workload'),
        })),
      }
    : undefined;

  const policy: CompiledPolicy = {
    key,
    generation: object.generation,
    resourceVersion: object.resourceVersion,
    spec,
    targets: (ns) => targetsAll || names.has(ns.name) || selectors.some((s) => s.matches(ns.labels)),
    targetDescription: targetsAll ? 'every namespace' : describeTargets(spec),
    rejectIfNotMatch: spec.rejectIfNotMatch,
    failurePolicy: spec.failurePolicy,
    webhookRef: spec.webhookRef,
    hibernation: spec.hibernation
      ? { apps: new Set(spec.hibernation.apps ?? []), allApps: spec.hibernation.allApps, wakeHint: spec.hibernation.wakeHint }
      : undefined,
    hostPath,
    tenantRBAC: spec.tenantRBAC
      ? {
          nodePools: unique(spec.tenantRBAC.nodePools ?? []),
          openPools: unique(spec.tenantRBAC.openPools ?? []),
          extendedResources: unique(spec.tenantRBAC.extendedResources ?? []),
        }
      : undefined,
  };
  return { ok: true, policy };
}

function groupByNamespace(entries: readonly (readonly [string, HostPathRule[]])[]): Map<string, HostPathRule[]> {
  const out = new Map<string, HostPathRule[]>();
  for (const [ns, list] of entries) out.set(ns, [...(out.get(ns) ?? []), ...list]);
  return out;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Converts a validated JSON selector to the proto form of libs/model. */
export function toLabelSelector(json: LabelSelectorJson): LabelSelector {
  const matchExpressions: SelectorRequirement[] = (json.matchExpressions ?? []).map((e) => ({
    key: e.key,
    operator: selectorOperatorFromString(e.operator, 'label') ?? SelectorOperator.SELECTOR_OPERATOR_UNSPECIFIED,
    values: e.values ?? [],
  }));
  return { matchLabels: { ...(json.matchLabels ?? {}) }, matchExpressions };
}

function compileSelectorJson(json: LabelSelectorJson): CompiledLabelSelector {
  return compileLabelSelector(toLabelSelector(json));
}

function describeTargets(spec: AdmissionPolicySpec): string {
  const parts: string[] = [];
  const names = spec.targetNamespaces?.names ?? [];
  if (names.length > 0) parts.push(`namespaces ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`);
  for (const s of spec.targetNamespaces?.selectors ?? []) parts.push(`namespaces labelled ${describeSelector(s)}`);
  return parts.join('; or ');
}

function describeSelector(s: LabelSelectorJson): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(', ')})` : ''}`);
  return parts.join(', ');
}
