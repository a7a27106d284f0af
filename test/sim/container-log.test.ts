// Container log files on kube-sim, checked directly: `--tail` found by reading back from the end
// (lines made of partial CRI entries count once), rotation at the size cap keeping the newest
// output, a stream that reads on only as its client drains, a follower that reads on across a rotation and stops when the run ends.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerLog, LogInstance } from '../../sim/kubelet/container-log.js';
import { readRun, tailOffset } from '../../sim/kubelet/container-log-reader.js';
import { streamLog } from '../../sim/kubelet/container-logs-endpoint.js';
import { waitUntil } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'container-log-test-'));
let files = 0;
const newRun = (maxBytes?: number) => new LogInstance(join(dir, `${files++}.log`), maxBytes);

/** The text of every entry from `from` on, partial pieces joined to their lines. */
async function readText(run: LogInstance, from: number, follow = false, signal = new AbortController().signal): Promise<string> {
  let text = '';
  for await (const entries of readRun(run, from, follow, signal)) text += entries.map((e) => e.text + (e.partial ? '' : '\n')).join('');
  return text;
}

const tail = async (run: LogInstance, n: number) => readText(run, await tailOffset(run, n));

describe('container log files', () => {
  it('the last N lines count a line of partial entries once', async () => {
    const run = newRun();
    run.append('stdout', Buffer.from('one\ntw'));
    run.append('stdout', Buffer.from('o\nthree\nfo'));
    assert.equal(await tail(run, 1), 'fo');
    assert.equal(await tail(run, 3), 'two\nthree\nfo');
    assert.equal(await tail(run, 10), 'one\ntwo\nthree\nfo');
    assert.equal(await tail(run, 0), '');
  });

  it('the last N lines of a log many read-blocks long, a line longer than a block among them', async () => {
    const run = newRun();
    for (let i = 0; i < 20_000; i++) run.append('stdout', Buffer.from(`line ${i}\n`));
    const long = 'x'.repeat(200_000);
    run.append('stdout', Buffer.from(long.slice(0, 100_000)));
    run.append('stdout', Buffer.from(`${long.slice(100_000)}\nlast\n`));
    assert.equal(await tail(run, 1), 'last\n');
    assert.equal(await tail(run, 3), `line 19999\n${long}\nlast\n`);
    assert.equal((await readText(run, 0)).split('\n').length, 20_003);
  });

  it('a file passing the cap is rotated: the current file stays under it and holds the newest output', async () => {
    const run = newRun(4096);
    for (let i = 0; i < 1000; i++) run.append('stdout', Buffer.from(`line ${i}\n`));
    assert.ok(statSync(run.path).size <= 4096, `${statSync(run.path).size} bytes`);
    assert.ok(run.generation > 0);
    assert.equal(await tail(run, 1), 'line 999\n');
    const kept = (await readText(run, 0)).trim().split('\n');
    assert.equal(kept.at(-1), 'line 999');
    assert.deepEqual(kept, kept.map((_l, i) => `line ${1000 - kept.length + i}`), 'whole lines, newest last, none missing');
  });

  it('a follower reads on across a rotation and ends with the run', async () => {
    const run = newRun(2048);
    let text = '';
    const followed = (async () => {
      for await (const entries of readRun(run, 0, true, new AbortController().signal)) text += entries.map((e) => `${e.text}\n`).join('');
    })();
    const lines = (from: number, to: number) => Array.from({ length: to - from }, (_v, i) => `line ${from + i}\n`).join('');
    run.append('stdout', Buffer.from(lines(0, 40)));
    await waitUntil(() => text === lines(0, 40), 'the follower to read the first file');
    run.append('stderr', Buffer.from(lines(40, 80))); // passes the cap: a new file
    assert.equal(run.generation, 1);
    run.end();
    await followed;
    assert.equal(text, lines(0, 80));
  });

  it('a follower whose run ends while it reads ends too (its wake-up is not lost)', async () => {
    const run = newRun();
    run.append('stdout', Buffer.from('only line\n'));
    const reader = readRun(run, 0, true, new AbortController().signal);
    assert.deepEqual((await reader.next()).value?.map((e: { text: string }) => e.text), ['only line']);
    // The next read finds nothing; the run ends before that read comes back, with nothing more written.
    const next = reader.next();
    run.end();
    const outcome = await Promise.race([next.then((r) => (r.done ? 'ended' : 'entries')), new Promise((r) => setTimeout(r, 5_000, 'still waiting'))]);
    assert.equal(outcome, 'ended');
  });

  it('a log stream reads on only as a slow client drains', async () => {
    const run = newRun();
    for (let i = 0; i < 20_000; i++) run.append('stdout', Buffer.from(`line ${i}\n`));
    let written = '';
    let ended = false;
    // A client that is always behind: each write asks the stream to wait for 'drain'.
    const res = Object.assign(new EventEmitter(), {
      writeHead: () => undefined,
      write: (b: Buffer) => { written += b.toString(); return false; },
      end: () => { ended = true; },
    });
    const streamed = streamLog(run, { follow: false, timestamps: false }, res as unknown as ServerResponse);
    await waitUntil(() => res.listenerCount('drain') > 0, 'the stream to wait for the client');
    assert.ok(written.length > 0 && written.length <= 128 * 1024, `${written.length} bytes written before the client drained`);
    while (!ended) {
      res.emit('drain');
      await waitUntil(() => ended || res.listenerCount('drain') > 0, 'the next chunk or the end');
    }
    await streamed;
    assert.equal(written, Array.from({ length: 20_000 }, (_v, i) => `line ${i}\n`).join(''));
  });

  it('only the current and the previous run of a container are kept on disk', () => {
    const log = new ContainerLog(join(dir, 'restarts'));
    const runs = [log.start(), log.start(), log.start()];
    for (const r of runs) r.end();
    assert.throws(() => statSync(runs[0]!.path), /ENOENT/);
    assert.ok(statSync(runs[1]!.path).isFile());
    assert.equal(log.previous, runs[1]);
    assert.equal(log.current, runs[2]);
  });
});
