// Errors of the DataFrame API, raised on the client before anything runs where they can be.
import { KubedaskError } from '../protocol/errors.js';

/** An operation that cannot apply to this DataFrame: an unknown column, a type mismatch... */
export class DataFrameError extends KubedaskError {
  override name = 'DataFrameError';
}

/** A source that cannot be read: no file matches, a file is missing or unreadable, schemas differ. */
export class SourceError extends DataFrameError {
  override name = 'SourceError';
}

/** Polars' message without the plan dump it appends ("Resolved plan until failure: ..."). */
export function polarsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(/\n\s*\n?Resolved plan until failure/)[0]!.trim();
}
