import { describe, expect, test } from '@jest/globals';
import { hostPathVolume } from '@schedmesh/testkit';
import { checkHostPaths, isUnder, MAX_HOST_PATH_LENGTH, normalizeHostPath } from './host-path.js';
import type { HostPathRule } from './host-path.js';
import { Reason } from './reasons.js';

function rule(path: string, readOnly = false, tier: HostPathRule['tier'] = 'platform'): HostPathRule {
  const parsed = normalizeHostPath(path);
  if (!parsed.ok) throw new Error(`bad fixture ${path}`);
  return { path: parsed.value, readOnly, tier, policy: 'tenants' };
}

// The tenant may use /data/team-a; the platform allows logs read-only and the collector socket dir.
const allowlist = [rule('/data/team-a', false, 'namespace'), rule('/var/log', true), rule('/run/collector', false, 'workload')];

describe('normalizeHostPath', () => {
  test.each([
    ['/data', '/data'],
    ['/data/', '/data'],
    ['//data///team-a//', '/data/team-a'],
    ['/data/./team-a/.', '/data/team-a'],
    ['/', '/'],
    ['///', '/'],
    ['/a/.../b', '/a/.../b'],
    ['/a/..b/c', '/a/..b/c'],
  ])('%j → %j', (raw, expected) => {
    const r = normalizeHostPath(raw);
    expect(r.ok && r.value.path).toBe(expected);
  });

  test.each([
    ['', /empty/],
    ['data/team-a', /relative/],
    ['./data', /relative/],
    ['/data/../etc', /contains "\.\."/],
    ['/data/\n/x', /control character/],
    [`/${'a'.repeat(MAX_HOST_PATH_LENGTH)}`, /longer than/],
  ])('%j is refused', (raw, reason) => {
    const r = normalizeHostPath(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  test('the message of a ".." path says what it would have resolved to', () => {
    const r = normalizeHostPath('/data/team-a/../../etc/shadow');
    expect(!r.ok && r.reason).toContain('"/etc/shadow"');
  });
});

describe('prefix matching by whole components', () => {
  test.each([
    [['data'], ['data'], true],
    [['data', 'x'], ['data'], true],
    [['database'], ['data'], false],
    [['data-old'], ['data'], false],
    [['dat'], ['data'], false],
    [['data'], ['data', 'x'], false],
    [[], [], true],
  ])('isUnder(%j, %j) = %s', (path, prefix, expected) => {
    expect(isUnder(path, prefix)).toBe(expected);
  });

  test.each([
    ['/data/team-a', true],
    ['/data/team-a/', true],
    ['/data/team-a/cache/x', true],
    ['//data//team-a/./cache', true],
    ['/data/team-ab', false],
    ['/data/team-a.bak', false],
    ['/data/team', false],
    ['/data', false],
    ['/run/collector/sock', true],
    ['/run/collectors', false],
  ])('%s allowed: %s', (path, allowed) => {
    expect(checkHostPaths([hostPathVolume('v', path)], allowlist) === undefined).toBe(allowed);
  });
});

// Every one of these is denied against the allowlist above, for the reason given.
const hostile: [string, string][] = [
  ['/', 'the root'],
  ['/etc', 'system configuration'],
  ['/etc/shadow', 'secrets'],
  ['/var/run/docker.sock', 'the container runtime'],
  ['/run/containerd/containerd.sock', 'the container runtime'],
  ['/var/lib/kubelet', 'kubelet state'],
  ['/proc/self/root/etc', 'procfs escape'],
  ['/data', 'the parent of the tenant directory'],
  ['/data/team-b', 'another tenant'],
  ['/data/team-a-evil', 'a sibling sharing the prefix'],
  ['/database', 'a sibling sharing the prefix'],
  ['/data/team-a/../team-b', 'a ".." into another tenant'],
  ['/data/team-a/../../etc', 'a ".." out of the tree'],
  ['/data/team-a/..', 'a trailing ".."'],
  ['/data/team-a/link/../../x', 'a ".." after a possible symlink'],
  ['data/team-a', 'a relative path'],
  ['./data/team-a', 'a relative path'],
  ['../data/team-a', 'a relative path'],
  ['~/data/team-a', 'a home-relative path'],
  ['', 'an empty path'],
  [' /data/team-a', 'leading white space (relative)'],
  ['/data/team-a\u0000/x', 'a NUL byte'],
  ['/data/team-a\n/etc', 'a newline'],
  ['/dаta/team-a', 'a Cyrillic "а" lookalike'],
  ['/DATA/team-a', 'another case (paths are case-sensitive)'],
  ['\\data\\team-a', 'backslashes'],
  [`/data/team-a/${'x/'.repeat(2100)}`, 'an over-long path'],
];

describe('hostile paths', () => {
  test(`the table holds ${hostile.length} hostile paths`, () => {
    expect(hostile.length).toBeGreaterThanOrEqual(20);
  });

  const shown = hostile.map(([path, why]) => [path.length > 60 ? `${JSON.stringify(path.slice(0, 30))}… (${path.length} chars)` : JSON.stringify(path), why, path] as const);
  test.each(shown)('%s (%s) is denied', (_shown, _why, path) => {
    const denial = checkHostPaths([hostPathVolume('host', path)], allowlist);
    expect(denial).toMatchObject({ reasonCode: Reason.HostPathDenied, volume: 'host' });
  });

  test('a percent-encoded name is a literal directory under the allowlisted one, so it is allowed', () => {
    // The kernel does not decode %2f: this is one directory named "..%2f.." inside /data/team-a.
    expect(checkHostPaths([hostPathVolume('v', '/data/team-a/..%2f..%2fetc')], allowlist)).toBeUndefined();
  });

  test('with no allowlist entry at all, every path is denied', () => {
    expect(checkHostPaths([hostPathVolume('v', '/data/team-a')], [])).toMatchObject({ reasonCode: Reason.HostPathDenied });
  });
});

describe('read-only enforcement', () => {
  test('a read-only entry admits a read-only mount and rejects a read-write one', () => {
    expect(checkHostPaths([hostPathVolume('logs', '/var/log/pods', true)], allowlist)).toBeUndefined();
    const denial = checkHostPaths([hostPathVolume('logs', '/var/log/pods', false)], allowlist);
    expect(denial).toMatchObject({ reasonCode: Reason.HostPathReadOnlyRequired, volume: 'logs' });
    expect(denial?.message).toMatch(/readOnly: true/);
  });

  test('a read-write entry covering the same path (another tier) admits a read-write mount', () => {
    const rules = [...allowlist, rule('/var/log/team-a', false, 'namespace')];
    expect(checkHostPaths([hostPathVolume('logs', '/var/log/team-a/app', false)], rules)).toBeUndefined();
    expect(checkHostPaths([hostPathVolume('logs', '/var/log/other', false)], rules)).toMatchObject({ reasonCode: Reason.HostPathReadOnlyRequired });
  });

  test('the first offending volume is named; other volume kinds are ignored', () => {
    const volumes = [
      { name: 'cfg', source: { $case: 'other' as const, value: 'configMap' }, readOnly: true },
      hostPathVolume('ok', '/data/team-a/x'),
      hostPathVolume('bad', '/etc'),
    ];
    expect(checkHostPaths(volumes, allowlist)).toMatchObject({ volume: 'bad' });
  });
});
