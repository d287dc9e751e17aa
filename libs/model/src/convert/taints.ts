/** Taints (of nodes) and tolerations (of pods) at the edge. */
import { TaintEffect, TolerationOperator } from '@schedmesh/proto/v1/types';
import type { Taint, Toleration } from '@schedmesh/proto/v1/types';
import { FieldIssue, optInt, optString, reqObject, reqString } from '../fields.js';
import { SUPPORTED_EFFECTS_TEXT, taintEffectFromString, taintProblem, tolerationOperatorFromString, tolerationProblem } from '../taints.js';
import { unsupported } from './values.js';

const TOLERATION_OPERATORS_TEXT = '"Equal", "Exists"';

/** A pod's toleration, the operator defaulted to Equal. */
export function tolerationOf(v: unknown): Toleration {
  const t = reqObject(v, '');
  const operatorText = optString(t.operator, 'operator');
  const parsed = tolerationOperatorFromString(operatorText);
  if (parsed === undefined) throw new FieldIssue('operator', unsupported(operatorText, TOLERATION_OPERATORS_TEXT));
  const effectText = optString(t.effect, 'effect');
  const effect = effectText === '' ? TaintEffect.TAINT_EFFECT_UNSPECIFIED : taintEffectFromString(effectText);
  if (effect === undefined) throw new FieldIssue('effect', unsupported(effectText, SUPPORTED_EFFECTS_TEXT));
  const toleration: Toleration = {
    key: optString(t.key, 'key'),
    operator: parsed === TolerationOperator.TOLERATION_OPERATOR_UNSPECIFIED ? TolerationOperator.TOLERATION_OPERATOR_EQUAL : parsed,
    value: optString(t.value, 'value'),
    effect,
    tolerationSeconds: optInt(t.tolerationSeconds, 'tolerationSeconds', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  };
  const problem = tolerationProblem(toleration);
  if (problem !== undefined) throw new FieldIssue(problem.field, problem.reason);
  return toleration;
}

/** A node's taint. */
export function taintOf(v: unknown): Taint {
  const t = reqObject(v, '');
  const effectText = optString(t.effect, 'effect');
  const effect = taintEffectFromString(effectText);
  if (effect === undefined) throw new FieldIssue('effect', effectText === '' ? 'required value' : unsupported(effectText, SUPPORTED_EFFECTS_TEXT));
  const taint: Taint = { key: reqString(t.key, 'key'), value: optString(t.value, 'value'), effect };
  const problem = taintProblem(taint);
  if (problem !== undefined) throw new FieldIssue(problem.field, problem.reason);
  return taint;
}
