/** `schedmesh why [NAMESPACE/]POD`: the scheduler's last attempt at the pod, explained. */
import { isDns1123Label, isDns1123Subdomain } from '@schedmesh/model';
import { SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import { CliError, ExitCode } from '../exit.js';
import type { CommandContext } from './context.js';
import { whyView } from '../views.js';
import type { WhyView } from '../views.js';

/** "namespace/name", or a name in `namespace`. */
export function parsePodRef(ref: string, namespace: string): { namespace: string; name: string } {
  const parts = ref.split('/');
  const [ns, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [namespace, parts[0]!];
  if (parts.length > 2 || !isDns1123Label(ns) || !isDns1123Subdomain(name)) {
    throw CliError.usage(`expected NAMESPACE/POD (or POD with -n NAMESPACE), got ${JSON.stringify(ref)}`);
  }
  return { namespace: ns, name };
}

export async function why(ctx: CommandContext, given: string, namespace: string): Promise<WhyView> {
  const pod = parsePodRef(given, namespace);
  const scheduler = ctx.connections.client('scheduler', SchedulerServiceDefinition);
  const ref = `${pod.namespace}/${pod.name}`;
  const status = await ctx.connections.call('scheduler', () => scheduler.getSchedulingStatus(pod)).catch((err: unknown) => {
    if (err instanceof CliError && err.exitCode === ExitCode.NOT_FOUND) {
      throw new CliError(
        `the scheduler at ${ctx.options.services.scheduler.address} has no attempt at ${ref}: it has not tried it yet, its schedulerName is not one of the scheduler's profiles (kubectl get pod -n ${pod.namespace} ${pod.name} -o jsonpath='{.spec.schedulerName}'), or the record was evicted`,
        ExitCode.NOT_FOUND,
        { cause: err },
      );
    }
    throw err;
  });
  return whyView(ref, status, ctx.options.jaegerUrl);
}
