// Task functions compiled from source on workers, including esbuild/tsx output that calls __name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileFunction } from '../../worker/runtime/compile-function.js';

describe('compileFunction', () => {
  it('runs esbuild/tsx output whose inner functions and classes are wrapped in __name', () => {
    // What esbuild emits with keepNames for a task with an inner named function and class.
    const source = `(xs) => {
      function double(x) { return x * 2; }
      __name(double, "double");
      const Box = class { constructor(v) { this.v = v; } };
      __name(Box, "Box");
      return [xs.map(double), new Box(1).constructor.name, double.name];
    }`;
    assert.deepEqual(compileFunction({ name: 'task', source })([1, 2]), [[2, 4], 'Box', 'double']);
  });

  it('compiles method shorthand and says when the source is not a function', () => {
    const holder = { triple(x: number) { return x * 3; } };
    assert.equal(compileFunction({ name: 'triple', source: holder.triple.toString() })(2), 6);
    assert.throws(() => compileFunction({ name: 'notFn', source: '42' }), /source of notFn is not a function/);
  });
});
