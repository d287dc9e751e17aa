// The snapshot service: the cluster stream → NodeInfo, served over gRPC.
import { ConfigError } from '@schedmesh/runtime';
import { startSnapshotApp } from './app.js';
import { loadSnapshotConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadSnapshotConfig();
  await startSnapshotApp(config);
}

main().catch((err: unknown) => {
  process.stderr.write(`schedmesh-snapshot: ${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
