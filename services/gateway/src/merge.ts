import { Code } from '@schedmesh/proto/v1/types';
import type { FailureKind } from './failures.js';
import type { PointName } from './points.js';
import type { NodeVerdict, PodPatchValue } from './protocol.js';

/** One plugin's part of an invocation, as the gateway reports it. */
export interface PluginResultView {
  plugin: string;
  /** SUCCESS, a rejection, SKIP (nothing to do, not a tenant, or a failure ignored by policy), WAIT, or ERROR. */
  code: Code;
  reasons: string[];
  /** filter: nodes rejected. */
  rejected: NodeVerdict[];
  /** score: node to 0..100. */
  scores: Record<string, number>;
  /** preBind: the patch. */
  patch?: PodPatchValue;
  cached: boolean;
  durationMs: number;
  /** Set when the call failed (whatever the policy made of it). */
  failure?: { kind: FailureKind; message: string };
  /** The plugin's score weight. */
  weight: number;
}

/** The merged answer of an invocation. */
export interface InvokeResult {
  /** The first code other than SUCCESS and SKIP in plugin order, else SUCCESS. */
  code: Code;
  reasons: string[];
  /** The plugin that decided `code` ("" for SUCCESS). */
  plugin: string;
  results: PluginResultView[];
  /** filter: candidate nodes every plugin accepted, in request order. */
  feasible: string[];
  /** score: node to the weighted sum of the plugins' scores. */
  scores: Record<string, number>;
  /** preBind: the merged patch, later plugins winning on a key both set. */
  patch: PodPatchValue;
}

const neutral = new Set<Code>([Code.CODE_SUCCESS, Code.CODE_SKIP]);

/**
 * Merges per-plugin results (in configuration order) for `point` and the
 * candidate `nodes`. Plugins that were skipped — including failures ignored
 * by failurePolicy Ignore — contribute nothing. When the verdict is ERROR
 * (a failed plugin with failurePolicy Fail) the answer is not usable and
 * feasible, scores and patch stay empty: the caller retries the pod.
 */
export function mergeResults(point: PointName, nodes: readonly string[], results: PluginResultView[]): InvokeResult {
  const decisive = results.find((r) => !neutral.has(r.code));
  const merged: InvokeResult = {
    code: decisive?.code ?? Code.CODE_SUCCESS,
    reasons: decisive?.reasons ?? [],
    plugin: decisive?.plugin ?? '',
    results,
    feasible: [],
    scores: {},
    patch: { labels: {}, annotations: {} },
  };
  if (merged.code === Code.CODE_ERROR) return merged;
  const answered = results.filter((r) => r.code !== Code.CODE_SKIP);

  if (point === 'filter') {
    const rejected = new Set(answered.flatMap((r) => r.rejected.map((v) => v.node)));
    merged.feasible = nodes.filter((n) => !rejected.has(n));
  }
  if (point === 'score') {
    for (const node of nodes) merged.scores[node] = 0;
    for (const r of answered) {
      for (const [node, score] of Object.entries(r.scores)) merged.scores[node] = (merged.scores[node] ?? 0) + score * r.weight;
    }
  }
  if (point === 'preBind') {
    for (const r of answered) {
      Object.assign(merged.patch.labels, r.patch?.labels);
      Object.assign(merged.patch.annotations, r.patch?.annotations);
    }
  }
  return merged;
}
