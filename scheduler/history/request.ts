// Checking a DeltaRequest (it comes over the wire and from users), on either side.
import type { DeltaRequest, SnapshotOptions } from './types.js';

/** A DeltaRequest that cannot be served (negative counts, not numbers). */
export class InvalidHistoryRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHistoryRequest';
  }
}

export function checkDeltaRequest(r: DeltaRequest): void {
  if (typeof r !== 'object' || r === null) throw new InvalidHistoryRequest('delta request: expected {cursor, lanes, groups, since}');
  for (const name of ['cursor', 'lanes', 'groups'] as const) {
    const v = r[name];
    if (!Number.isInteger(v) || v < 0) throw new InvalidHistoryRequest(`delta request: ${name} must be an integer >= 0, got ${String(v)}`);
  }
  if (typeof r.since !== 'number' || Number.isNaN(r.since)) {
    throw new InvalidHistoryRequest(`delta request: since must be a time in ms, got ${String(r.since)}`);
  }
  checkMaxEntries('delta request', r.maxEntries);
}

export function checkSnapshotOptions(o: SnapshotOptions): void {
  if (typeof o !== 'object' || o === null) throw new InvalidHistoryRequest('snapshot options: expected {maxEntries?}');
  checkMaxEntries('snapshot options', o.maxEntries);
}

function checkMaxEntries(what: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new InvalidHistoryRequest(`${what}: maxEntries must be an integer >= 1, got ${String(v)}`);
  }
}
