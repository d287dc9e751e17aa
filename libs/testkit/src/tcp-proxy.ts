import { createServer, connect as tcpConnect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/** A loopback TCP proxy whose target can be switched. */
export interface TcpProxy {
  /** The proxy's own loopback port: clients connect here. */
  readonly port: number;
  /** Sends new connections to `port` and drops the open ones, as a failover does. */
  switchTo(port: number): void;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free loopback port to `targetPort`: one address
 * for a server that fails over to another (a Sentinel-aware proxy, a Service
 * re-pointed).
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    switchTo(port) {
      target = port;
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
