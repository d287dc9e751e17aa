/**
 * Connections to the services, and what a failed call means to an operator:
 * which service, at which address, and what to do about it.
 */
import type { Channel, Client, CompatServiceDefinition } from 'nice-grpc';
import { ClientError, Status } from 'nice-grpc';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import type { MeshCallOptions } from '@schedmesh/runtime';
import { CliError, ExitCode } from './exit.js';
import { addressHint } from './options.js';
import type { CliOptions, ServiceName } from './options.js';

/** Channels opened for one command, one per service, closed together when it ends. */
export class Connections {
  private readonly channels = new Map<ServiceName, Channel>();

  constructor(private readonly options: CliOptions) {}

  /**
   * A client of `service` over its channel. One attempt per call, no
   * retries: an operator waiting at a prompt wants the failure now, with its reason.
   */
  client<D extends CompatServiceDefinition>(service: ServiceName, definition: D): Client<D, MeshCallOptions> {
    const config = this.options.services[service];
    let channel = this.channels.get(service);
    if (!channel) this.channels.set(service, (channel = connectChannel(config.address, config.tls ? { tls: config.tls } : {})));
    return createServiceClient(definition, channel, { defaultDeadlineMs: config.deadline, retryMaxAttempts: 1 });
  }

  /** Runs a call to `service`, turning a gRPC failure into a CliError that says what to do. */
  async call<T>(service: ServiceName, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw callError(service, this.options, err);
    }
  }

  close(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }
}

/** The message and exit code of a failed call to a service. */
export function callError(service: ServiceName, options: CliOptions, err: unknown): CliError {
  const { address, deadline } = options.services[service];
  if (!(err instanceof ClientError)) return new CliError(`${service} at ${address}: ${(err as Error)?.message ?? String(err)}`, ExitCode.FAILURE, { cause: err });
  switch (err.code) {
    case Status.UNAVAILABLE:
      return new CliError(`${service} unreachable at ${address}: is it running? ${addressHint(service)} (${transportDetail(err.details)})`, ExitCode.FAILURE, { cause: err });
    case Status.DEADLINE_EXCEEDED:
      return new CliError(`${service} at ${address} did not answer within ${deadline} ms: is it overloaded? raise --timeout`, ExitCode.FAILURE, { cause: err });
    case Status.UNIMPLEMENTED:
      return new CliError(`${service} at ${address} does not serve ${err.path}: is ${address} the ${service}, and as new as this CLI? ${addressHint(service)}`, ExitCode.FAILURE, { cause: err });
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return new CliError(`${service} at ${address} refused the call (${Status[err.code]}: ${err.details}): check --tls-ca, --tls-cert and --tls-key`, ExitCode.FAILURE, { cause: err });
    case Status.INVALID_ARGUMENT:
      return CliError.usage(`${service} rejected the request: ${err.details}`, { cause: err });
    case Status.NOT_FOUND:
      return new CliError(`${service}: ${err.details}`, ExitCode.NOT_FOUND, { cause: err });
    default:
      return new CliError(`${service} at ${address} failed (${Status[err.code]}): ${err.details}`, ExitCode.FAILURE, { cause: err });
  }
}

/** grpc-js's "No connection established. Last error: Error: connect ECONNREFUSED …. Resolution note: " without the wrapping. */
function transportDetail(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)(?:\.?\s*Resolution note:.*)?$/s.exec(details);
  return (last?.[1] ?? details).trim();
}
