// The `kubedask` command. Exit codes: 0 success, 1 runtime failure, 2 bad usage.
import { CommanderError, type Command } from 'commander';
import { UsageError } from './errors.js';
import { allCommands, commandPath, createProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  // The command being parsed or run, to name it in errors.
  let current: Command = program;
  for (const command of allCommands(program)) command.hook('preSubcommand', (_, sub) => void (current = sub));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has written its message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const name = commandPath(current);
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    if (!(err instanceof UsageError)) return 1;
    process.stderr.write(`(${name} --help lists the options)\n`);
    return 2;
  }
}

// Pools and channels may keep handles open after a command finished; a finished command exits.
process.exit(await main(process.argv.slice(2)));
