import { freePort } from '../servers.js';

/** Every helper binds here and nowhere else. */
export const LOOPBACK = '127.0.0.1';

export { freePort };

/** `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
