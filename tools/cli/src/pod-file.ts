/**
 * A pod manifest for a dry run: one YAML or JSON document, a v1 Pod as
 * kubectl would accept it, converted with the mesh's edge conversion (the
 * informer's), so the scheduler sees exactly what it would see for the real
 * pod. What `kubectl create` fills in is filled in here: the namespace
 * (default) and a uid (the dry run's own).
 */
import { randomUUID } from 'node:crypto';
import { convertPod, EdgeError } from '@schedmesh/model';
import type { Pod } from '@schedmesh/proto/v1/types';
import { parseAllDocuments } from 'yaml';
import { CliError } from './exit.js';

/** The pod in `text`, read from `source` (a file name, or "stdin"). */
export function podFromManifest(text: string, source: string): Pod {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw CliError.usage(`${source}: not a YAML or JSON document`);
  const errors = docs.flatMap((d) => d.errors);
  if (errors.length > 0) throw CliError.usage(`${source}: not valid YAML or JSON: ${errors[0]!.message}`);
  const objects = docs.map((d) => d.toJS() as unknown).filter((o) => o !== null && o !== undefined);
  if (objects.length !== 1) throw CliError.usage(`${source}: expected one Pod, found ${objects.length} documents`);
  const obj = objects[0];
  if (typeof obj !== 'object' || Array.isArray(obj)) throw CliError.usage(`${source}: expected a Pod object, got ${Array.isArray(obj) ? 'a list' : typeof obj}`);
  const manifest = obj as { kind?: unknown; apiVersion?: unknown; metadata?: Record<string, unknown> };
  if (manifest.kind !== undefined && manifest.kind !== 'Pod') throw CliError.usage(`${source}: kind: expected Pod, got ${JSON.stringify(manifest.kind)}`);
  if (manifest.apiVersion !== undefined && manifest.apiVersion !== 'v1') throw CliError.usage(`${source}: apiVersion: expected v1, got ${JSON.stringify(manifest.apiVersion)}`);
  const metadata = typeof manifest.metadata === 'object' && manifest.metadata !== null ? manifest.metadata : {};
  if (typeof metadata.name !== 'string' || metadata.name === '') throw CliError.usage(`${source}: metadata.name: required`);
  const filled = { ...manifest, metadata: { namespace: 'default', uid: `dry-run-${randomUUID()}`, ...metadata } };
  try {
    return convertPod(filled);
  } catch (err) {
    if (err instanceof EdgeError) throw CliError.usage(`${source}: ${err.message}`, { cause: err });
    throw err;
  }
}
