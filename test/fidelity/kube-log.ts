// What kube-scheduler says about a pod, read back: its -v=10 score lines
// (pkg/scheduler/schedule_one.go, prioritizeNodes, v1.36: "Plugin scored node
// for pod" with the weighted score, "Calculated node's final score for pod"),
// and the per-reason node counts of a FailedScheduling message ("0/N nodes are
// available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s).
// preemption: ..."). schedmesh's summary has the same shape and is parsed
// the same way.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** plugin → node → weighted score. */
export type PluginScores = Map<string, Map<string, number>>;

/** What the log said about one pod's scoring. */
export interface LoggedScores {
  readonly plugins: PluginScores;
  /** node → total (sum of the weighted plugin scores). */
  readonly totals: Map<string, number>;
}

// klog text format: I1201 22:40:00.123456   12345 schedule_one.go:982] "Plugin scored node for pod" pod="ns/name" plugin="X" node="n" score=85
const PLUGIN_LINE = /"Plugin scored node for pod" pod="([^"]+)" plugin="([^"]+)" node="([^"]+)" score=(-?\d+)/;
const TOTAL_LINE = /"Calculated node's final score for pod" pod="([^"]+)" node="([^"]+)" score=(-?\d+)/;

// pkg/scheduler/framework/preemption/executor.go (v1.36, SchedulerAsyncPreemption on by default): logged after every victim's deletion call.
const PREEMPTION_FINISHED = '"Async Preemption finished completely" preemptor="';

/** Whether the log says kube-scheduler's asynchronous preemption for `podKey` ("ns/name") is over. */
export function preemptionFinished(text: string, podKey: string): boolean {
  return text.includes(`${PREEMPTION_FINISHED}${podKey}"`);
}

/** Reads a growing log file from where the last read stopped. */
export class LogFollower {
  private offset: number;

  constructor(private readonly path: string) {
    this.offset = statSync(path).size;
  }

  /** The text written since the last call (or since construction). */
  readNew(): string {
    const size = statSync(this.path).size;
    if (size <= this.offset) return '';
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      const read = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += read;
      return buf.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }
}

/** The score lines of `pod` ("namespace/name") in `text`. */
export function parseScoreLines(text: string, pod: string): LoggedScores {
  const plugins: PluginScores = new Map();
  const totals = new Map<string, number>();
  for (const line of text.split('\n')) {
    const p = PLUGIN_LINE.exec(line);
    if (p && p[1] === pod) {
      const [, , plugin = '', node = '', score = '0'] = p;
      let byNode = plugins.get(plugin);
      if (!byNode) plugins.set(plugin, (byNode = new Map<string, number>()));
      byNode.set(node, Number(score));
      continue;
    }
    const t = TOTAL_LINE.exec(line);
    if (t && t[1] === pod) totals.set(t[2] ?? '', Number(t[3]));
  }
  return { plugins, totals };
}

/** A refusal read as numbers: how many nodes, and how many nodes each reason rejected. */
export interface Refusal {
  readonly nodes: number;
  /** reason → node count, e.g. "Insufficient cpu" → 2. */
  readonly reasons: Record<string, number>;
}

const HEAD = /^0\/(\d+) nodes are available(?:: (.*))?$/s;

/**
 * Parses the first sentence of a FailedScheduling message (what the filters
 * said; the preemption sentence after it is left out). Undefined if the
 * message is not of that shape.
 */
export function parseRefusal(message: string): Refusal | undefined {
  const first = message.split(/\.\s+preemption:/)[0]?.trim().replace(/\.$/, '') ?? '';
  const head = HEAD.exec(first);
  if (!head) return undefined;
  const reasons: Record<string, number> = {};
  // "2 Insufficient cpu, 3 node(s) had untolerated taint(s)": a count starts each part.
  for (const part of (head[2] ?? '').split(/, (?=\d+ )/)) {
    const m = /^(\d+) (.+)$/.exec(part.trim());
    if (m) reasons[m[2] ?? ''] = (reasons[m[2] ?? ''] ?? 0) + Number(m[1]);
  }
  return { nodes: Number(head[1]), reasons };
}
