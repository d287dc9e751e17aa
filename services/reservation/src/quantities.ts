/**
 * Resource amounts as the ledger stores them.
 *
 * The Lua scripts see a pod's demand and a node's capacity as one string,
 * "cpu=500;memory=1073741824;pods=1;nvidia.com/gpu=1": resource names (which
 * never contain ';' or '=') and decimal integers, so the scripts parse them
 * with one pattern and hand the digits to HINCRBY untouched — no float ever
 * rounds an amount. The order is canonical (cpu, memory, ephemeral-storage,
 * pods, then scalars by name), so two demands are equal iff their strings are.
 * Names and amounts follow @schedmesh/model: a scalar is what the model's
 * isScalarResourceName accepts (a qualified name, which never holds ';' or
 * '='), and Resources are built with its setResource.
 */
import {
  formatResourceAmount,
  isScalarResourceName,
  RESOURCE_CPU,
  RESOURCE_EPHEMERAL_STORAGE,
  RESOURCE_MEMORY,
  RESOURCE_PODS,
  setResource,
  zeroResources,
} from '@schedmesh/model';
import type { Resources } from '@schedmesh/proto/v1/types';

/** Resource name → amount in its base unit (milli-CPU, bytes, counts), in canonical order. */
export type Quantities = ReadonlyMap<string, number>;

function scalarEntries(r: Resources): [string, number][] {
  return Object.keys(r.scalar)
    .filter(isScalarResourceName)
    .sort()
    .map((name) => [name, amount(r.scalar[name])]);
}

function amount(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) || v < 0 ? 0 : Math.trunc(v);
}

/**
 * What one pod takes from a node: its non-zero requests and always one pod
 * slot (a lease or a bound pod counts one pod, whatever requests.pods says).
 */
export function podDemand(requests: Resources | undefined): Quantities {
  const r = requests ?? zeroResources();
  const out = new Map<string, number>();
  if (amount(r.milliCpu) > 0) out.set(RESOURCE_CPU, amount(r.milliCpu));
  if (amount(r.memory) > 0) out.set(RESOURCE_MEMORY, amount(r.memory));
  if (amount(r.ephemeralStorage) > 0) out.set(RESOURCE_EPHEMERAL_STORAGE, amount(r.ephemeralStorage));
  out.set(RESOURCE_PODS, 1);
  for (const [name, v] of scalarEntries(r)) if (v > 0) out.set(name, v);
  return out;
}

/** A node's capacity: the four core resources always (so the ledger hash exists), scalars as listed. */
export function nodeCapacity(allocatable: Resources | undefined): Quantities {
  const r = allocatable ?? zeroResources();
  const out = new Map<string, number>([
    [RESOURCE_CPU, amount(r.milliCpu)],
    [RESOURCE_MEMORY, amount(r.memory)],
    [RESOURCE_EPHEMERAL_STORAGE, amount(r.ephemeralStorage)],
    [RESOURCE_PODS, amount(r.pods)],
  ]);
  for (const [name, v] of scalarEntries(r)) out.set(name, v);
  return out;
}

/** "cpu=500;pods=1". */
export function encodeQuantities(q: Quantities): string {
  const parts: string[] = [];
  for (const [name, v] of q) parts.push(`${name}=${String(v)}`);
  return parts.join(';');
}

/** The inverse of {@link encodeQuantities}. */
export function decodeQuantities(text: string): Map<string, number> {
  const out = new Map<string, number>();
  if (text === '') return out;
  for (const part of text.split(';')) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq), Number(part.slice(eq + 1)));
  }
  return out;
}

/** A flat HGETALL reply (field, value, field, value…) as quantities. */
export function quantitiesFromHash(flat: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, Number(flat[i + 1]));
  return out;
}

/** Quantities as a proto Resources (pods as a count). */
export function toResources(q: Quantities): Resources {
  const r = zeroResources();
  for (const [name, v] of q) setResource(r, name, v);
  return r;
}

/** a - b - c, name-wise over every name of a, b and c. */
export function freeQuantities(alloc: Quantities, bound: Quantities, leased: Quantities): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of new Set([...alloc.keys(), ...bound.keys(), ...leased.keys()])) {
    out.set(name, (alloc.get(name) ?? 0) - (bound.get(name) ?? 0) - (leased.get(name) ?? 0));
  }
  return out;
}

/** "cpu (requested 500m, free 200m)". */
export function describeShortage(name: string, requested: number, free: number): string {
  const what = name === RESOURCE_PODS ? 'too many pods' : `insufficient ${name}`;
  return `${what} (requested ${formatResourceAmount(name, requested)}, free ${formatResourceAmount(name, Math.max(0, free))})`;
}
