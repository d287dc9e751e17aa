/** The preempt verb is planned (filterscore's candidates, PDB-aware); until then it is refused clearly. */
export const PREEMPT_NOT_SUPPORTED =
  'preempt is not supported by the schedmesh extender yet: leave preemptVerb unset (kube-scheduler then preempts with its own DefaultPreemption)';
