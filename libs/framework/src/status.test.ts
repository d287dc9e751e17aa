import { describe, expect, test } from '@jest/globals';
import { Code } from '@schedmesh/proto/v1/types';
import { Status, StatusCode } from './status.js';

describe('Status on the wire', () => {
  test.each<[string, Status]>([
    ['success', Status.SUCCESS],
    ['skip', Status.SKIP],
    ['unschedulable with reasons and a plugin', Status.unschedulable('Insufficient cpu', 'Too many pods').withPlugin('NodeResourcesFit')],
    ['unresolvable', Status.unresolvable("node(s) didn't match Pod's node affinity/selector").withPlugin('NodeAffinity')],
    ['wait', Status.of(StatusCode.Wait, 'waiting for 2 more members of the gang')],
    ['pending', Status.of(StatusCode.Pending)],
    ['error', Status.error(new Error('redis: connection refused')).withPlugin('Reservation')],
  ])('%s round-trips through toProto/fromProto', (_name, status) => {
    const wire = status.toProto();
    const back = Status.fromProto(wire.code, wire.reasons, wire.plugin);
    expect(back.code).toBe(status.code);
    expect(back.reasons).toEqual(status.reasons);
    expect(back.plugin).toBe(status.plugin);
    expect(back.toString()).toBe(status.toString());
  });

  test('bare Success and Skip come back as the shared constants', () => {
    expect(Status.fromProto(Code.CODE_SUCCESS)).toBe(Status.SUCCESS);
    expect(Status.fromProto(Code.CODE_SKIP, [])).toBe(Status.SKIP);
  });

  test.each<[string, Code]>([
    ['UNSPECIFIED (an unset field)', Code.CODE_UNSPECIFIED],
    ['a code this build does not know', 42 as Code],
    ['UNRECOGNIZED', Code.UNRECOGNIZED],
  ])('%s is an Error, never a rejection', (_name, code) => {
    const s = Status.fromProto(code, ['late reply'], 'gateway');
    expect(s.isError()).toBe(true);
    expect(s.isRejected()).toBe(false);
    expect(s.reasons).toEqual([`invalid status code ${code}`, 'late reply']);
    expect(s.plugin).toBe('gateway');
  });

  test('the reasons are copied, not shared with the message', () => {
    const reasons = ['Insufficient memory'];
    const s = Status.fromProto(Code.CODE_UNSCHEDULABLE, reasons);
    reasons.push('mutated');
    expect(s.reasons).toEqual(['Insufficient memory']);
  });
});
