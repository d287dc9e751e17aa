import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { CliError, ExitCode } from './exit.js';
import { DEFAULT_ADDRESSES, resolveOptions, serviceList, SERVICES } from './options.js';
import type { GlobalFlags } from './options.js';

const none: GlobalFlags = { addresses: {} };

function usageError(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.USAGE);
    return err as CliError;
  }
  throw new Error('expected a usage error');
}

describe('resolveOptions', () => {
  test('defaults: local addresses, table output, 10 s deadline, the local Jaeger UI, plaintext', () => {
    const o = resolveOptions(none, {});
    expect(o.output).toBe('table');
    expect(o.jaegerUrl).toBe('http://127.0.0.1:16686');
    expect(o.services.scheduler).toEqual({ address: DEFAULT_ADDRESSES.scheduler, deadline: 10_000 });
    expect(o.services.snapshot.address).toBe('127.0.0.1:50051');
  });

  test('a flag wins over the environment, which wins over the default', () => {
    const env = { SCHEDMESHCTL_SCHEDULER_ADDRESS: 'sched.example:7000', SCHEDMESHCTL_SNAPSHOT_ADDRESS: 'snap:1', SCHEDMESHCTL_TIMEOUT: '3s', SCHEDMESHCTL_JAEGER_URL: 'https://jaeger.example/' };
    const o = resolveOptions({ addresses: { snapshot: 'snap:2' }, output: 'json' }, env);
    expect(o.services.scheduler.address).toBe('sched.example:7000');
    expect(o.services.snapshot.address).toBe('snap:2');
    expect(o.services.filterscore.deadline).toBe(3_000);
    expect(o.jaegerUrl).toBe('https://jaeger.example');
    expect(o.output).toBe('json');
  });

  test('mTLS files apply to every service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-tls-'));
    for (const f of ['ca.pem', 'tls.crt', 'tls.key']) writeFileSync(join(dir, f), 'pem');
    const o = resolveOptions({ ...none, 'tls-ca': join(dir, 'ca.pem'), 'tls-cert': join(dir, 'tls.crt'), 'tls-key': join(dir, 'tls.key'), 'tls-server-name': 'mesh' }, {});
    for (const s of Object.values(o.services)) expect(s.tls).toEqual({ caFile: join(dir, 'ca.pem'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), serverName: 'mesh', reloadInterval: 30_000 });
  });

  test.each([
    ['an unknown output', { ...none, output: 'yaml' }, {}, /--output: expected "table" or "json", got "yaml"/],
    ['a bad timeout from the environment', none, { SCHEDMESHCTL_TIMEOUT: 'soon' }, /SCHEDMESHCTL_TIMEOUT: expected a duration/],
    ['a zero timeout', { ...none, timeout: '0s' }, {}, /--timeout: expected a duration/],
    ['an address without a port', { addresses: { scheduler: 'localhost' } }, {}, /--scheduler: expected "host:port", got "localhost"/],
    ['a bad address in the environment', none, { SCHEDMESHCTL_GATEWAY_ADDRESS: 'gw' }, /SCHEDMESHCTL_GATEWAY_ADDRESS: expected "host:port"/],
    ['a Jaeger URL that is not one', { ...none, 'jaeger-url': 'jaeger' }, {}, /--jaeger-url: expected the Jaeger UI's URL/],
    ['a certificate without its key', { ...none, 'tls-ca': __filename, 'tls-cert': __filename }, {}, /--tls-cert is given without --tls-key/],
    ['a key without a CA', { ...none, 'tls-key': __filename }, {}, /--tls-key needs --tls-ca/],
    ['a CA file that is not there', { ...none, 'tls-ca': '/nonexistent/ca.pem' }, {}, /--tls-ca: cannot read \/nonexistent\/ca.pem \(ENOENT\)/],
  ])('%s is a usage error naming where it came from', (_, flags, env, message) => {
    expect(usageError(() => resolveOptions(flags as GlobalFlags, env)).message).toMatch(message);
  });
});

describe('serviceList', () => {
  test('every service by default; a list (flag over environment) in the usual order', () => {
    expect(serviceList(undefined, {})).toEqual(SERVICES);
    expect(serviceList('snapshot, scheduler', { SCHEDMESHCTL_SERVICES: 'gateway' })).toEqual(['scheduler', 'snapshot']);
    expect(serviceList(undefined, { SCHEDMESHCTL_SERVICES: 'gateway' })).toEqual(['gateway']);
  });

  test.each([['schedular'], [''], [' , ']])('%p is a usage error listing the services', (list) => {
    expect(usageError(() => serviceList(list, {})).message).toMatch(/--services: expected a comma-separated list of scheduler, informer, snapshot/);
  });
});
