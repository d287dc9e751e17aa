import { createServer } from 'node:net';

/** Every helper binds here and nowhere else. */
export const LOOPBACK = '127.0.0.1';

// Ports handed out by this process; the kernel may offer a just-closed port
// again before the child that was given it has bound it.
const handedOut = new Set<number>();

function bindZero(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (found by binding port 0). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindZero();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: the kernel keeps offering ports already handed out');
}

/** `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
