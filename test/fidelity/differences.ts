// The documented deliberate differences (deliberate-differences.yaml) and the
// matching of disagreements against them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';
import { ASPECTS } from './compare.js';
import type { Aspect, Disagreement } from './compare.js';

/** One difference kept on purpose. */
export interface DeliberateDifference {
  readonly id: string;
  readonly aspect: Aspect;
  readonly plugin?: string;
  /** A regular expression the disagreement's detail must match. */
  readonly detail?: string;
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
    if (!ASPECTS.includes(e.aspect as Aspect)) throw bad('aspect', `expected one of ${ASPECTS.join(', ')}`);
    if (typeof e.why !== 'string' || e.why.trim() === '') throw bad('why', 'every deliberate difference says why');
    if (e.plugin !== undefined && typeof e.plugin !== 'string') throw bad('plugin', 'expected a string');
    if (e.detail !== undefined) {
      if (typeof e.detail !== 'string') throw bad('detail', 'expected a regular expression');
      new RegExp(e.detail); // a bad pattern fails here, at load
    }
    return e as unknown as DeliberateDifference;
  });
}

/** The entry that documents `d`, if any. */
export function documentedBy(d: Disagreement, list: readonly DeliberateDifference[]): DeliberateDifference | undefined {
  return list.find((e) => e.aspect === d.aspect && (e.plugin === undefined || e.plugin === d.plugin) && (e.detail === undefined || new RegExp(e.detail).test(d.detail)));
}
