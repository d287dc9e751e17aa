import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';

/** Parent of the helpers' temporary directories: /dev/shm when writable (etcd on tmpfs), else os.tmpdir(). */
export function defaultBaseDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}
