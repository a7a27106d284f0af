// How a task reads its share of values it does not depend on directly (a shuffle's take: bucket
// j of every split, found through the barrier's receipts): a key held here is read whole from
// the data store; the others are asked of their holders for that part only, all holders at
// once, falling back to a key's next holder when one fails. Keys no holder can serve raise
// InputsMissingError, which the worker reports as missing (recomputed), not as the task's error.
import type { PeerClients } from '../../protocol/data-client.js';
import { PART_ENCODING } from '../../protocol/parted.js';
import type { EncodedValue } from '../../protocol/values.js';
import type { DataStore, StoredValue } from './data-store.js';
import { InputsMissingError } from './errors.js';
import type { ValuePart } from './peer-server.js';

/** One key's share: the whole value (held here), or only the part asked for (from a peer). */
export type PartOf = { key: string; whole: StoredValue } | { key: string; part: EncodedValue };

export interface PartSource {
  store: DataStore;
  peers: PeerClients;
  /** This worker's own address (a receipt naming it means: read the store). */
  self: string;
  /** Each part fetched from a peer (for the task stream and the transfer metrics). */
  onFetched?: (key: string, nbytes: number, startMs: number, durationMs: number) => void;
}

/** Part `part` of each key, in the order of `holders` (key -> holders' addresses). */
export async function readParts(source: PartSource, task: string, holders: ReadonlyArray<readonly [string, readonly string[]]>, part: ValuePart): Promise<PartOf[]> {
  const got = new Map<string, PartOf>();
  const left = new Map<string, string[]>();
  for (const [key, addresses] of holders) {
    // Held here: kept as parted bytes (spilled, or copied in), only that part; native, as it is.
    const bytes = await source.store.readPart(key, part.index).catch(() => undefined);
    const whole = bytes ? undefined : await source.store.getStored(key).catch(() => undefined);
    if (bytes) got.set(key, { key, part: { encoding: PART_ENCODING, data: bytes } });
    else if (whole) got.set(key, { key, whole });
    else left.set(key, addresses.filter((a) => a !== source.self));
  }
  const reasons: string[] = [];
  const lost: string[] = [];
  while (left.size > 0) {
    const byHolder = new Map<string, string[]>();
    for (const [key, addresses] of left) {
      const next = addresses[0];
      if (next !== undefined) byHolder.set(next, [...(byHolder.get(next) ?? []), key]);
      else {
        lost.push(key);
        left.delete(key);
      }
    }
    await Promise.all([...byHolder].map(async ([address, keys]) => {
      const startMs = Date.now();
      const fetched = await source.peers.fetch(address, keys, part).catch((err: Error) => {
        reasons.push(`${address}: ${err.message}`);
        return undefined;
      });
      const durationMs = Date.now() - startMs;
      const bytes = fetched?.values.reduce((n, { value }) => n + value.data.byteLength, 0) ?? 0;
      let at = startMs;
      for (const { key, value } of fetched?.values ?? []) {
        got.set(key, { key, part: value });
        left.delete(key);
        // One call brought them all: each its share of the time, by bytes, as dependency fetches are shown.
        const share = bytes > 0 ? value.data.byteLength / bytes : 1 / fetched!.values.length;
        source.onFetched?.(key, value.data.byteLength, at, durationMs * share);
        at += durationMs * share;
      }
      for (const m of fetched?.missing ?? []) reasons.push(`${address} lacks ${m.key}: ${m.reason}`);
      for (const key of keys) left.get(key)?.shift(); // not served there: try its next holder
    }));
  }
  if (lost.length > 0) throw new InputsMissingError(task, lost, reasons);
  return holders.map(([key]) => got.get(key)!);
}
