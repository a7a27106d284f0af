// A worker's recent log lines (worker/runtime/log-buffer.ts): bounded in lines and UTF-8 bytes,
// the most recent kept in order; the worker's own lines shown with their fields.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINE_OVERHEAD_BYTES, LogBuffer, MAX_LINE_CHARS, MAX_LOG_LINES, lineOfRecord, type KeptLogLine } from '../../worker/runtime/log-buffer.js';

const line = (message: string, key = ''): KeptLogLine => ({ time: 1, level: 'info', message, key });
const messages = (b: LogBuffer, n?: number) => b.recent(n).map((l) => l.message);

describe('LogBuffer', () => {
  it('keeps the most recent maxLines lines, oldest first, and the n most recent on request', () => {
    const b = new LogBuffer(3);
    for (let i = 0; i < 1000; i++) b.push(line(`l${i}`));
    assert.equal(b.length, 3);
    assert.deepEqual(messages(b), ['l997', 'l998', 'l999']);
    assert.deepEqual(messages(b, 2), ['l998', 'l999']);
    assert.deepEqual(messages(b, 10), ['l997', 'l998', 'l999']);
  });

  it('drops the oldest lines to stay within maxBytes of UTF-8, and keeps none with maxLines 0', () => {
    const b = new LogBuffer(100, 2 * LINE_OVERHEAD_BYTES + 8);
    for (const m of ['aaaa', 'bbbb', 'cccc']) b.push(line(m));
    assert.deepEqual(messages(b), ['bbbb', 'cccc']);
    b.push(line('éé'));
    assert.deepEqual(messages(b), ['cccc', 'éé']);
    b.push(line('ééé'));
    assert.deepEqual(messages(b), ['ééé'], '5 characters but 10 bytes: more than the budget for two lines');
    b.push(line('x'.repeat(LINE_OVERHEAD_BYTES + 9)));
    assert.deepEqual(messages(b), ['ééé'], 'a line bigger than the whole budget is not kept');
    const none = new LogBuffer(0);
    none.push(line('x'));
    assert.deepEqual(none.recent(), []);
  });

  it('cuts a huge line and says how much it cut', () => {
    const b = new LogBuffer(2);
    b.push(line('x'.repeat(MAX_LINE_CHARS + 5)));
    const [kept] = messages(b);
    assert.equal(kept, `${'x'.repeat(MAX_LINE_CHARS)}... (5 more characters)`);
  });

  it('keeps the same lines as a plain list would, however its ring grows and wraps', () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let round = 0; round < 200; round++) {
      const maxLines = 1 + random(60);
      const maxBytes = LINE_OVERHEAD_BYTES * (1 + random(40)) + random(200);
      const b = new LogBuffer(maxLines, maxBytes);
      let model: string[] = [];
      const cost = (m: string) => Buffer.byteLength(m) + LINE_OVERHEAD_BYTES;
      for (let i = 0; i < 300; i++) {
        const m = `${i}:${'é'.repeat(random(3) === 0 ? random(80) : random(4))}`;
        b.push(line(m));
        if (cost(m) > maxBytes) continue;
        model.push(m);
        while (model.length > maxLines || model.reduce((n, x) => n + cost(x), 0) > maxBytes) model = model.slice(1);
        assert.deepEqual(messages(b), model, `round ${round}, line ${i}`);
      }
    }
  });

  it('takes the largest bound without allocating it, and refuses a bound out of range', () => {
    const big = new LogBuffer(MAX_LOG_LINES);
    big.push(line('one'));
    assert.deepEqual(messages(big), ['one']);
    assert.throws(() => new LogBuffer(-1), /integer from 0 to 1000000, got -1/);
    assert.throws(() => new LogBuffer(1.5), /integer from 0 to 1000000, got 1.5/);
    assert.throws(() => new LogBuffer(5_000_000_000), /integer from 0 to 1000000, got 5000000000/);
  });
});

describe('lineOfRecord', () => {
  it('shows a worker line with its fields as name=value, and a task line as printed, with its key', () => {
    const own = lineOfRecord({ time: 5, level: 'error', msg: 'module not installed', fields: { worker: 'w1', module: 'my mod', error: new TypeError('bad') } });
    assert.deepEqual(own, { time: 5, level: 'error', message: 'module not installed module="my mod" error="TypeError: bad"', key: '' });
    const task = lineOfRecord({ time: 6, level: 'info', msg: 'hello 7', fields: { worker: 'w1', key: 'inc-1', thread: 3 } });
    assert.deepEqual(task, { time: 6, level: 'info', message: 'hello 7', key: 'inc-1' });
  });
});
