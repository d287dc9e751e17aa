// A fidelity case: one cluster state and one pending pod, as plain Kubernetes
// data. It is what the generator makes, what the runner creates on the API
// server, and what a disagreement is written out as (YAML) to be replayed.
import { readFileSync, writeFileSync } from 'node:fs';

import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { FakeNodeSpec } from '@schedmesh/testkit';
import { parse, stringify } from 'yaml';

/** The namespace every case's pods live in. */
export const CASE_NAMESPACE = 'fidelity';
/** The scheduling gate that holds a case's pending pod until both schedulers have seen the cluster. */
export const CASE_GATE = 'schedmesh.io/fidelity';

/** One scheduling case. Object names start with `name`, so cases never share an object. */
export interface FidelityCase {
  /** "s<seed>-c<index>". */
  readonly name: string;
  readonly nodes: readonly FakeNodeSpec[];
  /** Pods bound already (spec.nodeName set). */
  readonly existing: readonly V1Pod[];
  /** The pod both schedulers place (created with CASE_GATE). */
  readonly pending: V1Pod;
  /**
   * Pods of another scheduler (FOREIGN_SCHEDULER), unbound, with
   * status.nominatedNodeName set: room that scheduler's preemption holds.
   */
  readonly nominated?: readonly V1Pod[];
  /** PodDisruptionBudgets (preemption cases), with the status the runner writes. */
  readonly budgets?: readonly V1PodDisruptionBudget[];
}

/** The schedulerName of a case's nominated pods: neither kube-scheduler's profile nor schedmesh's. */
export const FOREIGN_SCHEDULER = 'other-scheduler';

/** Thrown when a case file is not a case. */
export class CaseFileError extends Error {
  override readonly name = 'CaseFileError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** Writes a case as YAML (the replay format). */
export function writeCaseFile(path: string, fidelityCase: FidelityCase): void {
  writeFileSync(path, stringify(fidelityCase));
}

/** Reads a case written by writeCaseFile (or by hand). */
export function readCaseFile(path: string): FidelityCase {
  const raw: unknown = parse(readFileSync(path, 'utf8'));
  if (typeof raw !== 'object' || raw === null) throw new CaseFileError(path, 'not a YAML mapping');
  const c = raw as Partial<FidelityCase>;
  if (typeof c.name !== 'string' || !/^[a-z0-9-]+$/.test(c.name)) throw new CaseFileError(path, 'name: expected lowercase letters, digits and dashes');
  if (!Array.isArray(c.nodes) || c.nodes.length === 0) throw new CaseFileError(path, 'nodes: expected a non-empty list');
  if (!Array.isArray(c.existing)) throw new CaseFileError(path, 'existing: expected a list');
  if (typeof c.pending !== 'object' || c.pending === null) throw new CaseFileError(path, 'pending: expected a pod');
  if (c.nominated !== undefined && !Array.isArray(c.nominated)) throw new CaseFileError(path, 'nominated: expected a list');
  if (c.budgets !== undefined && !Array.isArray(c.budgets)) throw new CaseFileError(path, 'budgets: expected a list');
  return { name: c.name, nodes: c.nodes, existing: c.existing, pending: c.pending, ...(c.nominated ? { nominated: c.nominated } : {}), ...(c.budgets ? { budgets: c.budgets } : {}) };
}
