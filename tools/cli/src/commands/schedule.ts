/** `schedmesh schedule -f POD.yaml --dry-run`: what the scheduler would decide for a pod, without holding or binding anything. */
import { SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import { CliError } from '../exit.js';
import { podFromManifest } from '../pod-file.js';
import { scheduleView } from '../views.js';
import type { ScheduleView } from '../views.js';
import type { CommandContext } from './context.js';

export interface ScheduleArgs {
  readonly file: string;
  readonly profile: string;
}

export async function schedule(ctx: CommandContext, args: ScheduleArgs): Promise<ScheduleView> {
  const source = args.file === '-' ? 'stdin' : args.file;
  let text: string;
  try {
    text = await ctx.readInput(args.file);
  } catch (err) {
    throw CliError.usage(`-f ${args.file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const pod = podFromManifest(text, source);
  const scheduler = ctx.connections.client('scheduler', SchedulerServiceDefinition);
  const response = await ctx.connections.call('scheduler', () => scheduler.schedule({ pod, profile: args.profile, dryRun: true, bind: false }));
  return scheduleView(`${pod.namespace}/${pod.name}`, response, ctx.options.jaegerUrl);
}
