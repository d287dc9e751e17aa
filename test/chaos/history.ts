// The history a fault test records and then checks, Jepsen-style: samples of
// every node's use as the apiserver (bound pods' requests) and the
// reservation ledger (bound + leased) see it, taken periodically and at each
// fault; the faults with their moments and recovery; written as JSON so a
// failed run can be read afterwards.
import { writeFileSync } from 'node:fs';

import type { CoreV1Api, V1Node, V1Pod } from '@kubernetes/client-node';
import type { GetLedgerResponse } from '@schedmesh/proto/v1/reservation';
import type { Resources } from '@schedmesh/proto/v1/types';

import { overcommitted } from '../e2e/bindings-audit';

/** One look at the cluster: what each side said, and every node over its allocatable by that side's view. */
export interface Sample {
  /** ms since the test started. */
  readonly at: number;
  /** "periodic", or the fault it was taken before. */
  readonly trigger: string;
  /** Bound pods (apiserver), or why the apiserver could not be read. */
  readonly bound: number | string;
  /** Nodes whose bound pods' requests exceed allocatable (apiserver). */
  readonly apiserverOver: readonly string[];
  /** Nodes whose bound + leased exceed allocatable (ledger). */
  readonly ledgerOver: readonly string[];
  /** CPU held by live leases over all nodes, in millicores, or why the ledger could not be read. */
  readonly leasedMilliCpu: number | string;
}

/** One injected fault. */
export interface FaultRecord {
  readonly fault: string;
  /** ms since the test started. */
  readonly at: number;
  /** Pods bound when it was injected. */
  readonly boundAt: number;
  /** Pods created but not yet bound when it was injected. */
  readonly unboundAt: number;
  /** ms from the fault to both views readable and every created pod that fits bound; undefined if that never came. */
  recoveryMs?: number;
  /** What was seen (e.g. the apiserver refusing an object). */
  note?: string;
}

/** Reads a node's ledger (reservation's GetLedger). */
export type LedgerReader = (nodeName: string) => Promise<GetLedgerResponse>;

/** Where a sample reads from. */
export interface SampleSources {
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly nodeSelector: string;
  readonly ledger: LedgerReader;
}

function exceeds(used: Resources | undefined, alloc: Resources | undefined): boolean {
  if (!used || !alloc) return false;
  return used.milliCpu > alloc.milliCpu || used.memory > alloc.memory || used.pods > alloc.pods;
}

const sum = (a: Resources | undefined, b: Resources | undefined): Resources => ({
  milliCpu: (a?.milliCpu ?? 0) + (b?.milliCpu ?? 0),
  memory: (a?.memory ?? 0) + (b?.memory ?? 0),
  ephemeralStorage: (a?.ephemeralStorage ?? 0) + (b?.ephemeralStorage ?? 0),
  pods: (a?.pods ?? 0) + (b?.pods ?? 0),
  scalar: {},
});

/**
 * How many GetLedger calls a sample has in flight. One at a time, a sample of
 * 188 nodes took 21 s at the median (130 s at worst) on the loaded machine, so
 * the samples were 7× sparser than SAMPLE_MS asked and each spanned seconds of
 * changes; a recovery also waited for such a sample.
 */
const LEDGER_READS_IN_FLIGHT = 16;

/** Every node's ledger, `LEDGER_READS_IN_FLIGHT` calls at a time; rejects with the first failure. */
async function readAll(names: readonly string[], ledger: LedgerReader): Promise<GetLedgerResponse[]> {
  const out = new Array<GetLedgerResponse>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      out[i] = await ledger(names[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LEDGER_READS_IN_FLIGHT, names.length) }, worker));
  return out;
}

const reason = (err: unknown): string => `unavailable: ${(err as Error).message.split('\n')[0]}`;

/** The record of one run. */
export class History {
  private readonly started = Date.now();
  readonly samples: Sample[] = [];
  readonly faults: FaultRecord[] = [];
  private nodes: V1Node[] = [];

  constructor(private readonly sources: SampleSources) {}

  /** ms since the run started. */
  now(): number {
    return Date.now() - this.started;
  }

  /** Takes a sample; a side that cannot be read (it is down) is recorded as such, never as a violation. */
  async sample(trigger: string): Promise<Sample> {
    const { core, namespace, nodeSelector, ledger } = this.sources;
    const at = this.now();
    let bound: number | string;
    let apiserverOver: string[] = [];
    try {
      this.nodes = (await core.listNode({ labelSelector: nodeSelector })).items;
      const pods: V1Pod[] = (await core.listNamespacedPod({ namespace })).items;
      bound = pods.filter((p) => p.spec?.nodeName).length;
      apiserverOver = overcommitted(pods, this.nodes);
    } catch (err) {
      bound = reason(err);
    }
    let leasedMilliCpu: number | string = 0;
    const ledgerOver: string[] = [];
    try {
      const names = this.nodes.map((node) => node.metadata!.name!);
      const ledgers = await readAll(names, ledger);
      for (const [i, name] of names.entries()) {
        const l = ledgers[i]!;
        leasedMilliCpu += l.leased?.milliCpu ?? 0;
        const used = sum(l.bound, l.leased);
        if (exceeds(used, l.allocatable)) ledgerOver.push(`${name}: bound+leased ${used.milliCpu}m cpu, ${used.pods} pods over ${l.allocatable!.milliCpu}m, ${l.allocatable!.pods} pods`);
      }
    } catch (err) {
      leasedMilliCpu = reason(err);
    }
    const sample = { at, trigger, bound, apiserverOver, ledgerOver, leasedMilliCpu };
    this.samples.push(sample);
    return sample;
  }

  /** Every violation any sample saw, by side. */
  violations(): { apiserver: string[]; ledger: string[] } {
    return {
      apiserver: this.samples.flatMap((s) => s.apiserverOver.map((o) => `${s.at} ms (${s.trigger}): ${o}`)),
      ledger: this.samples.flatMap((s) => s.ledgerOver.map((o) => `${s.at} ms (${s.trigger}): ${o}`)),
    };
  }

  /** Writes the history, with `extra` (the final checks' inputs), as JSON. */
  write(path: string, extra: Record<string, unknown>): void {
    writeFileSync(path, JSON.stringify({ ...extra, faults: this.faults, samples: this.samples }, null, 1));
  }
}
