// progress() on a LocalCluster: live bars on a (fake) terminal that end with every group at
// 100 % and the target's result intact; nothing on a stream that is not a terminal; the
// DataFrame's compute({ progress }) and progress(df.persist()).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { DataFrameError, fromPolars, progress, type ProgressStream } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';

const CSI = '\x1b[';
const CLEAR_LINE = '\r\x1b[2K';

/** A stream that says it is a terminal, 60 columns wide, keeping what is written. */
function fakeTerminal(isTTY = true): ProgressStream & { text(): string } {
  const chunks: string[] = [];
  return { isTTY, columns: 60, write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

/** The lines of the last frame drawn: what follows the last cursor-up, cleared lines unwrapped. */
function lastFrame(text: string): string[] {
  let from = 0;
  for (let at = text.indexOf(CSI); at >= 0; at = text.indexOf(CSI, at + 1)) {
    const end = text.indexOf('A', at);
    if (end > at && /^\d+$/.test(text.slice(at + CSI.length, end))) from = end + 1; // ESC [ n A: n lines up
  }
  return text.slice(from).split('\n').filter(Boolean).map((l) => (l.startsWith(CLEAR_LINE) ? l.slice(CLEAR_LINE.length) : l));
}

// Work the scheduler can be seen in the middle of: each load task keeps its thread ~60 ms.
const load = (i: number): number => {
  const until = Date.now() + 60;
  while (Date.now() < until) { /* busy */ }
  return i * i;
};
const sum = (...xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('progress', () => {
  const fx = useCluster({ workers: 2, threads: 1 });

  it('draws bars in place on a terminal, ending with every group at 100 % and a summary', async () => {
    const { client } = fx;
    const squares = client.map(load, [0, 1, 2, 3, 4, 5, 6, 7], { group: 'load' });
    const total = client.submitWith({ group: 'sum' }, sum, ...squares);
    const out = fakeTerminal();
    const result = await progress(total, { client, stream: out, intervalMs: 20 });

    assert.equal(await total.result(), 140);
    assert.deepEqual(result.groups.map((g) => [g.group, g.done, g.total, g.erred]), [['load', 8, 8, 0], ['sum', 1, 1, 0]]);
    const text = out.text();
    assert.ok(text.includes(`${CSI}2A`), 'a live frame of 2 bars was drawn over at least once');
    const frame = lastFrame(text);
    assert.equal(frame.length, 3, frame.join('\n'));
    assert.match(frame[0]!, /^load \|█+\| 100% 8\/8$/);
    assert.match(frame[1]!, /^sum {2}\|█+\| 100% 1\/1$/);
    assert.match(frame[2]!, /^9 tasks in 2 groups, \d+\.\d\d s: 9 done$/);
    for (const line of frame) assert.ok(line.length <= 60, line);
  });

  it('a stream that is not a terminal gets nothing, unless quiet is false: then only the final bars', async () => {
    const { client } = fx;
    const silent = fakeTerminal(false);
    const futures = client.map(load, [1, 2, 3], { group: 'quiet-load' });
    const result = await progress(futures, { client, stream: silent, intervalMs: 20 });
    assert.equal(silent.text(), '');
    assert.deepEqual(result.groups.map((g) => [g.group, g.done, g.total]), [['quiet-load', 3, 3]]);
    assert.deepEqual(await client.gather(futures), [1, 4, 9]);

    const forced = fakeTerminal(false);
    await progress(futures, { client, stream: forced, quiet: false });
    assert.ok(!forced.text().includes('\x1b'), 'no cursor moves or colours');
    assert.match(forced.text(), /^quiet-load \|█+\| 100% 3\/3\n3 tasks in 1 group, \d+\.\d\d s: 3 done\n$/);

    const muted = fakeTerminal(true);
    await progress(futures, { client, stream: muted, quiet: true });
    assert.equal(muted.text(), '');
  });

  it('an erred task: counted erred, progress resolves, the future rejects with its error', async () => {
    const { client } = fx;
    const fails = (i: number): number => { if (i === 2) throw new Error('two is bad'); return i; };
    const futures = client.map(fails, [1, 2, 3], { group: 'fails' });
    const out = fakeTerminal();
    const result = await progress(futures, { client, stream: out, intervalMs: 20 });
    assert.deepEqual(result.groups.map((g) => [g.group, g.done, g.erred, g.total]), [['fails', 2, 1, 3]]);
    assert.match(lastFrame(out.text()).join('\n'), /100% 2\/3 1 erred\n3 tasks in 1 group, \d+\.\d\d s: 2 done, 1 erred$/);
    await assert.rejects(futures[1]!.result(), /two is bad/);
  });

  it('DataFrame: compute({ progress }) draws its groups to 100 %; progress(df.persist()) waits for the partitions', async () => {
    const { client } = fx;
    const df = fromPolars(pl.DataFrame({ k: [1, 2, 1, 2, 3, 3], v: [1, 2, 3, 4, 5, 6] }), { partitions: 3 });
    const out = fakeTerminal();
    const agg = await df.groupBy('k').agg(pl.col('v').sum().alias('v')).sort('k').compute({ client, progress: { stream: out, intervalMs: 20 } });
    assert.deepEqual(agg.toRecords(), [{ k: 1, v: 4 }, { k: 2, v: 6 }, { k: 3, v: 11 }]);
    const frame = lastFrame(out.text());
    assert.match(frame.at(-1)!, /^\d+ tasks in \d+ groups, \d+\.\d\d s: \d+ done$/);
    assert.ok(frame.slice(0, -1).every((l) => / 100% /.test(l)), frame.join('\n'));
    assert.ok(frame.some((l) => l.startsWith('collect ')), frame.join('\n'));

    const persisted = df.withColumns(pl.col('v').mul(10).alias('w')).persist({ client });
    const shown = fakeTerminal();
    const result = await progress(persisted, { client, stream: shown, intervalMs: 20 });
    assert.ok(result.groups.length > 0 && result.groups.every((g) => g.done === g.total), JSON.stringify(result.groups));
    assert.deepEqual((await persisted.compute({ client })).getColumn('w').toArray(), [10, 20, 30, 40, 50, 60]);

    assert.throws(() => df.persist({ client, progress: { intervalMs: -1 } }), /intervalMs must be a number >= 0, got -1/);
    await assert.rejects(progress(df.filter(pl.col('v').gt(1)), { client }), (err: Error) => err instanceof DataFrameError && /lazy/.test(err.message));
  });
});
