// What end-to-end tests check on a real apiserver after scheduling: each
// pod's Bindings, from the apiserver's audit log (bindingsAuditArgs turns it
// on for pods/binding only), and nodes whose bound pods' requests exceed
// their allocatable.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { milliValue, value } from '@schedmesh/model';

/** Only Bindings: one line per POST pods/binding, with its response code. */
const AUDIT_POLICY =
  'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n  resources:\n  - group: ""\n    resources: ["pods/binding"]\n- level: None\n';

/** kube-apiserver arguments that log every Binding to `<dir>/audit.log` (policy in `dir`), and that path. */
export function bindingsAuditArgs(dir: string): { args: string[]; auditLog: string } {
  const policy = join(dir, 'audit-policy.yaml');
  const auditLog = join(dir, 'audit.log');
  writeFileSync(policy, AUDIT_POLICY);
  return { args: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, '--audit-log-format=json', '--audit-log-mode=blocking'], auditLog };
}

/** One pod's POST pods/<name>/binding requests. */
export interface PodBindings {
  /** Answered 2xx. */
  created: number;
  /** Refused (a replica that lost a race gets 409). */
  refused: number;
  /** When the first successful one completed (ms since the epoch), +Infinity if none did. */
  firstAt: number;
}

/** Successful and refused POST pods/<name>/binding per pod of `namespace`, from the apiserver's audit log. */
export function bindingsFromAudit(auditLog: string, namespace: string): Map<string, PodBindings> {
  const out = new Map<string, PodBindings>();
  for (const line of readFileSync(auditLog, 'utf8').split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line) as {
      stage?: string;
      verb?: string;
      objectRef?: { namespace?: string; name?: string; subresource?: string };
      responseStatus?: { code?: number };
      stageTimestamp?: string;
    };
    if (e.stage !== 'ResponseComplete' || e.verb !== 'create' || e.objectRef?.subresource !== 'binding' || e.objectRef.namespace !== namespace) continue;
    const name = e.objectRef.name!;
    const b = out.get(name) ?? { created: 0, refused: 0, firstAt: Number.POSITIVE_INFINITY };
    const code = e.responseStatus?.code ?? 0;
    if (code >= 200 && code < 300) {
      b.created++;
      b.firstAt = Math.min(b.firstAt, Date.parse(e.stageTimestamp ?? ''));
    } else b.refused++;
    out.set(name, b);
  }
  return out;
}

/** Requests bound to each node, against its allocatable: one line per node over it. */
export function overcommitted(pods: readonly V1Pod[], nodes: readonly V1Node[]): string[] {
  const byName = new Map(nodes.map((n) => [n.metadata!.name!, n]));
  const used = new Map<string, { cpu: number; memory: number; pods: number }>();
  for (const p of pods) {
    if (!p.spec?.nodeName) continue;
    const u = used.get(p.spec.nodeName) ?? { cpu: 0, memory: 0, pods: 0 };
    for (const c of p.spec.containers) {
      const req = c.resources?.requests ?? {};
      u.cpu += req['cpu'] ? milliValue(req['cpu']) : 0;
      u.memory += req['memory'] ? value(req['memory']) : 0;
    }
    u.pods += 1;
    used.set(p.spec.nodeName, u);
  }
  const over: string[] = [];
  for (const [name, u] of used) {
    const alloc = byName.get(name)?.status?.allocatable;
    if (!alloc) {
      over.push(`${name}: not a node`);
      continue;
    }
    if (u.cpu > milliValue(alloc['cpu']!) || u.memory > value(alloc['memory']!) || u.pods > Number(alloc['pods'])) {
      over.push(`${name}: ${u.cpu}m cpu, ${u.memory} B, ${u.pods} pods over ${alloc['cpu']} cpu, ${alloc['memory']}, ${alloc['pods']} pods`);
    }
  }
  return over;
}
