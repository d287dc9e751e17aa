import { Status } from '@schedmesh/framework';
import type { Code, Status as StatusMessage } from '@schedmesh/proto/v1/types';

/**
 * A Status from a reply's status message, named after the plugin that decided
 * it (the message's own plugin, else `plugin`). An absent message is Success;
 * an unknown or unset code is an Error (Status.fromProto): a reply the caller
 * cannot read must not pass as Success or as a rejection.
 */
export function statusFrom(message: StatusMessage | undefined, plugin: string): Status {
  if (!message) return Status.SUCCESS;
  return statusOf(message.code, message.reasons, message.plugin || plugin);
}

/** A Status from a code and reasons, named after the plugin that decided it. */
export function statusOf(code: Code, reasons: readonly string[], plugin: string): Status {
  return Status.fromProto(code, reasons).withPlugin(plugin);
}
