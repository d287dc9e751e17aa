// kube-scheduler's `extenders` entry for the mesh's extender, apart from the
// in-process mesh (extender-mesh.ts) so that what runs the extender as a
// process (the scheduling benchmark) need not load every service.
/** Options of {@link extenderEntry}. */
export interface ExtenderEntryOptions {
  readonly ignorable: boolean;
  /** Extender scores (0..10) count weight × 10 against each plugin's 0..100. */
  readonly weight: number;
  /** Also route kube-scheduler's preemption through the preempt verb. */
  readonly preempt?: boolean;
  /** The extender serves HTTPS with a certificate this CA (PEM) signed: kube-scheduler's enableHTTPS and tlsConfig.caData. */
  readonly caPem?: string;
  /**
   * How long kube-scheduler waits for a verb (default 5s, upstream's default).
   * A test that proves what the verbs decide, not how fast, gives more: on a
   * loaded machine a verb past it fails, and kube-scheduler then binds by
   * itself (ignorable) or parks a preemptor for minutes.
   */
  readonly httpTimeout?: string;
}

/** kube-scheduler's `extenders` entry for the mesh's extender: names only, filter, prioritize and bind. */
export function extenderEntry(mesh: { readonly urlPrefix: string }, options: ExtenderEntryOptions): Record<string, unknown> {
  return {
    urlPrefix: mesh.urlPrefix,
    filterVerb: 'filter',
    prioritizeVerb: 'prioritize',
    bindVerb: 'bind',
    ...(options.preempt ? { preemptVerb: 'preempt' } : {}),
    weight: options.weight,
    nodeCacheCapable: true,
    ignorable: options.ignorable,
    httpTimeout: options.httpTimeout ?? '5s',
    ...(options.caPem ? { enableHTTPS: true, tlsConfig: { caData: Buffer.from(options.caPem).toString('base64') } } : {}),
  };
}
