import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ed25519PublicKeys } from './attestation.js';

/** What a {@link PublicKeyFile} tells its owner; `main.ts` writes them as JSON log lines. */
export type KeyFileEvent =
  | { readonly event: 'keys_reloaded'; readonly file: string; readonly keys: number }
  | { readonly event: 'keys_reload_failed'; readonly file: string; readonly error: string; readonly keptKeys: number };

/** Options of {@link PublicKeyFile.open}. */
export interface PublicKeyFileOptions {
  /** How often the file is read again, in ms (default 10 000). */
  intervalMs?: number;
  /** Told of every change applied and every failed read or parse. */
  onEvent?: (event: KeyFileEvent) => void;
}

export const DEFAULT_KEY_RELOAD_INTERVAL_MS = 10_000;

/**
 * The attestation public keys, from a file that may change under the running
 * plugin: a mounted Secret is updated in place (the kubelet swaps a symlink)
 * when it is rotated, so the file is read again every `intervalMs` and a new
 * content replaces the keys. The file is read whole rather than watched by
 * mtime: the symlink swap and editors' rename-over both change what a watch
 * on the old inode sees, and a re-read of a few hundred bytes costs nothing.
 *
 * A read or parse that fails (the file missing for a moment, a half-written or
 * wrong key) keeps the keys in force and is reported once per distinct
 * problem; the next good content replaces them. Only the first read, at start,
 * is fatal: a plugin with no keys could only refuse.
 */
export class PublicKeyFile {
  #keys: readonly KeyObject[];
  #text: string;
  #problem: string | undefined;
  #reading: Promise<void> | undefined;
  readonly #timer: NodeJS.Timeout;

  private constructor(
    readonly path: string,
    text: string,
    readonly onEvent: (event: KeyFileEvent) => void,
    intervalMs: number,
  ) {
    this.#text = text;
    this.#keys = ed25519PublicKeys(text);
    this.#timer = setInterval(() => void this.reload(), intervalMs);
    this.#timer.unref();
  }

  /** Reads the file (throwing if it holds no usable key) and starts re-reading it. */
  static open(path: string, options: PublicKeyFileOptions = {}): PublicKeyFile {
    const intervalMs = options.intervalMs ?? DEFAULT_KEY_RELOAD_INTERVAL_MS;
    if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) throw new RangeError(`the key reload interval must be a positive number of ms, got ${intervalMs}`);
    return new PublicKeyFile(path, readFileSync(path, 'utf8'), options.onEvent ?? (() => {}), intervalMs);
  }

  /** The keys in force. */
  get keys(): readonly KeyObject[] {
    return this.#keys;
  }

  /** Reads the file now; the interval calls it too. Never rejects. */
  reload(): Promise<void> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #read(): Promise<void> {
    let text: string;
    let keys: KeyObject[];
    try {
      text = await readFile(this.path, 'utf8');
      if (text === this.#text) {
        this.#problem = undefined;
        return;
      }
      keys = ed25519PublicKeys(text);
    } catch (err) {
      const problem = (err as Error).message;
      if (problem !== this.#problem) this.onEvent({ event: 'keys_reload_failed', file: this.path, error: problem, keptKeys: this.#keys.length });
      this.#problem = problem;
      return;
    }
    this.#text = text;
    this.#keys = keys;
    this.#problem = undefined;
    this.onEvent({ event: 'keys_reloaded', file: this.path, keys: keys.length });
  }
}
