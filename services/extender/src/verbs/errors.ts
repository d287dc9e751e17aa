/**
 * A verb whose result has no Error field (prioritize, preempt) could not be
 * answered because a mesh service failed: HTTP 503 with the message.
 * kube-scheduler treats a non-200 answer as the extender's error (ignored for
 * prioritize; for preempt, the extender is skipped when ignorable).
 */
export class VerbUnavailableError extends Error {
  override readonly name = 'VerbUnavailableError';
}
