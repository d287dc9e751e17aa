/**
 * Webhooks: a policy's `webhookRef` names a REST plugin of the gateway, which
 * is asked at PreFilter whether the pod may be scheduled. The gateway owns the
 * HTTP call (timeouts, retries, breaker, signing); this module only asks it
 * and reads the answer.
 */
import { Code, ExtensionPoint } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import type { MeshCallOptions } from '@schedmesh/runtime';
import { ClientError, Status } from 'nice-grpc';
import type { Client } from 'nice-grpc';

/** A webhook's answer. */
export type WebhookVerdict =
  /** The plugin allowed the pod (or skipped it). */
  | { readonly kind: 'allow' }
  /** The plugin rejected the pod; code is UNSCHEDULABLE or UNSCHEDULABLE_AND_UNRESOLVABLE. */
  | { readonly kind: 'reject'; readonly code: Code; readonly message: string }
  /** No answer could be had; the policy's failurePolicy decides. */
  | { readonly kind: 'unavailable'; readonly message: string };

/** Asks a webhook about a pod. Rejects only with the abort reason when `signal` aborts. */
export interface WebhookCaller {
  call(plugin: string, pod: Pod, signal: AbortSignal): Promise<WebhookVerdict>;
}

/** Options of {@link GatewayWebhooks}. */
export interface GatewayWebhooksOptions {
  /** The gateway client; undefined when no gateway is configured (every webhook is then unavailable). */
  client: Client<typeof GatewayServiceDefinition, MeshCallOptions> | undefined;
  /** Deadline of one Invoke, in ms. */
  timeoutMs: number;
  /** Called per call with its outcome. */
  onCall?: (plugin: string, outcome: WebhookVerdict['kind']) => void;
}

/** Calls webhooks through GatewayService.Invoke at EXTENSION_POINT_PRE_FILTER. */
export class GatewayWebhooks implements WebhookCaller {
  constructor(private readonly options: GatewayWebhooksOptions) {}

  async call(plugin: string, pod: Pod, signal: AbortSignal): Promise<WebhookVerdict> {
    const verdict = await this.ask(plugin, pod, signal);
    this.options.onCall?.(plugin, verdict.kind);
    return verdict;
  }

  private async ask(plugin: string, pod: Pod, signal: AbortSignal): Promise<WebhookVerdict> {
    const client = this.options.client;
    if (!client) return { kind: 'unavailable', message: `no gateway is configured (gateway.address), so webhook ${JSON.stringify(plugin)} cannot be consulted` };
    try {
      const response = await client.invoke(
        { point: ExtensionPoint.EXTENSION_POINT_PRE_FILTER, pod, plugins: [plugin], nodes: [] },
        { signal, deadline: new Date(Date.now() + this.options.timeoutMs) },
      );
      const status = response.results.find((r) => r.plugin === plugin)?.status ?? response.status;
      const reasons = status?.reasons.filter((r) => r !== '').join('; ') ?? '';
      switch (status?.code) {
        case Code.CODE_SUCCESS:
        case Code.CODE_SKIP:
          return { kind: 'allow' };
        case Code.CODE_UNSCHEDULABLE:
        case Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE:
          return { kind: 'reject', code: status.code, message: reasons || 'no reason given' };
        case Code.CODE_ERROR:
          return { kind: 'unavailable', message: `plugin failed${reasons ? `: ${reasons}` : ''}` };
        default:
          return { kind: 'unavailable', message: `unexpected status ${status ? Code[status.code] : 'none'} from the gateway` };
      }
    } catch (err) {
      // The caller went away: not the gateway's failure.
      if (signal.aborted) throw signal.reason;
      if (err instanceof ClientError) {
        const what = err.code === Status.DEADLINE_EXCEEDED ? `no answer within ${this.options.timeoutMs} ms` : `${Status[err.code]}: ${err.details}`;
        return { kind: 'unavailable', message: `gateway ${what}` };
      }
      return { kind: 'unavailable', message: `gateway call failed: ${(err as Error).message}` };
    }
  }
}
