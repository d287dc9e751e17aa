// Profiling on demand over the HTTP endpoints, in a forked process: off by
// default (404 saying how to turn it on), a CPU profile of the asked length, one
// at a time (409), bad lengths refused (400), a heap snapshot streamed.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { profileSeconds } from './profiling.js';

const children: ChildProcess[] = [];

async function worker(profiling: 'on' | 'off'): Promise<string> {
  const child = fork(join(__dirname, 'testing', 'profiling-worker.ts'), [profiling], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`profiling worker exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('profileSeconds', () => {
  test.each([
    [null, 10],
    ['', 10],
    ['1', 1],
    ['300', 300],
  ])('%p → %p', (raw, seconds) => expect(profileSeconds(raw)).toBe(seconds));

  test.each(['0', '301', '1.5', 'ten', '-3'])('%p is refused naming the field', (raw) => {
    expect(() => profileSeconds(raw)).toThrow(/seconds: must be a whole number from 1 to 300/);
  });
});

describe('/debug/pprof over HTTP', () => {
  test('off unless enabled, and says how to enable it', async () => {
    const base = await worker('off');
    const res = await fetch(`${base}/debug/pprof/heap`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/SCHEDMESH_HTTP__PROFILING=true/);
  }, 30_000);

  test('a CPU profile of the asked length, one at a time; bad input is a 400; a heap snapshot streams', async () => {
    const base = await worker('on');
    expect((await fetch(`${base}/debug/pprof/profile?seconds=0`)).status).toBe(400);

    // Two at once: one records for 2 s, the other is refused while it does (whichever arrives second).
    const both = await Promise.all([fetch(`${base}/debug/pprof/profile?seconds=2`), fetch(`${base}/debug/pprof/profile?seconds=2`)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    const res = both.find((r) => r.status === 200)!;
    expect(res.headers.get('content-disposition')).toMatch(/\.cpuprofile"$/);
    const profile = (await res.json()) as { nodes: { callFrame: { functionName: string } }[]; startTime: number; endTime: number };
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(1_900_000); // microseconds
    expect(profile.nodes.map((n) => n.callFrame.functionName)).toContain('busyWorkForTheProfiler');

    const heap = await fetch(`${base}/debug/pprof/heap`);
    expect(heap.status).toBe(200);
    const text = await heap.text();
    expect(text.startsWith('{"snapshot":')).toBe(true);
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  }, 60_000);
});
