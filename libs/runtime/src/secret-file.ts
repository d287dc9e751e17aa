import { readFileSync } from 'node:fs';

/**
 * The bytes a secret file holds (a mounted Secret), read now, so a rotated
 * file applies at the next read. A file that cannot be read is an error
 * naming the configuration key, the path and the reason, never the content.
 */
export function readSecretBytes(file: string, key: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** {@link readSecretBytes} as text, trimmed of surrounding whitespace (a token, a password). */
export function readSecretText(file: string, key: string): string {
  return new TextDecoder().decode(readSecretBytes(file, key)).trim();
}
