// readParts: how a take reads bucket j of every split through a barrier's receipts. Held keys
// are read whole from the store; others are asked of their holders for that part only, with a
// key's next holder tried when one fails; keys no holder serves raise InputsMissingError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FetchResult, PeerClients } from '../../protocol/data-client.js';
import { DataStore } from '../../worker/runtime/data-store.js';
import { InputsMissingError } from '../../worker/runtime/errors.js';
import { readParts } from '../../worker/runtime/parts.js';
import { encodeParted } from '../../protocol/parted.js';
import type { ValuePart } from '../../worker/runtime/peer-server.js';

const PART: ValuePart = { index: 2, count: 4, cutter: 'df/bucket' };
const bytes = (s: string) => ({ encoding: 1, data: new TextEncoder().encode(s) });

/** Peers that serve `held[address]` keys (as "<address>:<key>:<part index>"), and fail for `down` addresses. */
function peers(held: Record<string, string[]>, down: string[] = []) {
  const calls: string[] = [];
  const fake = {
    fetch: async (address: string, keys: string[], part?: ValuePart): Promise<FetchResult> => {
      calls.push(`${address}:${keys.join(',')}`);
      if (down.includes(address)) throw new Error(`${address} unreachable`);
      const has = held[address] ?? [];
      return {
        values: keys.filter((k) => has.includes(k)).map((k) => ({ key: k, value: bytes(`${address}:${k}:${part?.index}`) })),
        missing: keys.filter((k) => !has.includes(k)).map((k) => ({ key: k, reason: 'not held' })),
      };
    },
  };
  return { calls, peers: fake as unknown as PeerClients };
}

const text = (p: Awaited<ReturnType<typeof readParts>>[number]) =>
  'part' in p ? new TextDecoder().decode(p.part.data) : `whole:${new TextDecoder().decode((p.whole as { data: Uint8Array }).data)}`;

test('held keys come whole from the store, the others as the part asked, in receipt order, one call per holder', async () => {
  const store = new DataStore({ memoryLimit: 0 });
  store.put('s1', bytes('mine'));
  const { calls, peers: p } = peers({ a: ['s0', 's2'], b: ['s3'] });
  const got = await readParts({ store, peers: p, self: 'me' }, 't', [['s0', ['a']], ['s1', ['me']], ['s2', ['a']], ['s3', ['b']]], PART);
  assert.deepEqual(got.map(text), ['a:s0:2', 'whole:mine', 'a:s2:2', 'b:s3:2']);
  assert.deepEqual(calls.sort(), ['a:s0,s2', 'b:s3']);
});

test('a holder that fails or lacks a key: its next holder is asked', async () => {
  const store = new DataStore({ memoryLimit: 0 });
  const { calls, peers: p } = peers({ b: ['s0'], c: ['s1'] }, ['a']);
  const got = await readParts({ store, peers: p, self: 'me' }, 't', [['s0', ['a', 'b']], ['s1', ['b', 'c']]], PART);
  assert.deepEqual(got.map(text), ['b:s0:2', 'c:s1:2']);
  assert.deepEqual(calls, ['a:s0', 'b:s1', 'b:s0', 'c:s1']);
});

test('keys no holder can serve raise InputsMissingError naming them and why', async () => {
  const store = new DataStore({ memoryLimit: 0 });
  const { peers: p } = peers({ b: ['s1'] }, ['a']);
  await assert.rejects(
    readParts({ store, peers: p, self: 'me' }, 'take-1', [['s0', ['a']], ['s1', ['b']], ['s2', ['me']]], PART),
    (err: unknown) => err instanceof InputsMissingError && err.task === 'take-1'
      && err.keys.slice().sort().join() === 's0,s2' && /a unreachable/.test(err.message),
  );
});

test('a split held here as parted bytes (spilled, or copied in) is read for that part only', async () => {
  const store = new DataStore({ memoryLimit: 0 });
  store.put('s0', { encoding: 1, data: encodeParted([bytes('b0').data, bytes('b1').data, bytes('b2').data, bytes('b3').data]) });
  const { calls, peers: p } = peers({});
  const got = await readParts({ store, peers: p, self: 'me' }, 't', [['s0', ['me']]], PART);
  assert.deepEqual(got.map(text), ['b2']);
  assert.deepEqual(calls, []);
});
