// Errors of the command line.

/** Bad usage: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
