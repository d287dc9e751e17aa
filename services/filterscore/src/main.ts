// The filterscore service: the scheduling framework's Filter/Score over a
// local replica of the snapshot, served over gRPC.
import { ConfigError } from '@schedmesh/runtime';
import { startFilterScoreApp } from './app.js';
import { loadFilterScoreConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadFilterScoreConfig();
  await startFilterScoreApp(config);
}

main().catch((err: unknown) => {
  process.stderr.write(`schedmesh-filterscore: ${err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(1);
});
