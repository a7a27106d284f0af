// The `kubedask` command. Exit codes: 0 success, 1 runtime failure, 2 bad usage.
// Each command's module is imported only when that command runs: a worker process must not
// load the operator's Kubernetes client, the emulator or the benchmarks.
import { UsageError } from './options.js';

type Run = (argv: string[]) => Promise<void>;

const commands: Record<string, { load(): Promise<Run>; usage: string }> = {
  local: { load: async () => (await import('./commands/local.js')).localCommand, usage: 'kubedask local [--workers N] [--threads T] [--memory-limit SIZE] [--port P] [--dashboard-port D]' },
  scheduler: { load: async () => (await import('./commands/scheduler.js')).schedulerCommand, usage: 'kubedask scheduler [--host H] [--port 8786] [--dashboard-port 8787 | --no-dashboard] [--metrics-port P] [--heartbeat-timeout SECONDS] [--log-level info] [--tls-ca FILE --tls-cert FILE --tls-key FILE]' },
  worker: { load: async () => (await import('./commands/worker.js')).workerCommand, usage: 'kubedask worker --scheduler HOST:PORT [--nthreads T] [--memory-limit SIZE] [--resources GPU=1,...] [--name N] [--group G] [--host H] [--advertise-host H] [--port P] [--connect-timeout SECONDS] [--tls-ca FILE --tls-cert FILE --tls-key FILE]' },
  operator: { load: async () => (await import('./commands/operator.js')).operatorCommand, usage: 'kubedask operator [--namespace NS]... [--leader-elect] [--leader-election-namespace NS] [--leader-election-id ID] [--host 0.0.0.0] [--health-port 8081] [--metrics-port 8080] [--qps 20] [--burst 40] [--resync SECONDS] [--workers N] [--log-level info]' },
  demo: { load: async () => (await import('./commands/demo.js')).demoCommand, usage: 'kubedask demo [--rows N] [--workers N] [--partitions P] [--top N] [--data PATH] [--scheduler HOST:PORT [--tls-ca FILE --tls-cert FILE --tls-key FILE]]' },
  bench: { load: async () => (await import('./commands/bench.js')).benchCommand, usage: 'kubedask bench scheduler [--json] [--tasks N] [--chain N] [--repeat R] [--no-peer] | bench sim [--json] [--objects N] [--watches W] | bench operator [--json] [--clusters N] [--repeat R] | bench autoscale [--json] [--tasks N] [--task-ms MS] [--repeat R] [--bursts B] [--burst-tasks K] [--gap-s S] [--max-workers M] [--no-peer]' },
  sim: { load: async () => (await import('./commands/sim.js')).simCommand, usage: 'kubedask sim [--port 6443] [--kubeconfig PATH] [--nodes N] [--gpus-per-node G] [--cpu-per-node C] [--memory-per-node M]' },
};

function usage(): string {
  return `usage:\n${Object.values(commands).map((c) => `  ${c.usage}`).join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    process.stderr.write(`kubedask: name a command\n${usage()}`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`kubedask: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    await (await command.load())(rest);
    return 0;
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`kubedask ${name}: ${e.message}\n`);
    if (e instanceof UsageError) {
      process.stderr.write(`usage: ${command.usage}\n`);
      return 2;
    }
    return 1;
  }
}

// Pools and channels may keep handles open after a command finished; a finished command exits.
process.exit(await main(process.argv.slice(2)));
