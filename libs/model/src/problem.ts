/**
 * The one shape of "this field is invalid" in the model: validators return
 * FieldProblems (values, not exceptions), and the gRPC edge turns one into
 * INVALID_ARGUMENT naming the field (runtime's InvalidArgumentError.fromProblem).
 */

/** One invalid field: its path and why it is rejected. */
export interface FieldProblem {
  /** The field path, e.g. `pod.affinity.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[1].operator`. */
  readonly field: string;
  /** Why the field is rejected. */
  readonly reason: string;
}
