// Every value kind that plain JSON would change travels unchanged through a real LocalCluster,
// as a task argument, through scatter and as a result, or is refused with one clear error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { otherArrowCopy } from '../helpers/arrow-copy.js';
import { useCluster } from '../helpers/cluster.js';

/** What a task sees: the value's own type tag, and the value itself back as its result. */
const describeValue = (v: unknown): [string, unknown] => [Object.prototype.toString.call(v), v];

const kinds: [string, unknown][] = [
  ['Map', new Map<unknown, unknown>([[1, 2], ['set', new Set(['a', 3n])]])],
  ['Set', new Set([1, 'two', null])],
  ['Date', new Date(1_700_000_000_123)],
  ['BigInt', 2n ** 70n],
  ['Array', [undefined, Number.NaN, Number.NEGATIVE_INFINITY, { $kd_t: 'user data' }]],
  ['Float64Array', Float64Array.from([1.5, -2.25])],
  ['Int16Array', Int16Array.from([-3, 4])],
  ['BigUint64Array', BigUint64Array.from([2n ** 64n - 1n])],
  ['Uint8ClampedArray', Uint8ClampedArray.from([0, 255])],
  ['ArrayBuffer', Uint8Array.from([9, 8, 7]).buffer],
  ['Uint8Array', Uint8Array.from([6, 5, 4])],
  ['Object', { nested: { when: new Date(0), data: Float32Array.from([0.5]), index: new Map([['k', [1n]]]) } }],
];

const rows = (t: unknown): unknown[] => (t as arrow.Table).toArray().map((r: { toJSON(): unknown }) => r.toJSON());

describe('values round-trip through a LocalCluster', () => {
  const fx = useCluster({ workers: 1, threads: 1 });

  it('as arguments and results', async () => {
    for (const [tag, value] of kinds) {
      assert.deepEqual(await fx.client.submit(describeValue, value).result(), [`[object ${tag}]`, value], tag);
    }
  });

  it('through scatter, gathered back and as a dependency', async () => {
    for (const [tag, value] of kinds) {
      const future = fx.client.scatter(value);
      assert.deepEqual(await future.result(), value, tag);
      assert.deepEqual(await fx.client.submit(describeValue, future).result(), [`[object ${tag}]`, value], tag);
    }
  });

  it('as values a task makes', async () => {
    const made = await fx.client.submit(() => ({ m: new Map([[1, 2]]), s: new Set([3]), d: new Date(5), b: 7n, f: Float64Array.from([1.5]) })).result();
    assert.deepEqual(made, { m: new Map([[1, 2]]), s: new Set([3]), d: new Date(5), b: 7n, f: Float64Array.from([1.5]) });
  });

  it('with Arrow tables nested in objects, arrays and Maps, both ways', async () => {
    const table = arrow.tableFromArrays({ x: Float64Array.from([0.5, 1.5]), s: ['a', 'b'] });
    // First as a dependency, while the task thread has not loaded apache-arrow yet.
    const scattered = fx.client.scatter(new Map([['t', table]]));
    assert.equal(await fx.client.submit((m: Map<string, arrow.Table>) => m.get('t')!.numRows, scattered).result(), 2);
    assert.deepEqual(rows((await scattered.result() as Map<string, arrow.Table>).get('t')), rows(table));
    const seen = await fx.client.submit((v: { t: arrow.Table[] }) => ({ rows: v.t[0]!.numRows, back: v }), { t: [table] }).result() as { rows: number; back: { t: arrow.Table[] } };
    assert.equal(seen.rows, 2);
    assert.deepEqual(rows(seen.back.t[0]), rows(table));
    const made = await fx.client.submit(async () => {
      const a = await import('apache-arrow');
      return [{ t: a.tableFromArrays({ i: Int32Array.from([1, 2, 3]) }) }];
    }).result() as { t: arrow.Table }[];
    assert.deepEqual(rows(made[0]!.t), [{ i: 1 }, { i: 2 }, { i: 3 }]);
  });

  it('with Arrow tables made by another copy of apache-arrow, as arguments and through scatter', async () => {
    const copy = await otherArrowCopy();
    try {
      const foreign = copy.arrow.tableFromArrays({ x: Float64Array.from([0.5, 1.5]), s: ['a', 'b'] });
      const expected = [{ x: 0.5, s: 'a' }, { x: 1.5, s: 'b' }];
      const sum = (t: arrow.Table): number => (t.getChild('x')!.toArray() as Float64Array).reduce((a, b) => a + b, 0);
      assert.equal(await fx.client.submit(sum, foreign).result(), 2);
      const scattered = fx.client.scatter({ nested: foreign });
      assert.deepEqual(rows((await scattered.result() as { nested: arrow.Table }).nested), expected);
    } finally {
      copy.remove();
    }
  });

  it('or refuses them with one ValueEncodingError naming where and what, everywhere', async () => {
    class Point { x = 1; }
    assert.throws(() => fx.client.submit(describeValue, { p: new Point() }), { name: 'ValueEncodingError', message: /^argument 0 of describeValue\.p is a Point/ });
    assert.throws(() => fx.client.scatter([new Point()]), { name: 'ValueEncodingError', message: /^scattered value\[0\] is a Point/ });
    await assert.rejects(fx.client.submit(() => { class Made { y = 2; } return new Map([['m', new Made()]]); }).result(), {
      name: 'RemoteTaskError', remoteName: 'ValueEncodingError', message: /^result of task \S+<Map value 0> is a Made/,
    });
  });

  it('small results come with their finish, larger ones by a Gather', async () => {
    const rpc = (fx.client as unknown as { rpc: { gather(clientId: string, keys: string[]): AsyncGenerator<unknown> } }).rpc;
    const gathered: string[][] = [];
    const gather = rpc.gather.bind(rpc);
    rpc.gather = (clientId, keys) => {
      gathered.push(keys);
      return gather(clientId, keys);
    };
    try {
      const make = (n: number) => new Uint8Array(n).map((_, i) => i % 251);
      const small = fx.client.submit(make, 200_000);
      assert.deepEqual(await small.result(), make(200_000));
      assert.deepEqual(await small.result(), make(200_000), 'read again, still without a Gather');
      assert.deepEqual(gathered, []);
      const large = fx.client.submit(make, 300_000);
      assert.deepEqual(await large.result(), make(300_000));
      assert.deepEqual(gathered, [[large.key]]);

      // Each read is its own copy.
      const first = await small.result() as Uint8Array;
      first[0] = 99;
      assert.equal((await small.result() as Uint8Array)[0], 0);

      // A finish that arrives for a key no Future holds any more (released while it travelled)
      // is not kept.
      const inline = (fx.client as unknown as { inline: { size: number } }).inline;
      const before = inline.size;
      (fx.client as unknown as { onEvents(e: unknown[]): void }).onEvents([{ key: 'nobody-holds-this', state: 'finished', value: { encoding: 2, data: new Uint8Array(1000) } }]);
      assert.equal(inline.size, before);
      small.release();
      assert.equal(inline.size, before - 200_000, 'released with its Future');
    } finally {
      rpc.gather = gather;
    }
  });
});
