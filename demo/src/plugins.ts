// The REST plugins the demo runs beside the gateway, each as its own process.
// To add a plugin, add an entry: the demo starts it on a free loopback port
// (PLUGIN_HOST/PLUGIN_PORT, the convention of examples/rest-plugin/src/main.ts),
// waits for it to listen, and lists it in the gateway's plugins file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** One REST plugin of the demo's gateway. */
export interface DemoPlugin {
  /** The plugin's name in the gateway (and in refusal messages). */
  readonly name: string;
  /** Its built entry point, relative to the repository root. */
  readonly main: string;
  /** The gateway extension points it serves. */
  readonly extensionPoints: readonly ('preFilter' | 'filter' | 'score' | 'preBind')[];
  readonly failurePolicy: 'Fail' | 'Ignore';
  /** A missing optional plugin is skipped with a notice; a missing required one stops the demo. */
  readonly optional: boolean;
  /** What it shows, for the console and the report. */
  readonly shows: string;
}

export const DEMO_PLUGINS: readonly DemoPlugin[] = [
  {
    name: 'cost-tracking',
    main: 'examples/rest-plugin/dist/main.js',
    extensionPoints: ['preFilter', 'filter', 'score', 'preBind'],
    failurePolicy: 'Fail',
    optional: false,
    shows: 'refuses pods without a cost-center label, prefers cheaper nodes, labels bound pods',
  },
  // GPU-compliance slot: examples/gpu-compliance (built in parallel on another
  // branch). Once its dist/main.js exists and listens on PLUGIN_HOST:PLUGIN_PORT,
  // the demo runs it; sample.ts's GPU pods are the ones it judges.
  {
    name: 'gpu-compliance',
    main: 'examples/gpu-compliance/dist/main.js',
    extensionPoints: ['filter'],
    failurePolicy: 'Fail',
    optional: true,
    shows: 'GPU attestation compliance of the GPU pool',
  },
];

/** The plugins whose entry point is built under `root`, and the optional ones that are not. */
export function availablePlugins(root: string, plugins: readonly DemoPlugin[] = DEMO_PLUGINS): { run: DemoPlugin[]; skipped: DemoPlugin[] } {
  const run: DemoPlugin[] = [];
  const skipped: DemoPlugin[] = [];
  for (const p of plugins) {
    if (existsSync(join(root, p.main))) run.push(p);
    else if (p.optional) skipped.push(p);
    else throw new Error(`plugin ${p.name}: ${p.main} is not built; run \`npm run build\``);
  }
  return { run, skipped };
}
