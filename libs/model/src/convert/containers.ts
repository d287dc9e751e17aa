/**
 * Containers and volumes at the edge: what each container requests, and what
 * the containers contribute beyond their requests (images, host ports, which
 * volumes some container mounts read-write), gathered in one pass.
 */
import { Protocol } from '@schedmesh/proto/v1/types';
import type { HostPort, Volume } from '@schedmesh/proto/v1/types';
import { FieldIssue, isObject, optArray, optBool, optInt, optObject, optString, reqObject, reqString, within } from '../fields.js';
import type { JsonObject } from '../fields.js';
import type { ResourceAmounts } from '../resources.js';
import { NO_AMOUNTS, resourceAmounts } from './quantities.js';
import { enumOf } from './values.js';

const PROTOCOLS: ReadonlyMap<string, Protocol> = new Map([
  ['', Protocol.PROTOCOL_TCP],
  ['TCP', Protocol.PROTOCOL_TCP],
  ['UDP', Protocol.PROTOCOL_UDP],
  ['SCTP', Protocol.PROTOCOL_SCTP],
]);

/** What the containers of a pod contribute beyond their requests, gathered in one pass. */
export interface ContainerScan {
  readonly images: string[];
  readonly hostPorts: HostPort[];
  /** Volumes some container mounts read-write (or as a block device). */
  readWrite: Set<string> | undefined;
}

function hostPortOf(v: unknown, scan: ContainerScan): void {
  const p = reqObject(v, '');
  const port = optInt(p.hostPort, 'hostPort', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (port === undefined || port === 0) return;
  if (port < 1 || port > 65535) throw new FieldIssue('hostPort', 'must be between 1 and 65535, inclusive');
  scan.hostPorts.push({
    port,
    protocol: enumOf(p.protocol, 'protocol', PROTOCOLS, '"SCTP", "TCP", "UDP"'),
    hostIp: optString(p.hostIP, 'hostIP'),
  });
}

function markReadWrite(scan: ContainerScan, name: string): void {
  (scan.readWrite ??= new Set()).add(name);
}

export function mountsOf(c: JsonObject, scan: ContainerScan): void {
  const mounts = optArray(c.volumeMounts, 'volumeMounts');
  for (let i = 0; i < mounts.length; i++) {
    try {
      const m = reqObject(mounts[i], '');
      const name = reqString(m.name, 'name');
      if (!optBool(m.readOnly, 'readOnly')) markReadWrite(scan, name);
    } catch (err) {
      throw within(err, `volumeMounts[${i}]`);
    }
  }
  const devices = optArray(c.volumeDevices, 'volumeDevices');
  for (let i = 0; i < devices.length; i++) {
    try {
      markReadWrite(scan, reqString(reqObject(devices[i], '').name, 'name'));
    } catch (err) {
      throw within(err, `volumeDevices[${i}]`);
    }
  }
}

/** Reads one container: its image, host ports and mounts into scan; returns its requests. */
export function containerOf(v: unknown, scan: ContainerScan): ResourceAmounts {
  const c = reqObject(v, '');
  const image = optString(c.image, 'image');
  if (image !== '') scan.images.push(image);
  const ports = optArray(c.ports, 'ports');
  for (let i = 0; i < ports.length; i++) {
    try {
      hostPortOf(ports[i], scan);
    } catch (err) {
      throw within(err, `ports[${i}]`);
    }
  }
  mountsOf(c, scan);
  const resources = optObject(c.resources, 'resources');
  return resources === undefined ? NO_AMOUNTS : resourceAmounts(resources.requests, 'resources.requests');
}

export function volumeOf(v: unknown, readWrite: Set<string> | undefined): Volume {
  const o = reqObject(v, '');
  const name = reqString(o.name, 'name');
  let source: Volume['source'];
  let readOnlySource = false;
  if (o.hostPath != null) {
    const hostPath = reqObject(o.hostPath, 'hostPath');
    source = { $case: 'hostPath', value: { path: reqString(hostPath.path, 'hostPath.path'), type: optString(hostPath.type, 'hostPath.type') } };
  } else if (o.persistentVolumeClaim != null) {
    const claim = reqObject(o.persistentVolumeClaim, 'persistentVolumeClaim');
    source = { $case: 'persistentVolumeClaim', value: { claimName: reqString(claim.claimName, 'persistentVolumeClaim.claimName') } };
    // A read-only claim is mounted read-only whatever the mounts say.
    readOnlySource = optBool(claim.readOnly, 'persistentVolumeClaim.readOnly');
  } else {
    for (const key in o) {
      if (key !== 'name' && isObject(o[key])) {
        source = { $case: 'other', value: key };
        break;
      }
    }
  }
  return { name, source, readOnly: readOnlySource || readWrite === undefined || !readWrite.has(name) };
}
