// The `kubedask` command. Exit codes: 0 success, 1 runtime failure, 2 bad usage.
import { UsageError } from './options.js';
import { localCommand, localUsage } from './commands/local.js';
import { schedulerCommand, schedulerUsage } from './commands/scheduler.js';
import { workerCommand, workerUsage } from './commands/worker.js';
import { demoCommand, demoUsage } from './commands/demo.js';
import { benchCommand, benchUsage } from './commands/bench.js';
import { simCommand, simUsage } from './commands/sim.js';
import { operatorCommand, operatorUsage } from './commands/operator.js';

const commands: Record<string, { run(argv: string[]): Promise<void>; usage: string }> = {
  local: { run: localCommand, usage: localUsage },
  scheduler: { run: schedulerCommand, usage: schedulerUsage },
  worker: { run: workerCommand, usage: workerUsage },
  operator: { run: operatorCommand, usage: operatorUsage },
  demo: { run: demoCommand, usage: demoUsage },
  bench: { run: benchCommand, usage: benchUsage },
  sim: { run: simCommand, usage: simUsage },
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
    await command.run(rest);
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
