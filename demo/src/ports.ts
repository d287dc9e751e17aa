// A port the user asked for must be free before anything starts: the demo
// names it and exits instead of failing half-way through start-up.
import { createServer } from 'node:net';

import { LOOPBACK } from '@schedmesh/testkit';

/** The port the user asked for is taken. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly what: string,
  ) {
    super(`port ${port} (${what}) is in use on ${LOOPBACK}: free it or pick another port`);
  }
}

/** Resolves if `port` can be bound on loopback now; rejects with PortInUseError if not. */
export function ensurePortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, what) : err));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
