/**
 * Value readers shared by the edge's modules: enumerations (the edge writes
 * the Kubernetes default explicitly) and the int32 bounds of the API.
 */
import { FieldIssue, optString } from '../fields.js';

/** The smallest int32, as the API's int32 fields take. */
export const INT32_MIN = -2147483648;
/** The largest int32. */
export const INT32_MAX = 2147483647;

/** The reason for an enumeration value outside the supported ones. */
export function unsupported(value: string, supported: string): string {
  return `unsupported value ${JSON.stringify(value)}: supported values: ${supported}`;
}

/** The enumeration value of the string v, from values (whose "" entry, if any, is the default). */
export function enumOf<T>(v: unknown, field: string, values: ReadonlyMap<string, T>, supported: string): T {
  const text = optString(v, field);
  const e = values.get(text);
  if (e === undefined) throw new FieldIssue(field, text === '' ? 'required value' : unsupported(text, supported));
  return e;
}
