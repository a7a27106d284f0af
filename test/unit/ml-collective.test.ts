// A collective rank's steps (ml/ensemble/collective.ts PeerRounds) against a fake worker: a step
// takes the peers' parts without waiting for its own parts' acks, and a part that could not be
// sent fails the rank, whether its failure comes before the peers' parts or after.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PeerRounds } from '../../ml/ensemble/collective.js';
import { sumFloatTree } from '../../ml/core/shards.js';
import type { Collective } from '../../worker/runtime/builtins.js';
import type { ExchangePart } from '../../worker/runtime/mailbox.js';
import { Encoding } from '../../protocol/values.js';

const bytes = (xs: number[]): Uint8Array => new Uint8Array(Float64Array.from(xs).buffer);

interface Deferred<T> { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void }
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Rank 0 of two, one shard each; every send and take waits on a promise the test settles. */
function rank0() {
  const sends: Array<{ part: ExchangePart; ack: Deferred<void> }> = [];
  const takes: Array<{ step: number; parts: Deferred<Map<number, Uint8Array>> }> = [];
  let pooled = 0;
  const c: Collective = {
    address: 'a:1',
    send: (_address, part) => {
      const ack = deferred<void>();
      sends.push({ part, ack });
      return ack.promise;
    },
    take: (_group, step) => {
      const parts = deferred<Map<number, Uint8Array>>();
      takes.push({ step, parts });
      return parts.promise;
    },
    ended: () => undefined,
    close: () => {},
    runPool: () => {
      pooled++;
      return Promise.resolve({ encoding: Encoding.ENCODING_BYTES, data: bytes([1, 2]) });
    },
  };
  const rounds = new PeerRounds({ group: 'g', rank: 0, peers: ['a:1', 'b:1'], shards: [[0], [1]] }, [1], [{ encoding: 0, native: {} }], c, undefined);
  return { rounds, sends, takes, pooled: () => pooled };
}

const until = async (test: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
};

describe('a collective rank\'s steps', () => {
  it('sum every shard\'s part in shard order as soon as the peers\' are here, their own parts\' acks still out', async () => {
    const { rounds, sends, takes } = rank0();
    const step = rounds.sumFloats('gbdt/round', {});
    await until(() => takes.length === 1);
    assert.deepEqual(sends.map((s) => [s.part.step, s.part.rank]), [[0, 0]], 'its shard\'s part, named by the shard');
    takes[0]!.parts.resolve(new Map([[1, bytes([10, 20])]]));
    assert.deepEqual(Array.from(await step), Array.from(sumFloatTree([bytes([1, 2]), bytes([10, 20])])));
    let sent = false;
    void rounds.sent().then(() => (sent = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(sent, false, 'the ack is still out');
    sends[0]!.ack.resolve();
    await rounds.sent();
  });

  it('a part that cannot be sent ends the wait for the peers\' parts', async () => {
    const { rounds, sends, takes } = rank0();
    const step = rounds.sumFloats('gbdt/round', {});
    await until(() => takes.length === 1 && sends.length === 1);
    sends[0]!.ack.reject(new Error('collective g: the part for b:1 did not go: refused'));
    await assert.rejects(step, /refused/);
  });

  it('a part that fails after the peers\' parts came fails the next step, before it runs', async () => {
    const { rounds, sends, takes, pooled } = rank0();
    const first = rounds.sumFloats('gbdt/round', {});
    await until(() => takes.length === 1);
    takes[0]!.parts.resolve(new Map([[1, bytes([10, 20])]]));
    await first;
    sends[0]!.ack.reject(new Error('collective g: the part for b:1 did not go: no ack within 30000 ms'));
    await new Promise((r) => setImmediate(r));
    await assert.rejects(rounds.sumFloats('gbdt/round', {}), /no ack within/);
    assert.equal(pooled(), 1, 'the failed step ran nothing');
    await assert.rejects(rounds.sent(), /no ack within/);
  });
});
