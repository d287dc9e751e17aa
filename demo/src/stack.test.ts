import { describe, expect, test } from '@jest/globals';

import { StackHandles } from './stack.js';

describe('StackHandles', () => {
  test('stops in reverse order of start, once, even when a stop fails', async () => {
    const handles = new StackHandles();
    const order: string[] = [];
    handles.add(async () => void order.push('nats'));
    handles.add(async () => {
      order.push('apiserver');
      throw new Error('already gone');
    });
    handles.add(async () => void order.push('scheduler'));
    await Promise.all([handles.stop(), handles.stop()]);
    await handles.stop();
    expect(order).toEqual(['scheduler', 'apiserver', 'nats']);
  });

  test('what starts while stopping (a signal during start-up) is stopped too', async () => {
    const handles = new StackHandles();
    const stopped: string[] = [];
    handles.add(async () => void stopped.push('first'));
    const stopping = handles.stop();
    const lateStopped = new Promise<void>((resolve) =>
      handles.add(async () => {
        stopped.push('late');
        resolve();
      }),
    );
    await stopping;
    await lateStopped;
    expect(stopped).toEqual(['first', 'late']);
  });
});
