/**
 * Resource lists at the edge: requests and overhead as exact amounts (summed
 * before rounding, as upstream sums Quantities), allocatable and capacity as
 * Resources rounded up to their unit.
 */
import type { Resources } from '@schedmesh/proto/v1/types';
import { FieldIssue, optObject } from '../fields.js';
import { parseAmount, QuantityError } from '../quantity.js';
import type { Amount } from '../quantity.js';
import { isMilliResource, resourceNameProblem, setResource, zeroResources } from '../resources.js';
import type { ResourceAmounts } from '../resources.js';

/** An empty resource list. */
export const NO_AMOUNTS: ResourceAmounts = new Map();

function quantityText(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  // The API also takes a JSON number as a quantity.
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new FieldIssue(field, 'must be a quantity string');
}

function checkResourceName(name: string, field: string): void {
  const problem = resourceNameProblem(name);
  if (problem !== undefined) throw new FieldIssue(field, `invalid resource name ${JSON.stringify(name)}: ${problem}`);
}

function amountOf(name: string, v: unknown, field: string): Amount {
  const text = quantityText(v, `${field}[${name}]`);
  try {
    return parseAmount(text, isMilliResource(name));
  } catch (err) {
    if (err instanceof QuantityError) throw new FieldIssue(`${field}[${name}]`, err.message, { cause: err });
    throw err;
  }
}

/** A resource list (requests, overhead) as exact amounts; quantities must be valid and non-negative. */
export function resourceAmounts(v: unknown, field: string): ResourceAmounts {
  const o = optObject(v, field);
  if (o === undefined) return NO_AMOUNTS;
  const out = new Map<string, Amount>();
  for (const name in o) {
    if (o[name] === undefined) continue;
    checkResourceName(name, field);
    out.set(name, amountOf(name, o[name], field));
  }
  return out;
}

/** A resource list (allocatable, capacity) as Resources, each amount rounded up to its unit. */
export function resourcesOf(v: unknown, field: string): Resources {
  const out = zeroResources();
  const o = optObject(v, field);
  if (o === undefined) return out;
  for (const name in o) {
    if (o[name] === undefined) continue;
    checkResourceName(name, field);
    const amount = amountOf(name, o[name], field);
    const whole = amount.frac > 0 ? amount.units + 1 : amount.units;
    if (whole > Number.MAX_SAFE_INTEGER) throw new FieldIssue(`${field}[${name}]`, 'exceeds 2^53-1 when rounded up');
    setResource(out, name, whole);
  }
  return out;
}
