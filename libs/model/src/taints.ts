/**
 * Taints and tolerations, with the semantics of upstream
 * k8s.io/api/core/v1 Toleration.ToleratesTaint and
 * k8s.io/component-helpers/scheduling/corev1 FindMatchingUntoleratedTaint.
 */
import { TaintEffect, TolerationOperator } from '@schedmesh/proto/v1/types';
import type { Taint, Toleration } from '@schedmesh/proto/v1/types';
import type { FieldProblem } from './problem.js';
import { labelKeyProblem, labelValueProblem } from './selectors.js';

const EFFECTS_BY_NAME: ReadonlyMap<string, TaintEffect> = new Map([
  ['NoSchedule', TaintEffect.TAINT_EFFECT_NO_SCHEDULE],
  ['PreferNoSchedule', TaintEffect.TAINT_EFFECT_PREFER_NO_SCHEDULE],
  ['NoExecute', TaintEffect.TAINT_EFFECT_NO_EXECUTE],
]);
const EFFECT_NAMES: ReadonlyMap<TaintEffect, string> = new Map([...EFFECTS_BY_NAME].map(([name, effect]) => [effect, name]));

const OPERATORS_BY_NAME: ReadonlyMap<string, TolerationOperator> = new Map([
  ['', TolerationOperator.TOLERATION_OPERATOR_UNSPECIFIED],
  ['Equal', TolerationOperator.TOLERATION_OPERATOR_EQUAL],
  ['Exists', TolerationOperator.TOLERATION_OPERATOR_EXISTS],
]);

/** The reason for an effect string that is none of the known ones. */
export const SUPPORTED_EFFECTS_TEXT = '"NoExecute", "NoSchedule", "PreferNoSchedule"';

/** The effect named s ("NoSchedule", "PreferNoSchedule", "NoExecute"); undefined for anything else, "" included. */
export function taintEffectFromString(s: string): TaintEffect | undefined {
  return EFFECTS_BY_NAME.get(s);
}

/** The Kubernetes name of an effect ("NoSchedule"), "" for unspecified. */
export function taintEffectName(effect: TaintEffect): string {
  return EFFECT_NAMES.get(effect) ?? '';
}

/** The toleration operator named s ("" → unspecified, "Equal", "Exists"); undefined for anything else. */
export function tolerationOperatorFromString(s: string): TolerationOperator | undefined {
  return OPERATORS_BY_NAME.get(s);
}

/**
 * Whether a toleration tolerates a taint: the effect matches (an unspecified
 * effect matches all), the key matches (an empty key matches all, meant for
 * EXISTS), and the value is equal (EQUAL, the default) or ignored (EXISTS).
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== TaintEffect.TAINT_EFFECT_UNSPECIFIED && toleration.effect !== taint.effect) return false;
  if (toleration.key !== '' && toleration.key !== taint.key) return false;
  switch (toleration.operator) {
    case TolerationOperator.TOLERATION_OPERATOR_UNSPECIFIED:
    case TolerationOperator.TOLERATION_OPERATOR_EQUAL:
      return toleration.value === taint.value;
    case TolerationOperator.TOLERATION_OPERATOR_EXISTS:
      return true;
    default:
      return false;
  }
}

/** Whether any of the tolerations tolerates the taint. */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (let i = 0; i < tolerations.length; i++) {
    if (toleratesTaint(tolerations[i] as Toleration, taint)) return true;
  }
  return false;
}

/** Which taints a check considers: the effects to look at, or a predicate. Absent: all taints. */
export type TaintFilter = readonly TaintEffect[] | ((taint: Taint) => boolean);

/** The effects the TaintToleration filter considers: NoSchedule and NoExecute. */
export const FILTER_EFFECTS: readonly TaintEffect[] = Object.freeze([TaintEffect.TAINT_EFFECT_NO_SCHEDULE, TaintEffect.TAINT_EFFECT_NO_EXECUTE]);

function included(filter: TaintFilter | undefined, taint: Taint): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(taint);
  return filter.includes(taint.effect);
}

/**
 * The first taint the filter includes that no toleration tolerates, or
 * undefined (upstream FindMatchingUntoleratedTaint).
 */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], filter?: TaintFilter): Taint | undefined {
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i] as Taint;
    if (included(filter, taint) && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/**
 * How many taints of the effect no toleration tolerates (TaintToleration
 * scoring counts the PreferNoSchedule ones).
 */
export function countUntoleratedTaints(taints: readonly Taint[], tolerations: readonly Toleration[], effect: TaintEffect): number {
  let n = 0;
  for (const taint of taints) {
    if (taint.effect === effect && !tolerationsTolerateTaint(tolerations, taint)) n++;
  }
  return n;
}

/** What is wrong with one field of a taint or toleration. */
export interface TaintProblem extends FieldProblem {
  /** The field, relative to the taint or toleration. */
  readonly field: 'key' | 'value' | 'effect' | 'operator';
}

/** Why a taint is invalid (upstream validateNodeTaints), or undefined. */
export function taintProblem(taint: Taint): TaintProblem | undefined {
  const keyProblem = labelKeyProblem(taint.key);
  if (keyProblem !== undefined) return { field: 'key', reason: keyProblem };
  const valueProblem = labelValueProblem(taint.value);
  if (valueProblem !== undefined) return { field: 'value', reason: valueProblem };
  if (!EFFECT_NAMES.has(taint.effect)) return { field: 'effect', reason: `must be one of ${SUPPORTED_EFFECTS_TEXT}` };
  return undefined;
}

/** Why a toleration is invalid (upstream validateTolerations), or undefined. */
export function tolerationProblem(toleration: Toleration): TaintProblem | undefined {
  if (toleration.key !== '') {
    const keyProblem = labelKeyProblem(toleration.key);
    if (keyProblem !== undefined) return { field: 'key', reason: keyProblem };
  } else if (toleration.operator !== TolerationOperator.TOLERATION_OPERATOR_EXISTS) {
    return { field: 'operator', reason: 'must be "Exists" when `key` is empty, which means "match all values and all keys"' };
  }
  if (toleration.tolerationSeconds !== undefined && toleration.effect !== TaintEffect.TAINT_EFFECT_NO_EXECUTE) {
    return { field: 'effect', reason: 'must be "NoExecute" when `tolerationSeconds` is set' };
  }
  switch (toleration.operator) {
    case TolerationOperator.TOLERATION_OPERATOR_UNSPECIFIED:
    case TolerationOperator.TOLERATION_OPERATOR_EQUAL: {
      const valueProblem = labelValueProblem(toleration.value);
      if (valueProblem !== undefined) return { field: 'value', reason: valueProblem };
      break;
    }
    case TolerationOperator.TOLERATION_OPERATOR_EXISTS:
      if (toleration.value !== '') return { field: 'value', reason: 'must be empty when `operator` is "Exists"' };
      break;
    default:
      return { field: 'operator', reason: 'must be "Equal" or "Exists"' };
  }
  if (toleration.effect !== TaintEffect.TAINT_EFFECT_UNSPECIFIED && !EFFECT_NAMES.has(toleration.effect)) {
    return { field: 'effect', reason: `must be one of ${SUPPORTED_EFFECTS_TEXT}` };
  }
  return undefined;
}
