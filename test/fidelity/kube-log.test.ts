// The parsers of kube-scheduler's output, on lines in the exact format of
// v1.36's klog text output and messages as its FitError writes them.
import { expect, test } from '@jest/globals';
import { parseRefusal, parseScoreLines, preemptionFinished } from './kube-log.js';

const LOG = [
  'I1201 22:43:30.101   4242 schedule_one.go:982] "Plugin scored node for pod" pod="fidelity/s1-c0001-pending" plugin="NodeResourcesFit" node="s1-c0001-n1" score=85',
  'I1201 22:43:30.101   4242 schedule_one.go:982] "Plugin scored node for pod" pod="fidelity/s1-c0001-pending" plugin="TaintToleration" node="s1-c0001-n1" score=300',
  'I1201 22:43:30.101   4242 schedule_one.go:982] "Plugin scored node for pod" pod="fidelity/other" plugin="NodeResourcesFit" node="s1-c0001-n1" score=1',
  'I1201 22:43:30.102   4242 schedule_one.go:1050] "Calculated node\'s final score for pod" pod="fidelity/s1-c0001-pending" node="s1-c0001-n1" score=385',
  'I1201 22:43:30.102   4242 round_trippers.go:632] "Response" verb="POST" url="https://127.0.0.1/api/v1/namespaces/fidelity/pods/s1-c0001-pending/binding"',
].join('\n');

test("a pod's plugin and total scores are read from its own lines only", () => {
  const scores = parseScoreLines(LOG, 'fidelity/s1-c0001-pending');
  expect(Object.fromEntries([...scores.plugins].map(([p, byNode]) => [p, Object.fromEntries(byNode)]))).toEqual({
    NodeResourcesFit: { 's1-c0001-n1': 85 },
    TaintToleration: { 's1-c0001-n1': 300 },
  });
  expect(Object.fromEntries(scores.totals)).toEqual({ 's1-c0001-n1': 385 });
});

test.each([
  [
    '0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s). preemption: not eligible due to preemptionPolicy=Never.',
    { nodes: 5, reasons: { 'Insufficient cpu': 2, 'node(s) had untolerated taint(s)': 3 } },
  ],
  ['0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable.', { nodes: 3, reasons: { 'Insufficient cpu': 1, 'Insufficient memory': 1, 'node(s) were unschedulable': 1 } }],
  ["0/4 nodes are available: 4 node(s) didn't match pod topology spread constraints (missing required label).", { nodes: 4, reasons: { "node(s) didn't match pod topology spread constraints (missing required label)": 4 } }],
])('refusal %s', (message, want) => {
  expect(parseRefusal(message)).toEqual(want);
});

test('a message of another shape is not read as a refusal', () => {
  expect(parseRefusal('running PreFilter plugin "X": boom')).toBeUndefined();
});

test("kube-scheduler's asynchronous preemption is over for exactly the pod its log line names", () => {
  const line = 'I1202 00:18:40.123456   4242 executor.go:303] "Async Preemption finished completely" preemptor="fidelity/p-pending" node="n1" result="success"\n';
  expect(preemptionFinished(line, 'fidelity/p-pending')).toBe(true);
  expect(preemptionFinished(line, 'fidelity/p')).toBe(false);
  expect(preemptionFinished('I1202 "Start the preemption asynchronously" preemptor="fidelity/p-pending"', 'fidelity/p-pending')).toBe(false);
});
