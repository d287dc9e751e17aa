// `npm run cluster:up` / `npm run cluster:down`: a local control plane (and
// optionally kube-scheduler, Jaeger and fake nodes) in the foreground, for
// poking at schedmesh by hand. The same helpers the e2e tests use.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

 
import {
  createFakeNodes,
  fakeNodeSpecs,
  startControlPlane,
  startJaeger,
  startKubeScheduler,
} from '../../libs/testkit/src/cluster/index.js';
 
import type { ControlPlane, Jaeger, KubeScheduler } from '../../libs/testkit/src/cluster/index.js';

const WORK_DIR = join(__dirname, '.work');
const STATE_FILE = join(WORK_DIR, 'cluster.json');
const STABLE_KUBECONFIG = join(WORK_DIR, 'kubeconfig');

const USAGE = `usage:
  npm run cluster:up [-- --scheduler] [--jaeger] [--nodes N] [--all]
  npm run cluster:down

up    starts etcd + kube-apiserver on free loopback ports and stays in the
      foreground until Ctrl-C (or cluster:down from another shell).
      --scheduler  also run the stock kube-scheduler
      --jaeger     also run Jaeger (OTLP gRPC/HTTP + query API)
      --nodes N    create N fake ready nodes (3 zones, 4 racks each)
      --all        --scheduler --jaeger --nodes 10
down  stops a cluster started by up.`;

/** What `up` leaves on disk so `down` can find it. */
interface ClusterState {
  readonly pid: number;
  /** Process groups of the children (each child leads its own). */
  readonly groups: readonly number[];
  readonly dir: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

async function up(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      scheduler: { type: 'boolean', default: false },
      jaeger: { type: 'boolean', default: false },
      nodes: { type: 'string', default: '0' },
      all: { type: 'boolean', default: false },
    },
  });
  const nodes = values.all && values.nodes === '0' ? 10 : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 0) throw new Error(`--nodes: not a count: ${values.nodes}`);
  const existing = readState();
  if (existing && isAlive(existing.pid)) {
    throw new Error(`a cluster is already up (pid ${existing.pid}); run \`npm run cluster:down\` first`);
  }

  let cp: ControlPlane | undefined;
  let scheduler: KubeScheduler | undefined;
  let jaeger: Jaeger | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    clearInterval(keepAlive);
    stopping ??= (async () => {
      await scheduler?.stop();
      await cp?.stop();
      await jaeger?.stop();
      rmSync(STATE_FILE, { force: true });
      rmSync(STABLE_KUBECONFIG, { force: true });
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // tsx forwards the terminal's SIGINT too: say it once.
    if (stopping) return;
    console.log(`\n${signal}: stopping the cluster...`);
    void stopAll().then(
      () => {
        console.log('stopped.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const started = Date.now();
    [cp, jaeger] = await Promise.all([startControlPlane(), values.jaeger || values.all ? startJaeger() : undefined]);
    console.log(`control plane ready in ${cp.startupMs} ms: ${cp.server}`);
    if (nodes > 0) {
      await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(nodes, { zones: 3, racksPerZone: 4 }));
      console.log(`created ${nodes} fake nodes`);
    }
    if (values.scheduler || values.all) {
      scheduler = await startKubeScheduler(cp);
      console.log(`kube-scheduler ready: ${scheduler.url} (log ${scheduler.process.logPath})`);
    }
    mkdirSync(WORK_DIR, { recursive: true });
    copyFileSync(cp.kubeconfigPath, STABLE_KUBECONFIG);
    const state: ClusterState = {
      pid: process.pid,
      groups: [...cp.processes, ...(scheduler ? [scheduler.process] : []), ...(jaeger ? [jaeger.process] : [])].map(
        (p) => p.pid,
      ),
      dir: cp.dir,
    };
    writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);

    console.log(`
up in ${Date.now() - started} ms. Logs: ${cp.dir}/*.log
  kubeconfig: ${STABLE_KUBECONFIG}  (copy of ${cp.kubeconfigPath})
  export KUBECONFIG=${STABLE_KUBECONFIG}
  test/cluster/bin/kubectl get nodes
  apiserver: ${cp.server}   etcd: ${cp.etcdUrl}`);
    if (jaeger) {
      console.log(`  jaeger: OTLP/HTTP ${jaeger.otlpHttpUrl}  OTLP/gRPC ${jaeger.otlpGrpcEndpoint}  query ${jaeger.queryUrl}
  export OTEL_EXPORTER_OTLP_ENDPOINT=${jaeger.otlpHttpUrl}`);
    }
    console.log('Ctrl-C (or `npm run cluster:down`) stops it.');
    // The children are unref'd (a test run must not wait on them): hold the
    // event loop open until a signal, or a child dying on its own, ends the session.
    if (!stopping) keepAlive = setInterval(() => undefined, 1 << 30);
    const children = [...(cp?.processes ?? []), ...(scheduler ? [scheduler.process] : []), ...(jaeger ? [jaeger.process] : [])];
    const died = await Promise.race(children.map((p) => p.exited.then(() => p)));
    if (!stopping) {
      console.error(`${died.name} exited on its own; last lines of ${died.logPath}:\n${died.logTail(30)}`);
      await stopAll();
      process.exit(1);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function down(): Promise<void> {
  const state = readState();
  if (!state) {
    console.log('no cluster is up (no state file).');
    return;
  }
  if (isAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  }
  // The foreground process is gone (or stuck): make sure its children are too.
  for (const group of state.groups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  if (existsSync(state.dir)) rmSync(state.dir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
  rmSync(STABLE_KUBECONFIG, { force: true });
  console.log(`cluster (pid ${state.pid}) stopped.`);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'up') await up(rest);
  else if (command === 'down') await down();
  else {
    console.log(USAGE);
    process.exit(command === undefined || command === 'help' || command === '--help' ? 0 : 2);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
