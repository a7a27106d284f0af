// The progress bars' text (client/progress-render.ts): exact lines for given counts, with and
// without colour, at several widths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderBars, renderSummary } from '../../client/progress-render.js';
import type { TaskGroupProgress } from '../../client/progress-types.js';

const g = (group: string, total: number, done: number, erred = 0): TaskGroupProgress =>
  ({ group, total, done, erred, processing: 0, queued: 0, waiting: total - done - erred });
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

test('one aligned line per group, in the order given: name, bar, percent, done/total', () => {
  // 52 columns: 12 for the name, 14 for ' |', '| ', the percent and the counts, 26 for the bar.
  assert.deepEqual(renderBars([g('read-parquet', 10, 5), g('filter', 10, 10), g('sum', 4, 0)], { width: 52, color: false }), [
    `read-parquet |${'█'.repeat(13)}${'░'.repeat(13)}|  50%  5/10`,
    `filter       |${'█'.repeat(26)}| 100% 10/10`,
    `sum          |${'░'.repeat(26)}|   0%  0/ 4`,
  ]);
});

test('the widest line is exactly as wide as asked: the bar takes what is left', () => {
  for (const width of [40, 52, 80, 200]) {
    const lines = renderBars([g('read-parquet', 1000, 999), g('x', 3, 1, 1)], { width, color: false });
    assert.deepEqual(lines.map((l) => l.length), [width - ' 1 erred'.length, width], `width ${width}`);
  }
});

test('erred tasks: x cells and an erred count, red only in colour', () => {
  const groups = [g('load', 4, 2, 1), g('sum', 1, 1)];
  assert.deepEqual(renderBars(groups, { width: 40, color: false }), [
    'load |████████xxxx░░░░|  75% 2/4 1 erred',
    'sum  |████████████████| 100% 1/1',
  ]);
  assert.deepEqual(renderBars(groups, { width: 40, color: true }), [
    `load |████████${RED}xxxx${RESET}░░░░|  75% 2/4 ${RED}1 erred${RESET}`,
    'sum  |████████████████| 100% 1/1',
  ]);
});

test('long names are cut with an ellipsis to a third of the width; 100 % only when all finished', () => {
  const [line] = renderBars([g('a-very-long-group-name-indeed', 1000, 999)], { width: 45, color: false });
  assert.equal(line, 'a-very-long-gr… |███████████░|  99%  999/1000');
  assert.deepEqual(renderBars([], { width: 80, color: false }), []);
  assert.deepEqual(renderBars([g('empty', 0, 0)], { width: 30, color: false }), ['empty |█████████████| 100% 0/0']);
});

test('the summary: tasks, groups, time, and what did not finish', () => {
  const groups = [g('load', 4, 2, 1), g('sum', 2, 1)];
  assert.equal(renderSummary(groups, 1234, false), '6 tasks in 2 groups, 1.23 s: 3 done, 1 erred, 2 not finished');
  assert.equal(renderSummary(groups, 1234, true), `6 tasks in 2 groups, 1.23 s: 3 done, ${RED}1 erred${RESET}, 2 not finished`);
  assert.equal(renderSummary([g('one', 1, 1)], 50, true), '1 task in 1 group, 0.05 s: 1 done');
});
