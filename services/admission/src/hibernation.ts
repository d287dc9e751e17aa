/**
 * App hibernation: an app marked hibernating is not scheduled until it is
 * woken. The marks, in the order they are consulted:
 *
 * 1. the namespace annotation `schedmesh.io/hibernate: "true"` (every app of the namespace);
 * 2. the label or annotation `schedmesh.io/hibernate: "true"` on the pod itself
 *    (usually set on a workload's pod template);
 * 3. the `hibernation` block of an AdmissionPolicy that targets the namespace
 *    (`allApps`, or the app among `apps`).
 *
 * An app is the value of the first configured app label present on the pod
 * (`app.kubernetes.io/name`, then `app`, by default).
 */
import type { Pod } from '@schedmesh/proto/v1/types';
import type { CompiledPolicy, NamespaceView } from './policy.js';

/** The annotation (on a namespace or a pod) and label (on a pod) that marks hibernation. */
export const HIBERNATE_KEY = 'schedmesh.io/hibernate';

/** A hibernation mark: where it comes from and how to lift it. */
export interface HibernationMark {
  /** A short description of the source ("namespace annotation schedmesh.io/hibernate on shop"). */
  readonly source: string;
  /** What to do to wake the app. */
  readonly wakeHint: string;
  /** The policy that holds the mark, if it is a policy block. */
  readonly policy: string | undefined;
}

/** The app of a pod: the value of the first app label present, or "". */
export function appOf(pod: Pick<Pod, 'labels'>, appLabels: readonly string[]): string {
  for (const key of appLabels) {
    const value = pod.labels[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return '';
}

function marked(map: { readonly [key: string]: string }): boolean {
  return map[HIBERNATE_KEY] === 'true';
}

function namespaceMark(ns: NamespaceView): HibernationMark | undefined {
  if (!marked(ns.annotations)) return undefined;
  return {
    source: `namespace annotation ${HIBERNATE_KEY}="true" on ${ns.name}`,
    wakeHint: `wake it with: kubectl annotate namespace ${ns.name} ${HIBERNATE_KEY}-`,
    policy: undefined,
  };
}

function policyMark(policies: readonly CompiledPolicy[], ns: NamespaceView, app: string): HibernationMark | undefined {
  for (const policy of policies) {
    const block = policy.hibernation;
    if (!block || !policy.targets(ns)) continue;
    if (block.allApps) {
      return {
        source: `AdmissionPolicy ${policy.key} (spec.hibernation.allApps)`,
        wakeHint: block.wakeHint ?? `wake it by setting spec.hibernation.allApps to false in AdmissionPolicy ${policy.key} (kubectl edit admissionpolicy ${policy.key})`,
        policy: policy.key,
      };
    }
    if (app !== '' && block.apps.has(app)) {
      return {
        source: `AdmissionPolicy ${policy.key} (spec.hibernation.apps lists ${JSON.stringify(app)})`,
        wakeHint: block.wakeHint ?? `wake it by removing ${JSON.stringify(app)} from spec.hibernation.apps of AdmissionPolicy ${policy.key} (kubectl edit admissionpolicy ${policy.key})`,
        policy: policy.key,
      };
    }
  }
  return undefined;
}

/**
 * The hibernation mark that keeps a pod from being scheduled, or undefined.
 * `policies` are the policies in force (each is checked for targeting here).
 */
export function podHibernation(pod: Pod, ns: NamespaceView, policies: readonly CompiledPolicy[], appLabels: readonly string[]): HibernationMark | undefined {
  const fromNamespace = namespaceMark(ns);
  if (fromNamespace) return fromNamespace;
  const app = appOf(pod, appLabels);
  const what = app === '' ? `pod ${pod.namespace}/${pod.name}` : `app ${JSON.stringify(app)}`;
  if (marked(pod.labels)) {
    return {
      source: `label ${HIBERNATE_KEY}="true" on pod ${pod.namespace}/${pod.name}`,
      wakeHint: `wake ${what} by removing the label ${HIBERNATE_KEY} from its pod template (kubectl label ... ${HIBERNATE_KEY}-)`,
      policy: undefined,
    };
  }
  if (marked(pod.annotations)) {
    return {
      source: `annotation ${HIBERNATE_KEY}="true" on pod ${pod.namespace}/${pod.name}`,
      wakeHint: `wake ${what} by removing the annotation ${HIBERNATE_KEY} from its pod template (kubectl annotate ... ${HIBERNATE_KEY}-)`,
      policy: undefined,
    };
  }
  return policyMark(policies, ns, app);
}

/**
 * The state of an app ("" = the namespace as a whole) from the marks the
 * service holds: the namespace annotation and policy blocks. A mark on
 * individual pods is seen only when such a pod is admitted.
 */
export function appHibernation(ns: NamespaceView, app: string, policies: readonly CompiledPolicy[]): HibernationMark | undefined {
  return namespaceMark(ns) ?? policyMark(policies, ns, app);
}
