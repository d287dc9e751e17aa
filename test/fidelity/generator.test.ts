// The generator: a seed names its cases, and the cases are what the
// runner needs (the pending pod gated, bound pods on the case's nodes).
import { expect, test } from '@jest/globals';
import { CASE_GATE } from './case.js';
import { generateCase, generateCases } from './generator.js';
import { isPreemptionCase } from './preemption-generator.js';

const SMALL = { minNodes: 5, maxNodes: 30 };

test('the same seed gives the same cases; another seed, other cases', () => {
  expect(generateCases(7, 5, SMALL)).toEqual(generateCases(7, 5, SMALL));
  expect(JSON.stringify(generateCases(8, 5, SMALL))).not.toBe(JSON.stringify(generateCases(7, 5, SMALL)).replace(/s7-/g, 's8-'));
});

test('a case does not depend on the cases before it', () => {
  expect(generateCases(3, 10, SMALL)[9]).toEqual(generateCase(3, 9, SMALL));
});

test('cases keep to the node range, gate the pending pod and bind the others to their nodes', () => {
  for (const c of generateCases(11, 40, SMALL)) {
    expect(c.nodes.length).toBeGreaterThanOrEqual(5);
    expect(c.nodes.length).toBeLessThanOrEqual(30);
    expect(c.pending.spec?.schedulingGates).toEqual([{ name: CASE_GATE }]);
    const names = new Set(c.nodes.map((n) => n.name));
    for (const p of c.existing) expect(names.has(p.spec?.nodeName ?? '')).toBe(true);
    for (const n of c.nodes) expect(n.name.startsWith(`${c.name}-`)).toBe(true);
  }
});

test('over a seed, the pending pods use every feature the comparison covers', () => {
  const pods = generateCases(1, 60, SMALL).map((c) => c.pending.spec ?? { containers: [] });
  const share = (p: (s: (typeof pods)[number]) => unknown) => pods.filter((s) => Boolean(p(s))).length;
  expect(share((s) => s.nodeSelector)).toBeGreaterThan(0);
  expect(share((s) => s.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution)).toBeGreaterThan(0);
  expect(share((s) => s.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution)).toBeGreaterThan(0);
  expect(share((s) => s.tolerations)).toBeGreaterThan(0);
  expect(share((s) => s.topologySpreadConstraints?.some((t) => t.whenUnsatisfiable === 'DoNotSchedule'))).toBeGreaterThan(0);
  expect(share((s) => s.topologySpreadConstraints?.some((t) => t.whenUnsatisfiable === 'ScheduleAnyway'))).toBeGreaterThan(0);
  expect(share((s) => s.topologySpreadConstraints?.some((t) => t.minDomains))).toBeGreaterThan(0);
  expect(share((s) => s.topologySpreadConstraints?.some((t) => t.nodeAffinityPolicy))).toBeGreaterThan(0);
  expect(share((s) => s.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution)).toBeGreaterThan(0);
  expect(share((s) => s.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution)).toBeGreaterThan(0);
  expect(share((s) => s.containers.some((c) => c.ports?.some((p) => p.hostPort)))).toBeGreaterThan(0);
});

test('about one case in five is a preemption case: the preemptor fits nowhere as the nodes are, but on some node once lower priorities go', () => {
  const cases = generateCases(1, 100, SMALL);
  const preemption = cases.filter(isPreemptionCase);
  expect(preemption.length).toBeGreaterThan(10);
  expect(preemption.length).toBeLessThan(30);
  expect(preemption.some((c) => c.budgets?.length)).toBe(true);
  const millis = (cpu: string | undefined): number => (cpu?.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000);
  for (const c of preemption) {
    const wants = millis(c.pending.spec?.containers[0]?.resources?.requests?.cpu);
    for (const node of c.nodes) {
      const pods = c.existing.filter((p) => p.spec?.nodeName === node.name);
      const used = pods.reduce((sum, p) => sum + millis(p.spec?.containers[0]?.resources?.requests?.cpu), 0);
      expect(wants).toBeGreaterThan(millis(node.capacity?.cpu) - used);
      // Distinct priorities on a node: upstream's tie on equal priorities is the start time, which these pods lack.
      const classes = pods.map((p) => p.spec?.priorityClassName);
      expect(new Set(classes).size).toBe(classes.length);
    }
    expect(c.nodes.some((n) => millis(n.capacity?.cpu) >= wants)).toBe(true);
  }
});
