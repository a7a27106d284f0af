// A member of a boosting block (ml/ensemble/block-thread.ts MemberRounds) against fake links:
// its shards' parts go out named by shard, step after step, and every shard's part is summed in
// shard order; a wait that fails fails the round (and the driver's fallback reports why), and
// a member told to stop runs no more rounds. memberRuns: how a worker's shards are shared
// among its threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemberRounds } from '../../ml/ensemble/block-thread.js';
import { memberRuns } from '../../ml/ensemble/collective.js';
import { sumFloatTree } from '../../ml/core/shards.js';

const bytes = (xs: number[]): Uint8Array => new Uint8Array(Float64Array.from(xs).buffer);

/** Member 1 of three, holding shards 1 and 3 of 5 (0 and 4 member 0's, 2 member 2's). */
function member1(take: (step: number, keys: readonly number[]) => Promise<Map<number, Uint8Array>>, stopped: () => Error | undefined = () => undefined) {
  const sent: Array<[number, number, number[]]> = [];
  const ran: Array<[number, string]> = [];
  const rounds = new MemberRounds([1, 3], [0, 1, 2, 1, 0], (i, name) => {
    ran.push([i, name]);
    return bytes([10 * (i + 1), ran.length]);
  }, {
    send: (step, key, data) => void sent.push([step, key, Array.from(new Float64Array(data.buffer))]),
    take: (step, keys) => take(step, keys),
  }, stopped);
  return { rounds, sent, ran };
}

describe('a member of a boosting block', () => {
  it('sends its shards\' parts by shard and sums all five in shard order, step after step', async () => {
    const asked: Array<[number, number[]]> = [];
    const theirs = (step: number) => new Map([[0, bytes([1, step])], [2, bytes([2, step])], [4, bytes([4, step])]]);
    const { rounds, sent } = member1(async (step, keys) => {
      asked.push([step, [...keys]]);
      return theirs(step);
    });
    for (let step = 0; step < 2; step++) {
      const sum = await rounds.sumFloats('gbdt/round', {});
      const mine = [bytes([10, 2 * step + 1]), bytes([20, 2 * step + 2])];
      const t = theirs(step);
      assert.deepEqual(Array.from(sum), Array.from(sumFloatTree([t.get(0)!, mine[0]!, t.get(2)!, mine[1]!, t.get(4)!])));
    }
    assert.deepEqual(asked, [[0, [0, 2, 4]], [1, [0, 2, 4]]]);
    assert.deepEqual(sent, [[0, 1, [10, 1]], [0, 3, [20, 2]], [1, 1, [10, 3]], [1, 3, [20, 4]]]);
  });

  it('a wait that fails fails the round, and the driver\'s fallback for a stale state reports it', async () => {
    const { rounds } = member1(async () => { throw new Error('links: member 2 failed: out of memory'); });
    await assert.rejects(rounds.sumFloats('gbdt/round', {}), /member 2 failed: out of memory/);
    await assert.rejects(rounds.mapShard(), /member 2 failed: out of memory/);
  });

  it('a member told to stop runs no more rounds', async () => {
    const stop: { err?: Error } = {};
    const { rounds, ran } = member1(async (step) => new Map([[0, bytes([0, step])], [2, bytes([0, 0])], [4, bytes([0, 0])]]), () => stop.err);
    await rounds.sumFloats('gbdt/round', {});
    stop.err = new Error('ml/gbdt-grow: the task was interrupted');
    await assert.rejects(rounds.sumFloats('gbdt/round', {}), /interrupted/);
    assert.equal(ran.length, 2, 'only the first round ran, on both shards');
  });

  it('a worker\'s shards are shared among at most as many members as it has threads, in runs', () => {
    assert.deepEqual(memberRuns(1, 4), [[0, 1]]);
    assert.deepEqual(memberRuns(5, 2), [[0, 2], [2, 5]]);
    assert.deepEqual(memberRuns(3, 8), [[0, 1], [1, 2], [2, 3]]);
    assert.deepEqual(memberRuns(4, 1), [[0, 4]]);
  });
});
