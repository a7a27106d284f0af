// A worker's recent log lines (worker/runtime/log-buffer.ts): bounded in lines and characters,
// the most recent kept in order; the worker's own lines shown with their fields.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogBuffer, MAX_LINE_CHARS, lineOfRecord, type WorkerLogLine } from '../../worker/runtime/log-buffer.js';

const line = (message: string, key = ''): WorkerLogLine => ({ time: 1, level: 'info', message, key });
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

  it('drops the oldest lines to stay within maxChars, and keeps none with maxLines 0', () => {
    const b = new LogBuffer(100, 10);
    for (const m of ['aaaa', 'bbbb', 'cccc']) b.push(line(m));
    assert.deepEqual(messages(b), ['bbbb', 'cccc']);
    b.push(line('0123456789'));
    assert.deepEqual(messages(b), ['0123456789']);
    b.push(line('too long for the budget'));
    assert.deepEqual(messages(b), ['0123456789'], 'a line bigger than the whole budget is not kept');
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

  it('refuses a bound that is not a whole number >= 0', () => {
    assert.throws(() => new LogBuffer(-1), /integer >= 0, got -1/);
    assert.throws(() => new LogBuffer(1.5), /integer >= 0, got 1.5/);
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
