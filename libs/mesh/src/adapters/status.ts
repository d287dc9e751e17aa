import { Status, StatusCode } from '@schedmesh/framework';
import type { Code, Status as StatusMessage } from '@schedmesh/proto/v1/types';

const KNOWN = new Set<number>(Object.values(StatusCode));

/**
 * A Status from a reply's status message (or code and reasons). An unknown
 * or unset code is an Error: a reply the caller cannot read must not pass as
 * Success.
 */
export function statusFrom(message: StatusMessage | undefined, plugin: string): Status {
  if (!message) return Status.SUCCESS;
  return statusOf(message.code, message.reasons, message.plugin || plugin);
}

/** A Status from a code and reasons, named after the plugin that decided it. */
export function statusOf(code: Code, reasons: readonly string[], plugin: string): Status {
  const known = KNOWN.has(code) ? (code as unknown as StatusCode) : StatusCode.Error;
  const why = known === code ? [...reasons] : [`unknown status code ${code}`, ...reasons];
  return Status.of(known, ...why).withPlugin(plugin);
}
