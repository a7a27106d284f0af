// The `kubedask` command line: every command's options, help and validation. Light on purpose:
// each command's implementation is imported by its action, so `kubedask worker --help` and a
// worker process load nothing of the operator, the emulator or the benchmarks.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { defineBench } from './definitions/bench.js';
import { defineDemo } from './definitions/demo.js';
import { defineLocal } from './definitions/local.js';
import { defineOperator } from './definitions/operator.js';
import { defineScheduler } from './definitions/scheduler.js';
import { defineSim } from './definitions/sim.js';
import { defineWorker } from './definitions/worker.js';

/**
 * The program, parsing without exiting: bad usage and --help throw commander's CommanderError
 * (exit code 0 for help) after writing their message, so the caller decides the exit code.
 */
export function createProgram(): Command {
  // Settings made before the commands are inherited by them.
  const program = new Command('kubedask')
    .description('Elastic, Dask-style compute clusters on Kubernetes')
    .version(packageVersion(), '-V, --version', 'print the version of kubedask')
    .exitOverride()
    // In a terminal, help wraps to its width; piped, each option stays on one greppable line.
    .configureOutput({ getOutHelpWidth: () => (process.stdout.isTTY ? process.stdout.columns : Infinity) });
  for (const define of [defineLocal, defineScheduler, defineWorker, defineOperator, defineDemo, defineBench, defineSim]) define(program);
  for (const command of allCommands(program)) {
    const name = commandPath(command);
    command
      .configureOutput({ outputError: (message, write) => write(`${name}: ${message.replace(/^error: /, '')}`) })
      .showHelpAfterError(`(${name} --help lists the ${command.commands.length ? 'commands' : 'options'})`);
  }
  return program;
}

/** The command and its subcommands, depth first. */
export function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** 'kubedask bench sim' for the `sim` subcommand of `bench`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The version in kubedask's package.json (dist/cli/ and cli/ sit two levels below it). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
