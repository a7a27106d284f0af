// validateGraph: whole-graph checks, iterative so that huge graphs cannot overflow the stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphValidationError } from '../../scheduler/state/errors.js';
import { validateGraph } from '../../scheduler/state/validate.js';
import { task } from './scheduler-harness.js';

const known = (keys: string[] = []) => (k: string) => keys.includes(k);
const anyFn = () => true;

function refusal(fn: () => void): GraphValidationError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GraphValidationError, `expected GraphValidationError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the graph to be refused');
}

test('a cycle is refused, naming the keys on it', () => {
  const e = refusal(() => validateGraph([task('a', ['c']), task('b', ['a']), task('c', ['b']), task('ok')], known(), anyFn));
  assert.equal(e.reason, 'cycle');
  assert.deepEqual([...(e.cycle ?? [])].sort(), ['a', 'b', 'c']);
  assert.match(e.message, /"a"/);
  assert.match(e.message, /"b"/);
  assert.match(e.message, /"c"/);
  assert.equal(refusal(() => validateGraph([task('s', ['s'])], known(), anyFn)).reason, 'cycle');
});

test('a dependency that is neither in the graph nor known is refused', () => {
  const e = refusal(() => validateGraph([task('a'), task('b', ['a', 'zzz'])], known(), anyFn));
  assert.equal(e.reason, 'missing-dependency');
  assert.equal(e.key, 'b');
  assert.equal(e.message, 'task "b" depends on "zzz", which is neither in the graph nor known to the scheduler');
  validateGraph([task('b', ['zzz'])], known(['zzz']), anyFn);
});

test('an unknown function, a duplicate key and bad fields are refused', () => {
  const fn = refusal(() => validateGraph([task('a', [], { functionId: 'nope' })], known(), (id) => id === 'f'));
  assert.equal(fn.reason, 'unknown-function');
  assert.equal(fn.key, 'a');
  assert.match(fn.message, /"nope"/);
  const dup = refusal(() => validateGraph([task('a'), task('b'), task('a')], known(), anyFn));
  assert.deepEqual([dup.reason, dup.key], ['duplicate-key', 'a']);
  const res = refusal(() => validateGraph([task('a', [], { resources: { GPU: -1 } })], known(), anyFn));
  assert.equal(res.reason, 'invalid-resources');
  assert.equal(refusal(() => validateGraph([task('a', [], { retries: -1 })], known(), anyFn)).reason, 'invalid-retries');
  assert.equal(refusal(() => validateGraph([task('')], known(), anyFn)).reason, 'invalid-key');
});

test('a 10,000-long chain and a 100,000-task graph validate without overflowing the stack', () => {
  const chain = Array.from({ length: 10_000 }, (_, i) => task(`c${i}`, i === 0 ? [] : [`c${i - 1}`]));
  validateGraph(chain, known(), anyFn);
  // Reversed order makes the search walk the whole chain from its far end.
  validateGraph([...chain].reverse(), known(), anyFn);
  const closed = [...chain];
  closed[0] = task('c0', ['c9999']);
  const e = refusal(() => validateGraph(closed, known(), anyFn));
  assert.equal(e.cycle?.length, 10_000);

  const wide = Array.from({ length: 100_000 }, (_, i) =>
    task(`t${i}`, i < 1000 ? [] : [`t${i - 1}`, `t${Math.floor(i / 2)}`, `t${i % 1000}`]));
  validateGraph(wide, known(), anyFn);
});
