// The documented deliberate differences (deliberate-differences.yaml) and the
// matching of disagreements against them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';
import { ASPECTS, CASE_TRAITS } from './compare.js';
import type { Aspect, CaseTrait, Disagreement } from './compare.js';

/** One difference kept on purpose. */
export interface DeliberateDifference {
  readonly id: string;
  /** The aspects it explains. */
  readonly aspects: readonly Aspect[];
  readonly plugin?: string;
  /** A regular expression the disagreement's detail must match. */
  readonly detail?: string;
  /** Only in cases with this trait. */
  readonly when?: CaseTrait;
  readonly why: string;
}

export const DIFFERENCES_FILE = join(__dirname, 'deliberate-differences.yaml');

/** Reads and checks the list; a malformed entry fails with its index and field. */
export function loadDeliberateDifferences(path = DIFFERENCES_FILE): DeliberateDifference[] {
  const raw: unknown = parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(raw)) throw new Error(`${path}: expected a list`);
  return raw.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const bad = (field: string, what: string) => new Error(`${path}[${i}].${field}: ${what}`);
    if (typeof e.id !== 'string' || e.id === '') throw bad('id', 'expected a non-empty string');
    if (!Array.isArray(e.aspects) || e.aspects.length === 0 || !e.aspects.every((a) => ASPECTS.includes(a as Aspect))) throw bad('aspects', `expected a list of ${ASPECTS.join(', ')}`);
    if (typeof e.why !== 'string' || e.why.trim() === '') throw bad('why', 'every deliberate difference says why');
    if (e.plugin !== undefined && typeof e.plugin !== 'string') throw bad('plugin', 'expected a string');
    if (e.when !== undefined && !CASE_TRAITS.includes(e.when as CaseTrait)) throw bad('when', `expected one of ${CASE_TRAITS.join(', ')}`);
    if (e.detail !== undefined) {
      if (typeof e.detail !== 'string') throw bad('detail', 'expected a regular expression');
      new RegExp(e.detail); // a bad pattern fails here, at load
    }
    return e as unknown as DeliberateDifference;
  });
}

/** The entry that documents `d`, if any. */
export function documentedBy(d: Disagreement, list: readonly DeliberateDifference[]): DeliberateDifference | undefined {
  return list.find(
    (e) =>
      e.aspects.includes(d.aspect) &&
      (e.plugin === undefined || e.plugin === d.plugin) &&
      (e.when === undefined || d.traits.includes(e.when)) &&
      (e.detail === undefined || new RegExp(e.detail).test(d.detail)),
  );
}
