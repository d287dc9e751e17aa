import type { PreemptionCandidate } from '@schedmesh/framework';
import { nodeNameProblem, validatePod } from '@schedmesh/model';
import { fitErrorMessage, NO_NODES_AVAILABLE } from '@schedmesh/scheduling';
import type { NodePluginScores, NodeRejection } from '@schedmesh/scheduling';
import { FindPreemptionCandidatesResponse } from '@schedmesh/proto/v1/filterscore';
import type { CycleOptions, EvaluateResponse, FilterResponse, FilterScoreServiceImplementation, ScoreResponse } from '@schedmesh/proto/v1/filterscore';
import type { NodeRejection as NodeRejectionMessage, NodeScore, Pod } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError } from '@schedmesh/runtime';
import type { CallContext } from 'nice-grpc';
import type { CallOptions, FilterScoreEngine } from './engine.js';

/** Options of {@link filterScoreServer}. */
export interface FilterScoreServerOptions {
  /** Largest node_names list accepted (default 100,000). */
  readonly maxNodeNames?: number;
}

function requirePod(pod: Pod | undefined): Pod {
  if (pod === undefined) throw new InvalidArgumentError('pod', 'is required');
  const problems = validatePod(pod, 'pod');
  const first = problems[0];
  if (first !== undefined) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1, 4).map((p) => p.field).join(', ')})` : '';
    throw new InvalidArgumentError(first.field, `${first.reason}${more}`);
  }
  return pod;
}

function callOptions(options: CycleOptions | undefined, context: CallContext, maxNodeNames: number): CallOptions {
  const nodeNames = options?.nodeNames ?? [];
  if (nodeNames.length > maxNodeNames) throw new InvalidArgumentError('options.node_names', `at most ${maxNodeNames} names`);
  nodeNames.forEach((n, i) => {
    const problem = nodeNameProblem(n);
    if (problem !== undefined) throw new InvalidArgumentError(`options.node_names[${i}]`, problem);
  });
  return { profile: options?.profile ?? '', minGeneration: options?.minGeneration ?? 0, nodeNames, signal: context.signal };
}

function toNodeScore(s: NodePluginScores): NodeScore {
  return { nodeName: s.name, total: s.total, plugins: s.scores.map((p) => ({ plugin: p.plugin, score: p.score, weight: p.weight })) };
}

function toNodeTotal(s: NodePluginScores): NodeScore {
  return { nodeName: s.name, total: s.total, plugins: [] };
}

function toRejection(r: NodeRejection): NodeRejectionMessage {
  return { nodeName: r.nodeName, status: r.status.toProto() };
}

function toCandidate(c: PreemptionCandidate) {
  // The proto lists victims lowest priority first; the framework, most important first.
  const victims = [...c.victims].reverse().map((v) => ({ pod: { uid: v.uid, namespace: v.namespace, name: v.name }, priority: v.priority }));
  const lowerPriorityNominated = (c.lowerPriorityNominated ?? []).map((p) => ({ uid: p.uid, namespace: p.namespace, name: p.name }));
  return { nodeName: c.nodeName, victims, numPdbViolations: c.numPdbViolations, lowerPriorityNominated };
}

/** Maps FilterScoreService RPCs onto the engine. */
export function filterScoreServer(engine: FilterScoreEngine, options: FilterScoreServerOptions = {}): FilterScoreServiceImplementation {
  const maxNodeNames = options.maxNodeNames ?? 100_000;
  // Every RPC asks about one pod with the same cycle options, validated in this order.
  const podCall = (request: { pod?: Pod | undefined; options?: CycleOptions | undefined }, context: CallContext): { pod: Pod; opts: CallOptions } => ({
    pod: requirePod(request.pod),
    opts: callOptions(request.options, context, maxNodeNames),
  });
  return {
    async evaluate(request, context) {
      const { pod, opts } = podCall(request, context);
      const { generation, result } = await engine.evaluate(pod, opts, request.maxRanked, { exhaustive: request.exhaustive, skipScore: request.skipScore });
      // Typed literals, not fromPartial, for the replies that list nodes: a deep copy of thousands of freshly built entries buys nothing.
      const reply: EvaluateResponse = {
        generation,
        ranked: result.ranked.map(request.totalsOnly ? toNodeTotal : toNodeScore),
        rejected: result.rejected.map(toRejection),
        nodesEvaluated: result.nodesEvaluated,
        summary: result.summary,
        preFilterStatus: result.preFilterStatus?.toProto(),
      };
      return reply;
    },

    async filter(request, context) {
      const { pod, opts } = podCall(request, context);
      const { generation, result } = await engine.filter(pod, opts, request.exhaustive);
      const reply: FilterResponse = {
        generation,
        feasible: result.feasible.map((n) => n.name),
        rejected: result.rejected.map(toRejection),
        nodesEvaluated: result.nodesEvaluated,
        // The explanation only when nothing fits, as Evaluate gives it (without the preemption part).
        summary: result.feasible.length > 0 ? '' : result.numAllNodes === 0 ? NO_NODES_AVAILABLE : fitErrorMessage(result.numAllNodes, result.diagnosis),
        preFilterStatus: result.preFilterStatus?.toProto(),
      };
      return reply;
    },

    async score(request, context) {
      const { pod, opts } = podCall(request, context);
      if (opts.nodeNames.length === 0) throw new InvalidArgumentError('options.node_names', 'must name the nodes to score');
      const { generation, result } = await engine.score(pod, opts);
      const reply: ScoreResponse = { generation, scores: result.map(toNodeScore) };
      return reply;
    },

    async findPreemptionCandidates(request, context) {
      const { pod, opts } = podCall(request, context);
      const { generation, result } = await engine.findPreemptionCandidates(pod, opts, request.maxCandidates);
      return FindPreemptionCandidatesResponse.fromPartial({ generation, candidates: result.candidates.map(toCandidate), summary: result.summary, clearNomination: result.clearNomination });
    },
  };
}
