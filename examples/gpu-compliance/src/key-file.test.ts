import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, test } from '@jest/globals';
import { PublicKeyFile } from './key-file.js';
import type { KeyFileEvent } from './key-file.js';

const pem = (): string => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
let dir: string;
let file: string;
const opened: PublicKeyFile[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpu-key-file-'));
  file = join(dir, 'ed25519.pub');
});
afterEach(() => opened.splice(0).forEach((k) => k.close()));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Replaces the file in one step, as the kubelet's symlink swap does for a Secret. */
function replace(text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

/** A key file that only reloads when the test says so (the interval is an hour). */
function open(text: string): { keys: PublicKeyFile; events: KeyFileEvent[] } {
  replace(text);
  const events: KeyFileEvent[] = [];
  const keys = PublicKeyFile.open(file, { intervalMs: 3_600_000, onEvent: (e) => events.push(e) });
  opened.push(keys);
  return { keys, events };
}

describe('PublicKeyFile', () => {
  test('a new content replaces the keys, and is reported with the count', async () => {
    const { keys, events } = open(pem());
    const [first] = keys.keys;
    const rotated = pem() + pem();
    replace(rotated);
    await keys.reload();
    expect(keys.keys).toHaveLength(2);
    expect(keys.keys.some((k) => k.equals(first!))).toBe(false);
    expect(events).toEqual([{ event: 'keys_reloaded', file, keys: 2 }]);
    await keys.reload();
    expect(events).toHaveLength(1);
  });

  test.each<[string, (() => void), RegExp]>([
    ['a file with no PEM key', () => replace('not a key\n'), /holds no PEM public key/],
    ['an RSA key instead of Ed25519', () => replace(rsaPem), /must be an Ed25519 public key, got rsa/],
    ['a PEM block that is not a key', () => replace('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), /asn1 encoding routines/],
    ['a missing file', () => rmSync(file), /ENOENT/],
  ])('%s keeps the keys in force and is reported once', async (_what, spoil, error) => {
    const good = pem();
    const { keys, events } = open(good);
    const before = keys.keys;
    spoil();
    await keys.reload();
    await keys.reload();
    expect(keys.keys).toBe(before);
    expect(events).toEqual([{ event: 'keys_reload_failed', file, error: expect.stringMatching(error), keptKeys: 1 }]);
    replace(good + pem());
    await keys.reload();
    expect(keys.keys).toHaveLength(2);
    expect(events.at(-1)).toEqual({ event: 'keys_reloaded', file, keys: 2 });
  });

  test('a file without a usable key fails the start', () => {
    replace('nothing here');
    expect(() => PublicKeyFile.open(file)).toThrow('the attestation key file holds no PEM public key');
    expect(() => PublicKeyFile.open(join(dir, 'absent.pub'))).toThrow(/ENOENT/);
    replace(pem());
    expect(() => PublicKeyFile.open(file, { intervalMs: 0 })).toThrow('the key reload interval must be a positive number of ms, got 0');
  });
});
