/**
 * Host paths: normalization, component-wise prefix matching and the tiered
 * allowlist check of a pod's hostPath volumes.
 *
 * The scheduler sees only the path string a pod was written with, never the
 * node's file system, so it cannot resolve symlinks. Two consequences shape
 * this module: a ".." component is refused outright instead of being resolved
 * lexically (the kernel resolves "link/.." against the link's target, so a
 * lexical resolution can be escaped with a symlink), and a path that no
 * allowlist entry covers is denied. A socket or device (hostPath type Socket,
 * CharDevice, BlockDevice) needs an entry that allows that type by name.
 */
import type { Volume } from '@schedmesh/proto/v1/types';
import { Reason } from './reasons.js';
import type { ReasonCode } from './reasons.js';

/** The longest host path accepted (Linux PATH_MAX). */
export const MAX_HOST_PATH_LENGTH = 4096;

/** A normalized absolute path: "/a/b" and its components ["a", "b"]. "/" has no components. */
export interface NormalizedPath {
  readonly path: string;
  readonly components: readonly string[];
}

/** The result of {@link normalizeHostPath}: the path, or why it cannot be used. */
export type PathResult = { readonly ok: true; readonly value: NormalizedPath } | { readonly ok: false; readonly reason: string };

// C0 and C1 controls and DEL: a newline or NUL in a path is never legitimate and
// confuses logs and string comparisons.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Invisible and bidirectional formatting characters (Unicode Cf: U+202E reverses
// the text after it, U+200B is invisible) and the line and paragraph separators:
// a path with one reads differently in a message or a review than it is.
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;
// Both of the above, for rewriting a message.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Normalizes a host path: duplicate slashes, "." components and trailing
 * slashes are removed. An empty, relative, over-long path, one with control
 * characters or one with a ".." component is refused with the reason.
 */
export function normalizeHostPath(raw: string): PathResult {
  if (raw.length === 0) return { ok: false, reason: 'is empty' };
  if (raw.length > MAX_HOST_PATH_LENGTH) return { ok: false, reason: `is longer than ${MAX_HOST_PATH_LENGTH} characters` };
  if (CONTROL.test(raw)) return { ok: false, reason: 'contains a control character' };
  if (!raw.startsWith('/')) return { ok: false, reason: 'is relative: host paths must be absolute' };
  if (raw.includes('\\')) {
    return { ok: false, reason: 'contains a backslash: on a Windows node it separates components (so "..\\" would leave the directory); write the path with "/" only' };
  }
  const invisible = INVISIBLE.exec(raw);
  if (invisible) return { ok: false, reason: `contains an invisible or bidirectional formatting character (${codePoint(invisible[0])})` };
  const components: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      return {
        ok: false,
        reason: `contains "..": it is not resolved, because a symlink on the node can make ".." lead anywhere (lexically it would be ${lexical(raw)})`,
      };
    }
    components.push(part);
  }
  return { ok: true, value: { path: `/${components.join('/')}`, components } };
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `raw` for a message: control, invisible and bidirectional characters written as U+XXXX, so the message reads as the path is. */
export function printablePath(raw: string): string {
  return raw.replace(UNPRINTABLE, (c) => `<${codePoint(c)}>`);
}

// For messages only: what a naive resolution would make of the path.
function lexical(raw: string): string {
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return JSON.stringify(`/${out.join('/')}`);
}

/** Whether `path` is `prefix` or below it, component by component ("/data" covers "/data/x", not "/database"). */
export function isUnder(path: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}

/**
 * hostPath types that give a pod more than files: the container runtime's or
 * another daemon's socket, a device. Each is allowed only under an entry that
 * names it; the other types (Directory, File, …OrCreate, unset) need no more
 * than a covering entry.
 */
export const SPECIAL_HOST_PATH_TYPES = ['Socket', 'CharDevice', 'BlockDevice'] as const;
export type SpecialHostPathType = (typeof SPECIAL_HOST_PATH_TYPES)[number];
const ORDINARY_HOST_PATH_TYPES = new Set(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File']);

/** The tier an allowlist entry comes from. */
export type HostPathTier = 'platform' | 'namespace' | 'workload';

/** One allowlist entry, compiled. */
export interface HostPathRule {
  /** The normalized allowed prefix. */
  readonly path: NormalizedPath;
  /** Mounts under it must be read-only. */
  readonly readOnly: boolean;
  /** The special hostPath types allowed under it. */
  readonly allowTypes: readonly SpecialHostPathType[];
  /** Where it comes from, for messages. */
  readonly tier: HostPathTier;
  /** The policy key, for messages. */
  readonly policy: string;
}

/** Why a pod's hostPath volume is denied. */
export interface HostPathDenial {
  readonly reasonCode: ReasonCode;
  readonly volume: string;
  readonly message: string;
  /** The policies whose allowlists were consulted. */
  readonly policies: readonly string[];
}

/**
 * Checks every hostPath volume of a pod against the union of the allowlist
 * entries that apply to it (every tier of every policy that governs host
 * paths for the pod). Returns the first denial, or undefined when every
 * hostPath volume is allowed. A path is allowed when an entry covers it (one
 * that allows its type, for a socket or device) and, if every such entry
 * requires read-only, the volume is read-only. With no rules at all (no policy
 * governs the pod's host paths) every hostPath volume is denied.
 */
export function checkHostPaths(volumes: readonly Volume[], rules: readonly HostPathRule[]): HostPathDenial | undefined {
  const policies = [...new Set(rules.map((r) => r.policy))].sort();
  for (const volume of volumes) {
    if (volume.source?.$case !== 'hostPath') continue;
    const raw = volume.source.value.path;
    const parsed = normalizeHostPath(raw);
    if (!parsed.ok) {
      return {
        reasonCode: Reason.HostPathDenied,
        volume: volume.name,
        policies,
        message: `hostPath volume ${JSON.stringify(volume.name)}: path ${JSON.stringify(printablePath(truncate(raw)))} ${parsed.reason}; write it as an absolute path without ".." that an AdmissionPolicy allows`,
      };
    }
    let covering = rules.filter((r) => isUnder(parsed.value.components, r.path.components));
    if (covering.length === 0) {
      const where = `hostPath volume ${JSON.stringify(volume.name)}: path ${JSON.stringify(parsed.value.path)}`;
      return {
        reasonCode: Reason.HostPathDenied,
        volume: volume.name,
        policies,
        message:
          policies.length === 0
            ? `${where} is denied: no AdmissionPolicy allows host paths for this pod, and host paths are restricted by default; ` +
              'ask a platform admin for an AdmissionPolicy hostPath entry that covers it'
            : `${where} is not in the host-path allowlist of AdmissionPolicy ${policies.join(', ')} (allowed here: ${describeAllowed(rules)}); ` +
              'use an allowed path or ask a platform admin to allow it',
      };
    }
    const type = volume.source.value.type;
    if (!ORDINARY_HOST_PATH_TYPES.has(type)) {
      covering = covering.filter((r) => (r.allowTypes as readonly string[]).includes(type));
      if (covering.length === 0) {
        return {
          reasonCode: Reason.HostPathTypeDenied,
          volume: volume.name,
          policies,
          message:
            `hostPath volume ${JSON.stringify(volume.name)}: type ${JSON.stringify(truncate(type))} at ${JSON.stringify(parsed.value.path)} is not allowed: ` +
            `no allowlist entry covering the path lists it in allowTypes (Socket, CharDevice and BlockDevice must each be allowed by name)`,
        };
      }
    }
    if (!volume.readOnly && covering.every((r) => r.readOnly)) {
      const by = covering.map((r) => `${r.path.path} (${r.tier}, ${r.policy})`).join(', ');
      return {
        reasonCode: Reason.HostPathReadOnlyRequired,
        volume: volume.name,
        policies,
        message: `hostPath volume ${JSON.stringify(volume.name)}: path ${JSON.stringify(parsed.value.path)} may only be mounted read-only (${by}); set readOnly: true on every volumeMount of the volume`,
      };
    }
  }
  return undefined;
}

function describeAllowed(rules: readonly HostPathRule[]): string {
  if (rules.length === 0) return 'none';
  const shown = rules.slice(0, 8).map((r) => `${r.path.path}${r.readOnly ? ' (read-only)' : ''}`);
  return rules.length > shown.length ? `${shown.join(', ')}, and ${rules.length - shown.length} more` : shown.join(', ');
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** Whether a pod has any hostPath volume. */
export function hasHostPathVolume(volumes: readonly Volume[]): boolean {
  return volumes.some((v) => v.source?.$case === 'hostPath');
}
