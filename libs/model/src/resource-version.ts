/**
 * Orders two resourceVersions of one object. The API documents them as
 * opaque, but an etcd-backed API server's are etcd revisions: decimal
 * integers without leading zeros, so the longer is the later and equal
 * lengths compare digit by digit (no precision lost past 2^53). Any other
 * string (an empty version, another storage) is not ordered: undefined, and
 * the caller must not guess.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!WELL_FORMED.test(a) || !WELL_FORMED.test(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const WELL_FORMED = /^(0|[1-9][0-9]*)$/;
