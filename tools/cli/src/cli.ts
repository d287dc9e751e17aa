/**
 * The command line: parses argv, resolves the global options, runs one
 * command and writes its answer (a table, or JSON with `-o json`) to stdout
 * and any failure, saying what to do, to stderr. Returns the exit code
 * (exit.ts) instead of exiting, so it runs in-process as well as from bin.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { Connections } from './clients.js';
import type { CommandContext } from './commands/context.js';
import { schedule } from './commands/schedule.js';
import { status } from './commands/status.js';
import { why } from './commands/why.js';
import { CliError, ExitCode } from './exit.js';
import { renderSchedule } from './format/schedule.js';
import { renderStatus } from './format/status.js';
import { renderWhy } from './format/why.js';
import { ENV_PREFIX, addressEnv, DEFAULT_ADDRESSES, DEFAULT_JAEGER_URL, resolveOptions, serviceList, SERVICES } from './options.js';
import type { CliOptions, GlobalFlags, ServiceName } from './options.js';

/** Where the command line reads and writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Reads a file, or stdin for "-". */
  readonly readInput: (path: string) => Promise<string>;
}

const FLAGS = {
  output: { type: 'string', short: 'o' },
  'jaeger-url': { type: 'string' },
  timeout: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-server-name': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  filename: { type: 'string', short: 'f' },
  'dry-run': { type: 'boolean' },
  profile: { type: 'string' },
  services: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(SERVICES.map((s) => [s, { type: 'string' }])),
} satisfies ParseArgsConfig['options'];

export const USAGE = `Usage: schedmesh <command> [flags]

Commands:
  why [NAMESPACE/]POD          why the pod is pending, or why it landed where it did
                               (the scheduler's last attempt: reasons per node, the
                               top-scored nodes, the deciding plugin or policy, the trace)
  schedule -f FILE --dry-run   what the scheduler would decide for the pod in FILE
                               (YAML or JSON; "-" reads stdin); nothing is reserved or bound
  status [--services LIST]     each service's health and generation, the scheduler's queues
                               (LIST: the services to ask, comma-separated; default all)

Flags:
  -o, --output table|json      output format (default table)
  -n, --namespace NAMESPACE    namespace of a POD given without one (default "default")
  --profile NAME               the scheduler profile for schedule (default: the pod's schedulerName)
  --jaeger-url URL             the Jaeger UI for trace links (default ${DEFAULT_JAEGER_URL})
  --timeout DURATION           deadline of each call (default 10s)
  --tls-ca FILE                CA of the services' certificates (TLS; plaintext without it)
  --tls-cert FILE, --tls-key FILE
                               client certificate and key (mTLS)
  --tls-server-name NAME       the name the services' certificates carry, if not the host's
${SERVICES.map((s) => `${`  --${s} HOST:PORT`.padEnd(31)}the ${s}'s gRPC address (default ${DEFAULT_ADDRESSES[s]})`).join('\n')}

Environment: ${addressEnv('scheduler')} (and one per service), ${ENV_PREFIX}OUTPUT,
${ENV_PREFIX}JAEGER_URL, ${ENV_PREFIX}TIMEOUT, ${ENV_PREFIX}TLS_CA, ${ENV_PREFIX}TLS_CERT,
${ENV_PREFIX}TLS_KEY, ${ENV_PREFIX}TLS_SERVER_NAME, ${ENV_PREFIX}SERVICES; flags win.

Exit codes: 0 answered; 1 a service is unreachable or failed; 2 wrong usage or input;
3 the scheduler does not know the pod; 4 answered no (the pod does not fit; a service is not serving).
`;

/** Runs one command line; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let connections: Connections | undefined;
  try {
    const { values, positionals } = parseCommandLine(argv);
    if (values.help || positionals.length === 0) {
      (values.help ? io.stdout : io.stderr)(USAGE);
      return values.help ? ExitCode.OK : ExitCode.USAGE;
    }
    const options = resolveOptions(globalFlags(values), io.env);
    connections = new Connections(options);
    const ctx: CommandContext = { options, connections, readInput: io.readInput };
    const [command, ...rest] = positionals;
    switch (command) {
      case 'why': {
        if (rest.length !== 1) throw CliError.usage('why takes one pod: schedmesh why NAMESPACE/POD');
        const view = await why(ctx, rest[0]!, values.namespace ?? 'default');
        write(io, options, view, renderWhy);
        return ExitCode.OK;
      }
      case 'schedule': {
        if (rest.length > 0) throw CliError.usage(`schedule takes no arguments, got ${JSON.stringify(rest.join(' '))}: give the pod with -f FILE`);
        if (!values.filename) throw CliError.usage('schedule needs the pod: -f FILE (YAML or JSON; "-" reads stdin)');
        if (!values['dry-run']) {
          throw CliError.usage('schedule needs --dry-run: the CLI only asks what the scheduler would decide; create the pod (kubectl apply) to have it scheduled and bound');
        }
        const view = await schedule(ctx, { file: values.filename, profile: values.profile ?? '' });
        write(io, options, view, renderSchedule);
        return view.result === 'scheduled' ? ExitCode.OK : ExitCode.NEGATIVE;
      }
      case 'status': {
        if (rest.length > 0) throw CliError.usage(`status takes no arguments, got ${JSON.stringify(rest.join(' '))}`);
        const view = await status(ctx, serviceList(values.services, io.env));
        write(io, options, view, renderStatus);
        return view.healthy ? ExitCode.OK : ExitCode.NEGATIVE;
      }
      default:
        throw CliError.usage(`unknown command ${JSON.stringify(command)}: expected why, schedule or status (schedmesh --help)`);
    }
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr(`schedmesh: ${err.message}\n`);
    return err.exitCode;
  } finally {
    connections?.close();
  }
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util reports unknown flags and missing values as TypeErrors with a code.
    throw CliError.usage(`${(err as Error).message} (schedmesh --help)`, { cause: err });
  }
}

function globalFlags(values: ReturnType<typeof parseCommandLine>['values']): GlobalFlags {
  const addresses: Partial<Record<ServiceName, string>> = {};
  for (const s of SERVICES) {
    const value = (values as Record<string, unknown>)[s];
    if (typeof value === 'string') addresses[s] = value;
  }
  return {
    output: values.output,
    'jaeger-url': values['jaeger-url'],
    timeout: values.timeout,
    'tls-ca': values['tls-ca'],
    'tls-cert': values['tls-cert'],
    'tls-key': values['tls-key'],
    'tls-server-name': values['tls-server-name'],
    addresses,
  };
}

function write<T>(io: CliIo, options: CliOptions, view: T, render: (view: T) => string): void {
  io.stdout(options.output === 'json' ? `${JSON.stringify(view, null, 2)}\n` : render(view));
}
