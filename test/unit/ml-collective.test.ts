// A member of a boosting block (ml/ensemble/block-thread.ts MemberRounds) against fake links:
// its shards' parts go out named by shard, step after step, and every shard's part is summed in
// shard order; a wait that fails fails the round (and the driver's fallback reports why), and
// a member told to stop runs no more rounds. memberRuns: how a worker's shards are shared
// among its threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemberRounds } from '../../ml/ensemble/block-thread.js';
import { growTogether, memberRuns } from '../../ml/ensemble/collective.js';
import { decodeGrownBlock, DIGEST_BYTES, encodeGrownBlock, type GrownBlock } from '../../ml/ensemble/booster.js';
import type { Collective } from '../../worker/runtime/builtins.js';
import type { ExchangePart } from '../../worker/runtime/mailbox.js';
import { decodeValue, encodeValue, type EncodedValue } from '../../protocol/values.js';
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

const until = async (test: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
};

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

  it('adds the parts in shard order, to the bit (an order that differs gives other bits here)', async () => {
    // 1e16 + 1 rounds the 1 away; 1 + 1 + 1e16 keeps both.
    const theirs = new Map([[0, bytes([1e16])], [2, bytes([-1e16])], [4, bytes([3])]]);
    const rounds = new MemberRounds([1, 3], [0, 1, 2, 1, 0], () => bytes([1]), { send: () => {}, take: async () => theirs }, () => undefined);
    const sum = await rounds.sumFloats('gbdt/round', {});
    assert.deepEqual(Array.from(sum), Array.from(sumFloatTree([bytes([1e16]), bytes([1]), bytes([-1e16]), bytes([1]), bytes([3])])));
    assert.notDeepEqual(Array.from(sum), Array.from(sumFloatTree([bytes([1]), bytes([1]), bytes([1e16]), bytes([-1e16]), bytes([3])])));
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

describe('a block as a member sends it (encodeGrownBlock)', () => {
  // Every number JSON cannot write: NaN and the infinities in thresholds, -0 in values, gains, leaves and scores.
  const tree = { output: 0, feature: [1, -1, -1], threshold: [Infinity, NaN, NaN], leftCategories: [null, null, [2, 5]], missingLeft: [true, false, false], left: [1, -1, -1], right: [2, -1, -1], value: [0, -0, 0.25], gain: [-0, 0, 0], count: [40, 10, 30] };
  const applied = { output: 0, splits: [{ node: 0, feature: 1, bin: 3, leftBins: [], missingLeft: true, left: 1, right: 2, build: 0 as const }], leaves: [[1, -0], [2, -Infinity]] as Array<[number, number]> };
  const block: GrownBlock = {
    trees: [tree], rounds: [{ step: 4, output: 0, root: true, gradients: true, apply: applied }, { step: 5, output: 0, splits: applied.splits }],
    validationScores: [-0.5, -Infinity, -0], pending: applied, hasMissing: [false, true], going: true,
  };

  it('comes back the same to the bit, with a digest that every member computes alike', () => {
    const sent = encodeGrownBlock(block, true);
    const back = decodeGrownBlock(sent);
    assert.deepStrictEqual(back.block, block);
    assert.ok(Object.is(back.block!.trees[0]!.value[1], -0) && Object.is(back.block!.pending!.leaves[0]![1], -0), '-0 stays -0');
    const digestOnly = encodeGrownBlock(block, false);
    assert.equal(digestOnly.byteLength, DIGEST_BYTES);
    assert.deepEqual(decodeGrownBlock(digestOnly), { digest: back.digest });
    // Another value, another digest (-0 against 0 too).
    const other = { ...block, trees: [{ ...tree, value: [0, 0, 0.25] }] };
    assert.notEqual(decodeGrownBlock(encodeGrownBlock(other, false)).digest, back.digest);
    assert.throws(() => decodeGrownBlock(new Uint8Array(10)), /a member's result of 10 bytes/);
  });
});

describe('a worker\'s side of a boosting block (growTogether)', () => {
  /** A member's result without the block: its digest. */
  const DIGEST = new TextEncoder().encode('d'.repeat(DIGEST_BYTES));

  /** Rank 0 of two, one shard; its member answers on its port as the test says. */
  function rank0(nthreads = 1) {
    const sent: ExchangePart[] = [];
    const log: string[] = [];
    let watch!: { reject: (e: Error) => void };
    let finishMember!: () => void;
    const c: Collective = {
      address: '127.0.0.1:1',
      send: async (_to, part) => void sent.push(part),
      take: (_group, step) => {
        if (step === 0) return Promise.resolve(new Map([[1, new TextEncoder().encode(JSON.stringify({ members: [{ address: '127.0.0.1:2', token: 't1', shards: [1] }] }))]]));
        return new Promise((_, reject) => (watch = { reject }));
      },
      ended: () => undefined,
      close: () => log.push('closed'),
      runPool: (_name, _params, _inputs, options) => new Promise((resolve, reject) => {
        const port = options!.port!;
        port.postMessage({ port: 3, token: 't0' });
        port.on('message', (m: { members?: unknown; abort?: string }) => {
          if (m.members) {
            log.push(`told ${JSON.stringify(m)}`);
            finishMember = () => resolve(encodeValue(DIGEST));
          } else {
            log.push(`abort: ${m.abort}`);
            // The member stops at its next round, a moment later.
            setImmediate(() => {
              log.push('member ended');
              port.close();
              reject(new Error(`ml/gbdt-grow: ${m.abort}`));
            });
          }
        });
      }),
      idleThreads: () => nthreads,
      links: { host: '127.0.0.1' },
    };
    const params = { group: 'g', rank: 0, peers: ['127.0.0.1:1', '127.0.0.1:2'], shards: [[0], [1]], snapshot: {}, iterations: 1 };
    const context = { key: 'k', nthreads, collective: c, readParts: () => Promise.reject(new Error('none')) };
    return { run: () => growTogether(params, [{ encoding: 0, native: {} } as never], context), sent, log, watch: () => watch, finish: () => finishMember() };
  }

  it('tells its member every member\'s address and which shards are whose, and returns its result', async () => {
    const r = rank0();
    const running = r.run();
    await until(() => r.log.some((l) => l.startsWith('told')));
    assert.deepEqual(JSON.parse(r.log[0]!.slice('told '.length)), { members: [{ address: '127.0.0.1:3', token: 't0' }, { address: '127.0.0.1:2', token: 't1' }], owners: [0, 1], self: 0 });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(r.sent[0]!.data)), { members: [{ address: '127.0.0.1:3', token: 't0', shards: [0] }] });
    r.finish();
    assert.deepEqual(decodeValue(await running as EncodedValue), DIGEST);
  });

  it('a peer\'s failure stops its member; it tells the peers and ends only after its member has', async () => {
    const r = rank0();
    const running = r.run();
    await until(() => r.log.some((l) => l.startsWith('told')));
    r.watch().reject(new Error('collective g: the task of rank 1 failed: out of memory'));
    await assert.rejects(running, /rank 1 failed: out of memory/);
    assert.deepEqual(r.log.slice(1), ['abort: collective g: the task of rank 1 failed: out of memory', 'member ended', 'closed']);
    assert.ok(r.sent.some((p) => p.failed?.includes('out of memory')), 'the peers told');
  });
});
