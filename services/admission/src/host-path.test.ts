import { describe, expect, test } from '@jest/globals';
import { hostPathVolume } from '@schedmesh/testkit';
import { checkHostPaths, isUnder, MAX_HOST_PATH_LENGTH, normalizeHostPath } from './host-path.js';
import type { HostPathRule } from './host-path.js';
import { Reason } from './reasons.js';

function rule(path: string, readOnly = false, tier: HostPathRule['tier'] = 'platform', allowTypes: HostPathRule['allowTypes'] = []): HostPathRule {
  const parsed = normalizeHostPath(path);
  if (!parsed.ok) throw new Error(`bad fixture ${path}`);
  return { path: parsed.value, readOnly, allowTypes, tier, policy: 'tenants' };
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

// Every one of these is denied against the allowlist above, with the reason its row names.
const outside = /is not in the host-path allowlist of AdmissionPolicy tenants \(allowed here: \/data\/team-a, \/var\/log \(read-only\), \/run\/collector\)/;
const dotDot = /contains "\.\.": it is not resolved, because a symlink on the node can make "\.\." lead anywhere/;
const relative = /is relative: host paths must be absolute/;
const control = /contains a control character/;
const hostile: [string, string, RegExp][] = [
  ['/', 'the root', outside],
  ['/etc', 'system configuration', outside],
  ['/etc/shadow', 'secrets', outside],
  ['/var/run/docker.sock', 'the container runtime', outside],
  ['/run/containerd/containerd.sock', 'the container runtime', outside],
  ['/var/lib/kubelet', 'kubelet state', outside],
  ['/proc/self/root/etc', 'procfs escape', outside],
  ['/data', 'the parent of the tenant directory', outside],
  ['/data/team-b', 'another tenant', outside],
  ['/data/team-a-evil', 'a sibling sharing the prefix', outside],
  ['/database', 'a sibling sharing the prefix', outside],
  ['/data/team-a/../team-b', 'a ".." into another tenant', /contains "\.\.".*lexically it would be "\/data\/team-b"/],
  ['/data/team-a/../../etc', 'a ".." out of the tree', /contains "\.\.".*lexically it would be "\/etc"/],
  ['/data/team-a/..', 'a trailing ".."', dotDot],
  ['/data/team-a/link/../../x', 'a ".." after a possible symlink', dotDot],
  ['data/team-a', 'a relative path', relative],
  ['./data/team-a', 'a relative path', relative],
  ['../data/team-a', 'a relative path', relative],
  ['~/data/team-a', 'a home-relative path', relative],
  ['', 'an empty path', /path "" is empty/],
  [' /data/team-a', 'leading white space (relative)', relative],
  ['/data/team-a\u0000/x', 'a NUL byte', control],
  ['/data/team-a\n/etc', 'a newline', control],
  ['/dаta/team-a', 'a Cyrillic "а" lookalike', outside],
  ['/DATA/team-a', 'another case (paths are case-sensitive)', outside],
  ['\\data\\team-a', 'backslashes', relative],
  ['/data/team-a/..\\..\\etc', 'backslash components (a traversal on a Windows node)', /contains a backslash: on a Windows node it separates components/],
  ['/data/team-a\\x', 'a backslash inside a name', /contains a backslash/],
  ['/data/team-a/\u202Eetc', 'a right-to-left override', /contains an invisible or bidirectional formatting character \(U\+202E\)/],
  ['/data/team-a/\u2066x\u2069', 'a bidi isolate', /\(U\+2066\)/],
  ['/data/team-a/x\u200By', 'a zero-width space', /\(U\+200B\)/],
  ['/data/team-a/\uFEFFx', 'a byte-order mark', /\(U\+FEFF\)/],
  ['/data/team-a/x\u2028y', 'a line separator', /\(U\+2028\)/],
  ['/data/team-a/x\u0085y', 'a C1 control (NEL)', control],
  [`/data/team-a/${'x/'.repeat(2100)}`, 'an over-long path', /is longer than 4096 characters/],
];

describe('hostile paths', () => {
  const shown = hostile.map(([path, why, reason]) => [path.length > 60 ? `${JSON.stringify(path.slice(0, 30))}… (${path.length} chars)` : JSON.stringify(path), why, path, reason] as const);
  test.each(shown)('%s (%s) is denied, saying why', (_shown, _why, path, reason) => {
    const denial = checkHostPaths([hostPathVolume('host', path)], allowlist);
    expect(denial).toMatchObject({ reasonCode: Reason.HostPathDenied, volume: 'host', policies: ['tenants'] });
    expect(denial?.message).toMatch(/^hostPath volume "host": path /);
    expect(denial?.message).toMatch(reason);
  });

  test('the message shows an invisible or bidirectional character as its code point, never the character itself', () => {
    const denial = checkHostPaths([hostPathVolume('host', '/data/team-a/\u202Eetc')], allowlist);
    expect(denial?.message).toContain('"/data/team-a/<U+202E>etc"');
    expect(denial?.message).not.toMatch(/\u202E/);
  });

  test('a percent-encoded name is a literal directory under the allowlisted one, so it is allowed', () => {
    // The kernel does not decode %2f: this is one directory named "..%2f.." inside /data/team-a.
    expect(checkHostPaths([hostPathVolume('v', '/data/team-a/..%2f..%2fetc')], allowlist)).toBeUndefined();
  });

  test('with no allowlist entry at all, every path is denied as restricted by default', () => {
    expect(checkHostPaths([hostPathVolume('v', '/data/team-a')], [])).toMatchObject({
      reasonCode: Reason.HostPathDenied,
      policies: [],
      message: expect.stringContaining('is denied: no AdmissionPolicy allows host paths for this pod, and host paths are restricted by default'),
    });
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

describe('hostPath types', () => {
  // The collector directory allows its socket; /dev/fuse is allowed as a character device; /data/team-a allows nothing special.
  const typed = [rule('/run/collector', false, 'workload', ['Socket']), rule('/dev/fuse', false, 'platform', ['CharDevice']), rule('/data/team-a', false, 'namespace')];

  test.each([
    ['', '/data/team-a/x', undefined],
    ['Directory', '/data/team-a/x', undefined],
    ['DirectoryOrCreate', '/data/team-a/x', undefined],
    ['File', '/data/team-a/x', undefined],
    ['FileOrCreate', '/data/team-a/x', undefined],
    ['Socket', '/run/collector/agent.sock', undefined],
    ['CharDevice', '/dev/fuse', undefined],
    ['Socket', '/data/team-a/app.sock', Reason.HostPathTypeDenied],
    ['CharDevice', '/run/collector/tty', Reason.HostPathTypeDenied],
    ['BlockDevice', '/dev/fuse', Reason.HostPathTypeDenied],
    ['BlockDevice', '/data/team-a/disk', Reason.HostPathTypeDenied],
    ['Pipe', '/data/team-a/x', Reason.HostPathTypeDenied],
    ['Socket', '/etc/x.sock', Reason.HostPathDenied],
  ])('type %j at %s: %s', (type, path, reason) => {
    const denial = checkHostPaths([hostPathVolume('v', path, false, type)], typed);
    expect(denial?.reasonCode).toBe(reason);
    if (reason === Reason.HostPathTypeDenied) {
      expect(denial?.message).toBe(
        `hostPath volume "v": type ${JSON.stringify(type)} at ${JSON.stringify(path)} is not allowed: no allowlist entry covering the path lists it in allowTypes (Socket, CharDevice and BlockDevice must each be allowed by name)`,
      );
    }
  });

  test('the read-only rule applies among the entries that allow the type', () => {
    const rules = [rule('/run/collector', true, 'platform', ['Socket']), rule('/run/collector', false, 'namespace')];
    expect(checkHostPaths([hostPathVolume('v', '/run/collector/s', false, 'Socket')], rules)).toMatchObject({ reasonCode: Reason.HostPathReadOnlyRequired });
    expect(checkHostPaths([hostPathVolume('v', '/run/collector/s', false, 'Directory')], rules)).toBeUndefined();
  });
});
