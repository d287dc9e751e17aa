// The informer bridge: Kubernetes watches (or a fixture file) → the cluster stream on NATS JetStream.
//   schedmesh-informer [--fixture FILE]
import { ConfigError } from '@schedmesh/runtime';
import { startInformerApp } from './app.js';
import { loadInformerConfig } from './config.js';

function fixtureFlag(argv: readonly string[]): string | undefined {
  const i = argv.findIndex((a) => a === '--fixture' || a.startsWith('--fixture='));
  if (i < 0) return undefined;
  const arg = argv[i]!;
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
  if (!value) throw new ConfigError(['--fixture: expected a file path']);
  return value;
}

async function main(): Promise<void> {
  const fixture = fixtureFlag(process.argv.slice(2));
  const env = fixture ? { ...process.env, SCHEDMESH_SOURCE__FIXTURE: fixture } : process.env;
  const config = loadInformerConfig({ env });
  await startInformerApp(config);
}

main().catch((err: unknown) => {
  process.stderr.write(`schedmesh-informer: ${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
