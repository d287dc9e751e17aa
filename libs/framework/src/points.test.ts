import { describe, expect, test } from '@jest/globals';
import { ExtensionPoint as ProtoExtensionPoint } from '@schedmesh/proto/v1/types';
import { EXTENSION_POINTS } from './interfaces.js';
import { extensionPointFromProto, extensionPointToProto, WIRE_EXTENSION_POINTS } from './points.js';

describe('extension points ↔ proto ExtensionPoint', () => {
  test.each(WIRE_EXTENSION_POINTS.map((p) => [p]))('%s round-trips', (point) => {
    expect(extensionPointFromProto(extensionPointToProto(point))).toBe(point);
  });

  test('the wire points are every point but queueSort, in cycle order', () => {
    expect(WIRE_EXTENSION_POINTS).toEqual(EXTENSION_POINTS.filter((p) => p !== 'queueSort'));
  });

  test('every proto value but UNSPECIFIED names a point, each a different one', () => {
    const values = Object.values(ProtoExtensionPoint).filter((v): v is ProtoExtensionPoint => typeof v === 'number' && v !== ProtoExtensionPoint.EXTENSION_POINT_UNSPECIFIED && v !== ProtoExtensionPoint.UNRECOGNIZED);
    const points = values.map((v) => extensionPointFromProto(v));
    expect(points.every((p) => p !== undefined)).toBe(true);
    expect(new Set(points).size).toBe(values.length);
    expect(values).toHaveLength(WIRE_EXTENSION_POINTS.length);
  });

  test.each([ProtoExtensionPoint.EXTENSION_POINT_UNSPECIFIED, 99 as ProtoExtensionPoint])('%s names no point', (value) => {
    expect(extensionPointFromProto(value)).toBeUndefined();
  });
});
