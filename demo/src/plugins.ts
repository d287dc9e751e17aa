// The REST plugins the demo runs beside the gateway, each as its own process.
// To add a plugin, add an entry: the demo starts it on a free loopback port
// (PLUGIN_HOST/PLUGIN_PORT, the convention of examples/rest-plugin/src/main.ts),
// waits for it to listen, and lists each of its gateway plugins in the
// gateway's plugins file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What the demo makes for its plugins before starting them. */
export interface PluginContext {
  /** The demo's throw-away Ed25519 public key (PEM) that verifies its GPU attestations. */
  readonly attestationPublicKeyFile: string;
}

/** One plugin of the gateway's plugins file, served at a route of a demo plugin process. */
export interface GatewayPluginEntry {
  /** The plugin's name in the gateway (and in refusal messages). */
  readonly name: string;
  /** Its route below the process's base URL ('' for the base URL itself). */
  readonly route: string;
  /** The gateway protocol it speaks (services/gateway/README.md, "Plugin protocols"). */
  readonly protocol: 'schedmesh.io/plugin/v1' | 'verdict';
  /** The gateway extension points it serves. */
  readonly extensionPoints: readonly ('preFilter' | 'filter' | 'score' | 'preBind')[];
  readonly failurePolicy: 'Fail' | 'Ignore';
}

/** One REST plugin process of the demo; it may serve several gateway plugins. */
export interface DemoPlugin {
  /** The process's name (its log is plugin-<name>.log), in the console and the report. */
  readonly name: string;
  /** Its built entry point, relative to the repository root. */
  readonly main: string;
  /** Its environment besides PLUGIN_HOST and PLUGIN_PORT. */
  readonly env?: (ctx: PluginContext) => Record<string, string>;
  /** The gateway plugins it serves, in the order the gateway calls them. */
  readonly gatewayPlugins: readonly GatewayPluginEntry[];
  /** A missing optional plugin is skipped with a notice; a missing required one stops the demo. */
  readonly optional: boolean;
  /** What it shows, for the console and the report. */
  readonly shows: string;
}

export const DEMO_PLUGINS: readonly DemoPlugin[] = [
  {
    name: 'cost-tracking',
    main: 'examples/rest-plugin/dist/main.js',
    gatewayPlugins: [
      { name: 'cost-tracking', route: '', protocol: 'schedmesh.io/plugin/v1', extensionPoints: ['preFilter', 'filter', 'score', 'preBind'], failurePolicy: 'Fail' },
    ],
    optional: false,
    shows: 'refuses pods without a cost-center label, prefers cheaper nodes, labels bound pods',
  },
  // Required: the sample's GPU pods carry attestations signed for it (sample.ts), so
  // without it they would show nothing of what they are there for.
  {
    name: 'gpu-compliance',
    main: 'examples/gpu-compliance/dist/main.js',
    env: (ctx) => ({ GPU_ATTESTATION_PUBLIC_KEY_FILE: ctx.attestationPublicKeyFile }),
    gatewayPlugins: [
      { name: 'gpu-attestation', route: 'attestation', protocol: 'verdict', extensionPoints: ['preFilter'], failurePolicy: 'Fail' },
      { name: 'gpu-attested-nodes', route: 'nodes', protocol: 'schedmesh.io/plugin/v1', extensionPoints: ['filter'], failurePolicy: 'Fail' },
    ],
    optional: false,
    shows: 'refuses GPU pods without a signed attestation, keeps attested ones on attested GPU nodes',
  },
];

/** The gateway's plugins document: every gateway plugin of each started process, at its route of the process's base URL. */
export function gatewayPluginsDocument(plugins: readonly DemoPlugin[], baseUrls: ReadonlyMap<string, string>): { plugins: Record<string, unknown>[] } {
  return {
    plugins: plugins.flatMap((p) => {
      const base = baseUrls.get(p.name);
      if (base === undefined) throw new Error(`plugin ${p.name} has no base URL: it was not started`);
      return p.gatewayPlugins.map((g) => ({
        name: g.name,
        type: 'rest',
        protocol: g.protocol,
        endpoint: `${base}${g.route}`,
        extensionPoints: [...g.extensionPoints],
        failurePolicy: g.failurePolicy,
      }));
    }),
  };
}

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
