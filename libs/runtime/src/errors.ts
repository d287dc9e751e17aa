/**
 * Domain errors shared by every service. Domain modules throw these (they know
 * nothing of gRPC); the server's error middleware maps each class to one gRPC
 * status. A rejection (a pod that does not fit) is never one of these: it is a
 * returned value.
 */

/** Base class: every schedmesh error carries a stable name and an optional cause. */
export abstract class SchedmeshError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request or configuration value is invalid. `field` is its path ("pod.uid", "ttl"). */
export class InvalidArgumentError extends SchedmeshError {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(`${field}: ${reason}`, options);
    this.field = field;
    this.reason = reason;
  }

  /** The error for one invalid field as a validator reports it (`{ field, reason }`: @schedmesh/model's FieldProblem). */
  static fromProblem(problem: { readonly field: string; readonly reason: string }, options?: { cause?: unknown }): InvalidArgumentError {
    return new InvalidArgumentError(problem.field, problem.reason, options);
  }
}

/** The named object does not exist. */
export class NotFoundError extends SchedmeshError {
  readonly kind: string;
  readonly key: string;
  constructor(kind: string, key: string, options?: { cause?: unknown }) {
    super(`${kind} ${JSON.stringify(key)} not found`, options);
    this.kind = kind;
    this.key = key;
  }
}

/** The operation cannot run in the current state (a stale version, a lease that lapsed). */
export class FailedPreconditionError extends SchedmeshError {}

/**
 * A dependency is down or the service is not ready (stream lost, ledger being
 * rebuilt). The caller may retry, ideally elsewhere.
 */
export class UnavailableError extends SchedmeshError {}

/** A bounded queue or budget is full; the caller may retry after a backoff. */
export class ResourceExhaustedError extends SchedmeshError {}

/** A bounded wait (for a generation, a gang) ran out. */
export class DeadlineExceededError extends SchedmeshError {}

/** Configuration is invalid; the service refuses to start. `issues` lists every problem. */
export class ConfigError extends SchedmeshError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`, options);
    this.issues = issues;
  }
}
