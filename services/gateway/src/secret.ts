import { inspect } from 'node:util';

/**
 * Secret material (an HMAC key, a JWT signing key) read from a file or the
 * environment. It prints as "[redacted]" wherever it ends up — a log line,
 * JSON, util.inspect — so a logged config object can never leak it; only
 * {@link Secret.reveal} gives the bytes.
 */
export class Secret {
  readonly #value: Buffer;

  constructor(value: Buffer) {
    this.#value = value;
  }

  /** The secret bytes. */
  reveal(): Buffer {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
