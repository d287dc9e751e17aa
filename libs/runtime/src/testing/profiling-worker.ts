// A process with the HTTP endpoints and profiling on, forked by
// profiling.test.ts so a heap snapshot is of a small process, not of jest.
import { Registry } from 'prom-client';
import { startHttpEndpoints } from '../metrics.js';

// Busy work, so a CPU profile has samples of this function.
function busyWorkForTheProfiler(): void {
  let x = 0;
  for (let i = 0; i < 200_000; i++) x += Math.sqrt(i);
  if (x < 0) process.stdout.write('never');
  setImmediate(busyWorkForTheProfiler);
}

void (async () => {
  const endpoints = await startHttpEndpoints({ registry: new Registry(), port: 0, host: '127.0.0.1', profiling: process.argv[2] === 'on' });
  process.send?.({ port: endpoints.port });
  setImmediate(busyWorkForTheProfiler);
})();
