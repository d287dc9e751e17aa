/**
 * Status: the outcome of a plugin or of a step, as a value. A pod that does
 * not fit is a Status with a rejection code and reasons, never an exception;
 * only internal failures carry the Error code (and the runner turns those
 * into thrown PluginErrors at its edge).
 */
import { Code } from '@schedmesh/proto/v1/types';
import type { Status as StatusMessage } from '@schedmesh/proto/v1/types';

/** The outcome codes of the upstream framework, as the proto Code enum spells them. */
export const StatusCode = {
  /** The step passed. */
  Success: Code.CODE_SUCCESS,
  /** An internal failure; the pod is retried with backoff. Never a rejection. */
  Error: Code.CODE_ERROR,
  /** The pod does not fit now; preemption may make room. */
  Unschedulable: Code.CODE_UNSCHEDULABLE,
  /** The pod does not fit and preemption cannot change that. */
  UnschedulableAndUnresolvable: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
  /** Permit only: the pod waits. */
  Wait: Code.CODE_WAIT,
  /** The plugin has nothing to do for this pod; its coupled points are skipped this cycle. */
  Skip: Code.CODE_SKIP,
  /** The pod waits for something outside the scheduler; requeued without backoff. */
  Pending: Code.CODE_PENDING,
} as const;

/** One of the {@link StatusCode} values. */
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

const CODE_NAMES: ReadonlyMap<StatusCode, string> = new Map([
  [StatusCode.Success, 'Success'],
  [StatusCode.Error, 'Error'],
  [StatusCode.Unschedulable, 'Unschedulable'],
  [StatusCode.UnschedulableAndUnresolvable, 'UnschedulableAndUnresolvable'],
  [StatusCode.Wait, 'Wait'],
  [StatusCode.Skip, 'Skip'],
  [StatusCode.Pending, 'Pending'],
]);

/** The upstream name of a code ("UnschedulableAndUnresolvable"). */
export function statusCodeName(code: StatusCode): string {
  return CODE_NAMES.get(code) ?? String(code);
}

/**
 * Status is immutable: the runner derives a copy naming the plugin
 * ({@link Status.withPlugin}) instead of changing the plugin's value, so
 * plugins may return shared constants.
 */
export class Status {
  private constructor(
    /** The outcome. */
    readonly code: StatusCode,
    /** Short stable phrases ("Insufficient cpu"); the reason constants of each plugin. */
    readonly reasons: readonly string[],
    /** The plugin that produced the status; set by the runner, never by the plugin. */
    readonly plugin: string,
    /** For Error: what went wrong. */
    readonly cause: unknown,
  ) {}

  /** A successful status. Shared; allocation-free on the hot path. */
  static readonly SUCCESS: Status = Object.freeze(new Status(StatusCode.Success, [], '', undefined));
  /** A Skip status (shared). */
  static readonly SKIP: Status = Object.freeze(new Status(StatusCode.Skip, [], '', undefined));

  /** A status with a code and reasons. */
  static of(code: StatusCode, ...reasons: string[]): Status {
    if (code === StatusCode.Success && reasons.length === 0) return Status.SUCCESS;
    if (code === StatusCode.Skip && reasons.length === 0) return Status.SKIP;
    return new Status(code, reasons, '', undefined);
  }

  /** The pod does not fit now; preemption may help. */
  static unschedulable(...reasons: string[]): Status {
    return new Status(StatusCode.Unschedulable, reasons, '', undefined);
  }

  /** The pod does not fit and preemption cannot help. */
  static unresolvable(...reasons: string[]): Status {
    return new Status(StatusCode.UnschedulableAndUnresolvable, reasons, '', undefined);
  }

  /**
   * A Status from its wire form: the fields of a proto Status, or of any
   * reply that carries a Code with reasons (an admission decision, a gateway
   * plugin's result). `plugin` keeps the name the remote side reported; the
   * runner still names the local plugin or extender that relayed it. An
   * UNSPECIFIED or unknown code is a broken peer, not a rejection: it becomes
   * an Error status that says so.
   */
  static fromProto(code: Code, reasons: readonly string[] = [], plugin = ''): Status {
    if (!CODE_NAMES.has(code as StatusCode)) return new Status(StatusCode.Error, [`invalid status code ${code}`, ...reasons], plugin, undefined);
    if (plugin === '' && reasons.length === 0) return Status.of(code as StatusCode);
    return new Status(code as StatusCode, [...reasons], plugin, undefined);
  }

  /** An internal failure, with its cause. */
  static error(cause: unknown): Status {
    const message = cause instanceof Error ? cause.message : String(cause);
    return new Status(StatusCode.Error, [message], '', cause);
  }

  /** A copy naming the plugin (the runner calls it). */
  withPlugin(plugin: string): Status {
    if (this.plugin === plugin) return this;
    return new Status(this.code, this.reasons, plugin, this.cause);
  }

  /** True for Success. */
  isSuccess(): boolean {
    return this.code === StatusCode.Success;
  }

  /** True for Skip. */
  isSkip(): boolean {
    return this.code === StatusCode.Skip;
  }

  /** True for Unschedulable and UnschedulableAndUnresolvable (and Pending, as upstream's IsRejected). */
  isRejected(): boolean {
    return this.code === StatusCode.Unschedulable || this.code === StatusCode.UnschedulableAndUnresolvable || this.code === StatusCode.Pending;
  }

  /** True for Error. */
  isError(): boolean {
    return this.code === StatusCode.Error;
  }

  /** The reasons joined as upstream's Message(): ", ". */
  message(): string {
    return this.reasons.join(', ');
  }

  /** The proto message ({@link Status.fromProto} reads it back, cause aside). */
  toProto(): StatusMessage {
    return { code: this.code, reasons: [...this.reasons], plugin: this.plugin };
  }

  toString(): string {
    const who = this.plugin === '' ? '' : ` (${this.plugin})`;
    return `${statusCodeName(this.code)}${who}${this.reasons.length > 0 ? `: ${this.message()}` : ''}`;
  }
}

/**
 * Thrown by the runner when a plugin reports an internal failure (an Error
 * status, or an exception out of a synchronous point). The pod is retried;
 * the call fails rather than reporting a rejection.
 */
export class PluginError extends Error {
  override readonly name = 'PluginError';
  /** The plugin that failed. */
  readonly plugin: string;
  /** The extension point ("Filter", "Score", ...). */
  readonly point: string;

  constructor(plugin: string, point: string, message: string, options?: { cause?: unknown }) {
    super(`${point} plugin ${plugin}: ${message}`, options);
    this.plugin = plugin;
    this.point = point;
  }

  /** A PluginError from an Error status. */
  static fromStatus(status: Status, point: string): PluginError {
    return new PluginError(status.plugin, point, status.message(), { cause: status.cause });
  }
}
