#!/usr/bin/env node
// The reservation service's entry point: configuration, then composition (app.ts).
import { loadConfig } from '@schedmesh/runtime';
import { startReservation } from './app.js';
import { reservationConfigSchema } from './config.js';

async function main(): Promise<void> {
  await startReservation(loadConfig(reservationConfigSchema));
}

main().catch((err: unknown) => {
  process.stderr.write(`schedmesh-reservation: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
