/**
 * The stable reason codes of admission decisions (AdmitResponse.reason_code)
 * and of the decision metric. Callers, dashboards and alerts match on them:
 * add new ones, never rename.
 */
export const Reason = {
  /** Every policy that targets the pod allowed it. */
  Allowed: 'Allowed',
  /** No policy targets the pod's namespace. */
  NoPolicyApplies: 'NoPolicyApplies',
  /** A policy with rejectIfNotMatch does not target the pod's namespace. */
  NotTargeted: 'NotTargeted',
  /** The pod's app (or namespace) is hibernating. */
  Hibernating: 'Hibernating',
  /** A hostPath volume is outside the allowlist, or its path is unusable (relative, "..", control characters). */
  HostPathDenied: 'HostPathDenied',
  /** A hostPath volume is allowed read-only only, and the pod mounts it read-write. */
  HostPathReadOnlyRequired: 'HostPathReadOnlyRequired',
  /** A hostPath volume of type Socket, CharDevice or BlockDevice, and no entry covering its path allows that type. */
  HostPathTypeDenied: 'HostPathTypeDenied',
  /** The pod's service account may use none of the governed node pools it could run on. */
  NodePoolForbidden: 'NodePoolForbidden',
  /** The pod requests an extended resource its service account may not use. */
  ExtendedResourceForbidden: 'ExtendedResourceForbidden',
  /** The Kubernetes API did not answer a SubjectAccessReview and the policy fails closed. */
  AccessReviewUnavailable: 'AccessReviewUnavailable',
  /** The policy's webhook (a gateway REST plugin) rejected the pod. */
  WebhookRejected: 'WebhookRejected',
  /** The webhook could not be consulted (gateway unreachable, plugin failed) and the policy fails closed. */
  WebhookUnavailable: 'WebhookUnavailable',
} as const;

/** One of the {@link Reason} codes. */
export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** Every reason code, for metrics initialisation and documentation tests. */
export const ALL_REASONS: readonly ReasonCode[] = Object.freeze(Object.values(Reason));
