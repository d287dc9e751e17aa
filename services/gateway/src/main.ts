import { startGatewayService } from './app.js';
import { loadGatewayConfig } from './config.js';

// Composes only: configuration, then the service (see app.ts).
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  await startGatewayService(config);
}

main().catch((err: unknown) => {
  process.stderr.write(`schedmesh-gateway: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
