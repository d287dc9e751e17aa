import { parseAllDocuments } from 'yaml';
import { objectKey } from '@schedmesh/model';
import { ConfigError, readConfigFile } from '@schedmesh/runtime';
import type { ClusterPublisher, WatchedKind } from './publisher.js';

const order: WatchedKind[] = ['Namespace', 'Node', 'Pod', 'PodDisruptionBudget', 'PodGroup', 'Service', 'ReplicaSet', 'StatefulSet', 'ReplicationController', 'AdmissionPolicy', 'ConfigMap'];

/** The objects of a fixture file, by kind, in file order. */
export type Fixture = Map<WatchedKind, unknown[]>;

/**
 * Reads a YAML cluster: Kubernetes objects (as kubectl would apply them),
 * several per file separated by `---`, or `kind: List` documents with items.
 * Objects of other kinds are a ConfigError naming the document: the fixture
 * is configuration, and start-up fails on it.
 */
export function readFixture(path: string): Fixture {
  const text = readConfigFile(path, 'source.fixture');
  const fixture: Fixture = new Map(order.map((k) => [k, []]));
  parseAllDocuments(text).forEach((doc, index) => {
    if (doc.errors.length > 0) throw new ConfigError([`source.fixture[${index}]: invalid YAML (${doc.errors[0]!.message}) (in ${path})`]);
    const value: unknown = doc.toJS();
    if (value == null) return;
    const items = (value as { kind?: unknown }).kind === 'List' ? ((value as { items?: unknown[] }).items ?? []) : [value];
    items.forEach((item, i) => {
      const kind = (item as { kind?: unknown } | null)?.kind;
      const where = (value as { kind?: unknown }).kind === 'List' ? `source.fixture[${index}].items[${i}]` : `source.fixture[${index}]`;
      if (typeof kind !== 'string' || !fixture.has(kind as WatchedKind)) {
        throw new ConfigError([`${where}.kind: expected one of ${order.join(', ')}, got ${JSON.stringify(kind)} (in ${path})`]);
      }
      fixture.get(kind as WatchedKind)!.push(item);
    });
  });
  return fixture;
}

function keyOf(obj: unknown): string {
  const m = (obj as { metadata?: { name?: unknown; namespace?: unknown } }).metadata ?? {};
  return objectKey(typeof m.namespace === 'string' ? m.namespace : '', typeof m.name === 'string' ? m.name : '');
}

/**
 * Publishes a fixture as if it had been listed from Kubernetes: every object
 * as an UPSERT (malformed ones are rejected at the edge like watched ones),
 * then deletions for what the stream holds but the fixture does not.
 */
export async function publishFixture(
  fixture: Fixture,
  publisher: ClusterPublisher,
  reconcile: (kind: WatchedKind, keys: Set<string>, listVersion: string) => Promise<void>,
): Promise<{ published: number; rejected: number }> {
  let published = 0;
  let rejected = 0;
  for (const kind of order) {
    const objects = fixture.get(kind) ?? [];
    for (const obj of objects) {
      if (await publisher.upsert(kind, obj)) published++;
      else rejected++;
    }
    await reconcile(kind, new Set(objects.map(keyOf)), '');
  }
  return { published, rejected };
}
