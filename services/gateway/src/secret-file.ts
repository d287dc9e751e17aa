import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';

/** The default directories plugin secret and TLS files may be read from. */
export const DEFAULT_SECRET_ROOTS: readonly string[] = ['/var/run/secrets', '/etc/schedmesh'];

/** The largest secret or TLS file read (a CA bundle fits comfortably). */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** A secret file that may not or cannot be read; `reason` says why, without its content. */
export class SecretFileError extends Error {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.reason = reason;
  }
}

/**
 * Reads a secret or TLS file named by a plugin configuration — which may come
 * from a ConfigMap — without letting it choose what the gateway reads or
 * stall it (M6): the path, with symlinks resolved, must lie under one of
 * `roots`; it must be a regular file (a FIFO or a device is refused before
 * any read: it is opened non-blocking and checked with fstat) of at most
 * `maxBytes`; and it is read asynchronously, off the event loop.
 */
export async function readSecretFile(path: string, roots: readonly string[], maxBytes: number = MAX_SECRET_FILE_BYTES): Promise<Buffer> {
  if (!isAbsolute(path)) throw new SecretFileError(`${path} is not an absolute path`);
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new SecretFileError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => resolve(root))));
  if (!realRoots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`))) {
    throw new SecretFileError(`${path} is outside gateway.secretRoots (${roots.join(', ')})`);
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new SecretFileError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new SecretFileError(`${path} is not a regular file`);
    if (stat.size > maxBytes) throw new SecretFileError(`${path} is larger than ${maxBytes} bytes`);
    // Read at most one byte past the cap, so a file that grew since fstat is refused, not read without bound.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes) throw new SecretFileError(`${path} is larger than ${maxBytes} bytes`);
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
