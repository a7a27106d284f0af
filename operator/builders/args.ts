// Command-line flags the operator gives kubedask, merged with the user's own args.

/** Flags that make one of ours redundant: the user chose the other way. */
const SUPERSEDED_BY: Record<string, string[]> = { '--dashboard-port': ['--no-dashboard'] };

/** True when `args` sets `flag`, as `--flag value` or `--flag=value`. */
export function hasFlag(args: readonly string[], flag: string): boolean {
  return args.some((a) => a === flag || a.startsWith(`${flag}=`));
}

/** ['cmd', '--a', '1'] from a subcommand and [flag, value] pairs, skipping undefined values. */
export function argv(subcommand: string, flags: [string, string | undefined][]): string[] {
  const out = [subcommand];
  for (const [flag, value] of flags) if (value !== undefined) out.push(flag, value);
  return out;
}

/**
 * The user's args, completed with ours: our leading positionals (the subcommand) are put in
 * front when the user's args do not start with them, and each of our `--flag value` pairs is
 * appended unless the user's args already set that flag (or one that supersedes it).
 * `ours` must be positionals followed by `--flag value` pairs, as `argv` makes them.
 */
export function completeArgs(ours: readonly string[], user: readonly string[]): string[] {
  let i = 0;
  while (i < ours.length && !ours[i]!.startsWith('--')) i++;
  const positionals = ours.slice(0, i);
  const out = positionals.every((p, j) => user[j] === p) ? [...user] : [...positionals, ...user];
  for (; i < ours.length; i++) {
    const flag = ours[i]!;
    const value = ours[i + 1];
    const hasValue = value !== undefined && !value.startsWith('--');
    const taken = hasFlag(user, flag) || (SUPERSEDED_BY[flag] ?? []).some((f) => hasFlag(user, f));
    if (!taken) out.push(...(hasValue ? [flag, value] : [flag]));
    if (hasValue) i++;
  }
  return out;
}
