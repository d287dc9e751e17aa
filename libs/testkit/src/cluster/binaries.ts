import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { ClusterBinaryMissingError } from './errors.js';

/** The binaries test/cluster/build.sh produces. */
export type ClusterBinary = 'etcd' | 'kube-apiserver' | 'kube-scheduler' | 'kubectl' | 'jaeger';

/** Environment variable that points the helpers at another bin directory. */
export const CLUSTER_BIN_ENV = 'SCHEDMESH_CLUSTER_BIN';

const MARKER = join('test', 'cluster', 'versions.env');

/**
 * The directory holding the built binaries: $SCHEDMESH_CLUSTER_BIN, else
 * test/cluster/bin of the repository this file (or the working directory) is in.
 */
export function clusterBinDir(): string {
  const fromEnv = process.env[CLUSTER_BIN_ENV];
  if (fromEnv) return resolve(fromEnv);
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, MARKER))) return join(dir, 'test', 'cluster', 'bin');
      if (dirname(dir) === dir) break;
    }
  }
  return resolve('test', 'cluster', 'bin');
}

/** The path of a built binary; throws ClusterBinaryMissingError (naming the build command) if it is not there. */
export function requireBinary(binary: ClusterBinary, binDir: string = clusterBinDir()): string {
  const path = join(binDir, binary);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new ClusterBinaryMissingError(binary, path);
  }
  return path;
}
