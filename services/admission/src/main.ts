// The admission service: AdmissionPolicy objects from the cluster stream →
// Admit decisions at PreFilter, served over gRPC.
import { ConfigError } from '@schedmesh/runtime';
import { startAdmissionApp } from './app.js';
import { loadAdmissionConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadAdmissionConfig();
  await startAdmissionApp(config);
}

main().catch((err: unknown) => {
  process.stderr.write(`schedmesh-admission: ${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
