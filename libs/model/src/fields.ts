/**
 * Narrowing helpers for untrusted objects (raw JSON or client-node models),
 * used by the edge conversion. Internal to the package: index.ts does not
 * export them.
 *
 * A helper that finds a field of the wrong shape throws a FieldIssue naming
 * the field relative to where the caller stands; callers that descend into
 * a sub-object or an array element prefix the path on the way out (see
 * within), so the happy path builds no path strings at all.
 */
import type { FieldProblem } from './problem.js';

/** A JSON object (or an object of a client-node model). */
export type JsonObject = { readonly [key: string]: unknown };

/**
 * FieldIssue is a malformed field found during conversion: its path relative
 * to the code that threw it, and why. The conversion turns it into an
 * EdgeError naming the object; it never leaves the package.
 */
export class FieldIssue extends Error implements FieldProblem {
  override readonly name = 'FieldIssue';
  /** The field path, completed as the error travels up. */
  field: string;
  /** Why the field is rejected. */
  readonly reason: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(field === '' ? reason : `${field}: ${reason}`, options);
    this.field = field;
    this.reason = reason;
  }
}

/** Joins a path prefix and a relative path ("spec" + "containers[0]", "spec.containers" + "[0]"). */
export function joinPath(prefix: string, relative: string): string {
  if (relative === '') return prefix;
  if (prefix === '') return relative;
  return relative.charCodeAt(0) === 91 /* [ */ ? prefix + relative : `${prefix}.${relative}`;
}

/** Prefixes the path of a FieldIssue (other errors pass through) and returns it, for `throw within(err, ...)`. */
export function within(err: unknown, prefix: string): unknown {
  if (err instanceof FieldIssue) err.field = joinPath(prefix, err.field);
  return err;
}

/** Converts a sub-object with fn, prefixing the path of any FieldIssue with field. */
export function sub<T>(field: string, v: unknown, fn: (v: unknown) => T): T {
  try {
    return fn(v);
  } catch (err) {
    throw within(err, field);
  }
}

/** Whether v is an object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** v as an object; undefined when absent (undefined or null). */
export function optObject(v: unknown, field: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  throw new FieldIssue(field, `must be an object, not ${typeName(v)}`);
}

/** v as an object, which must be present. */
export function reqObject(v: unknown, field: string): JsonObject {
  const o = optObject(v, field);
  if (o === undefined) throw new FieldIssue(field, 'required value');
  return o;
}

const EMPTY: readonly unknown[] = Object.freeze([]);

/** v as an array; empty when absent. */
export function optArray(v: unknown, field: string): readonly unknown[] {
  if (v === undefined || v === null) return EMPTY;
  if (Array.isArray(v)) return v as readonly unknown[];
  throw new FieldIssue(field, `must be an array, not ${typeName(v)}`);
}

/** Converts each element of the array v with fn, prefixing errors with `field[i]`. */
export function mapArray<T>(v: unknown, field: string, fn: (item: unknown) => T): T[] {
  const list = optArray(v, field);
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) {
    try {
      out.push(fn(list[i]));
    } catch (err) {
      throw within(err, `${field}[${i}]`);
    }
  }
  return out;
}

/** v as a string; "" when absent. */
export function optString(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  throw new FieldIssue(field, `must be a string, not ${typeName(v)}`);
}

/** v as a non-empty string. */
export function reqString(v: unknown, field: string): string {
  const s = optString(v, field);
  if (s === '') throw new FieldIssue(field, 'required value');
  return s;
}

/** v as a boolean; false when absent. */
export function optBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return false;
  throw new FieldIssue(field, `must be a boolean, not ${typeName(v)}`);
}

/** v as an integer in [min, max]; undefined when absent. */
export function optInt(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FieldIssue(field, `must be an integer, not ${typeName(v)}`);
  if (v < min || v > max) throw new FieldIssue(field, `must be between ${min} and ${max}, inclusive`);
  return v;
}

/** v as a list of strings; empty when absent. */
export function stringList(v: unknown, field: string): string[] {
  const list = optArray(v, field);
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (typeof s !== 'string') throw new FieldIssue(`${field}[${i}]`, `must be a string, not ${typeName(s)}`);
    out.push(s);
  }
  return out;
}

/**
 * A copy of the string map v (labels, a node selector); empty when absent.
 * Only keys `keep` accepts are copied (and checked), when it is given.
 */
export function stringMap(v: unknown, field: string, keep?: (key: string) => boolean): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  const o = optObject(v, field);
  if (o === undefined) return out;
  for (const key in o) {
    if (keep !== undefined && !keep(key)) continue;
    const s = o[key];
    if (typeof s !== 'string') throw new FieldIssue(`${field}[${key}]`, `must be a string, not ${typeName(s)}`);
    // Assigning "__proto__" would set the prototype instead; it is no valid key anyway.
    if (key === '__proto__') throw new FieldIssue(field, 'invalid key "__proto__"');
    out[key] = s;
  }
  return out;
}

/** v as a date-time (a Date as client-node gives it, or an RFC 3339 string as the API serves it); undefined when absent. */
export function optTime(v: unknown, field: string): Date | undefined {
  if (v === undefined || v === null) return undefined;
  let t: number;
  if (v instanceof Date) {
    t = v.getTime();
  } else if (typeof v === 'string') {
    t = Date.parse(v);
  } else {
    throw new FieldIssue(field, `must be a date-time, not ${typeName(v)}`);
  }
  if (Number.isNaN(t)) throw new FieldIssue(field, 'must be a valid RFC 3339 date-time');
  return new Date(t);
}
