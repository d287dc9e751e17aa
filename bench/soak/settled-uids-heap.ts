// What the scheduler's settled-uid memory (scheduler.settledMemory) holds
// when full: the heap retained by a Set of 100,000 pod uids, each a fresh
// 36-character string decoded from bytes as the protobuf decoder makes it.
// Run: node --expose-gc --import tsx bench/soak/settled-uids-heap.ts
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { TextDecoder } from 'node:util';

const COUNT = 100_000;

async function main(): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  const raw = Buffer.from(Array.from({ length: COUNT }, () => randomUUID()).join(''));
  const decoder = new TextDecoder();
  // A tick between building and measuring lets the collector free the temporaries.
  await delay(100);
  for (let i = 0; i < 3; i++) collect();
  const before = process.memoryUsage().heapUsed;
  const settled = new Set<string>();
  for (let i = 0; i < COUNT; i++) settled.add(decoder.decode(raw.subarray(i * 36, i * 36 + 36)));
  await delay(100);
  for (let i = 0; i < 3; i++) collect();
  const retained = process.memoryUsage().heapUsed - before;
  process.stdout.write(`${settled.size} settled uids: ${(retained / 2 ** 20).toFixed(1)} MiB of heap, ${(retained / COUNT).toFixed(0)} bytes each\n`);
}

void main();
