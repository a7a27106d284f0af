// The kubedask command line parsed in process: what a command's action would be given for an
// argv, without running it.
import assert from 'node:assert/strict';
import type { Command, OptionValues } from 'commander';
import { allCommands, commandPath, createProgram } from '../../cli/program.js';

/** The program with every action replaced by one that records the parsed options, and output captured. */
export function testProgram(): { program: Command; parsed: { command?: string; options?: OptionValues }; output: () => string } {
  const program = createProgram();
  const parsed: { command?: string; options?: OptionValues } = {};
  let written = '';
  for (const command of allCommands(program)) {
    command.configureOutput({ writeOut: (s) => void (written += s), writeErr: (s) => void (written += s) });
    if (command.commands.length === 0) command.action((options: OptionValues) => {
      Object.assign(parsed, { command: commandPath(command), options });
    });
  }
  return { program, parsed, output: () => written };
}

export async function parse(argv: string[]): Promise<OptionValues> {
  const { program, parsed } = testProgram();
  await program.parseAsync(argv, { from: 'user' });
  assert.ok(parsed.options, `${argv.join(' ')} reached its command's action`);
  return parsed.options;
}
