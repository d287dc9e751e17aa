import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { duration, loadConfig, parseDuration, readConfigFile, readYamlFile } from './config.js';
import { ConfigError } from './errors.js';

const schema = z
  .object({
    grpc: z.object({ port: z.number().int().min(0).max(65535).default(50051), host: z.string().default('0.0.0.0') }).strict().default({ port: 50051, host: '0.0.0.0' }),
    nats: z.object({ url: z.string().url(), streamName: z.string().default('SCHEDMESH') }).strict(),
    reserve: z.object({ ttl: duration().default(30_000), dryRun: z.boolean().default(false) }).strict().default({ ttl: 30_000, dryRun: false }),
  })
  .strict();

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  test('defaults fill what neither file nor env sets', () => {
    const cfg = loadConfig(schema, { env: { SCHEDMESH_NATS__URL: 'nats://n:4222' } });
    expect(cfg).toEqual({
      grpc: { port: 50051, host: '0.0.0.0' },
      nats: { url: 'nats://n:4222', streamName: 'SCHEDMESH' },
      reserve: { ttl: 30_000, dryRun: false },
    });
  });

  test('env maps nested camelCase keys and wins over the file', () => {
    const path = file('grpc:\n  port: 7000\nnats:\n  url: nats://file:4222\n  streamName: FROMFILE\nreserve:\n  ttl: 2m\n');
    const cfg = loadConfig(schema, {
      env: { SCHEDMESH_CONFIG: path, SCHEDMESH_GRPC__PORT: '7001', SCHEDMESH_NATS__STREAM_NAME: 'FROMENV', SCHEDMESH_RESERVE__DRY_RUN: 'true', OTHER_VAR: 'x' },
    });
    expect(cfg.grpc.port).toBe(7001);
    expect(cfg.nats).toEqual({ url: 'nats://file:4222', streamName: 'FROMENV' });
    expect(cfg.reserve).toEqual({ ttl: 120_000, dryRun: true });
  });

  test('every invalid key is named with where it came from', () => {
    const path = file('nats:\n  url: nats://ok:4222\nreserve:\n  ttl: soon\n  tll: 3s\n');
    let error: unknown;
    try {
      loadConfig(schema, { env: { SCHEDMESH_GRPC__PORT: 'abc' }, file: path });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/^grpc\.port: .*(from SCHEDMESH_GRPC__PORT)/m);
    expect(issues).toMatch(/^reserve\.ttl: expected a duration such as "500ms", "30s" or "5m", got "soon"/m);
    expect(issues).toMatch(/^reserve: .*tll/m);
  });

  test('a missing required key fails', () => {
    expect(() => loadConfig(schema, { env: {} })).toThrow(/nats: /);
  });

  test.each([
    ['no such file', () => loadConfig(schema, { env: {}, file: '/nonexistent/schedmesh.yaml' }), /cannot be read/],
    ['bad YAML', () => loadConfig(schema, { env: {}, file: file('a: [1, 2\n') }), /not valid YAML/],
    ['a list at the top', () => loadConfig(schema, { env: {}, file: file('- 1\n- 2\n') }), /expected a mapping/],
  ])('%s is a ConfigError', (_, load, message) => {
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});

describe('overrides (command-line flags)', () => {
  test('win over the file and the environment, and are named when invalid', () => {
    const path = file('grpc: {port: 7000}\nnats: {url: "nats://file:4222"}\n');
    const cfg = loadConfig(schema, { file: path, env: { SCHEDMESH_GRPC__PORT: '7001' }, overrides: [{ key: 'grpc.port', value: 7002, origin: '--port' }] });
    expect(cfg.grpc.port).toBe(7002);
    expect(() => loadConfig(schema, { file: path, env: {}, overrides: [{ key: 'grpc.port', value: 'x', origin: '--port' }] })).toThrow(/grpc\.port: .*\(from --port\)/);
  });
});

describe('readConfigFile / readYamlFile', () => {
  test('return the text or the value of a file', () => {
    expect(readConfigFile(file('hello'), 'some.file')).toBe('hello');
    expect(readYamlFile(file('a: [1, 2]'), 'some.file')).toEqual({ a: [1, 2] });
    expect(readYamlFile(file(''), 'some.file')).toBeNull();
  });

  test.each([
    ['a missing file', () => readConfigFile('/nonexistent/x.yaml', 'profiles.file'), /^profiles\.file \/nonexistent\/x\.yaml: cannot be read \(ENOENT/],
    ['bad YAML', () => readYamlFile(file('a: [1, 2\n'), 'profiles.file'), /^profiles\.file .*: not valid YAML/],
  ])('%s is a ConfigError naming the key and the path', (_, read, issue) => {
    expect(read).toThrow(ConfigError);
    try {
      read();
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([expect.stringMatching(issue)]);
    }
  });
});

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1500', 1_500],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(['', 's', '10 s', '5d', '-1s', '1s2', 'ms5'])('%j is rejected', (text) => expect(parseDuration(text)).toBeUndefined());
});
