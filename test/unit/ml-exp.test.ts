import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastExp } from '../../ml/core/exp.js';

const bits = new BigInt64Array(1);
const view = new Float64Array(bits.buffer);
/** Units in the last place between two finite doubles of one sign. */
function ulps(a: number, b: number): number {
  view[0] = a;
  const x = bits[0]!;
  view[0] = b;
  const d = x - bits[0]!;
  return Number(d < 0n ? -d : d);
}

test('fastExp is within 2 ulp of Math.exp across its whole range', () => {
  let worst = 0;
  let at = 0;
  // A fixed grid (no randomness): dense near 0, where gradients live, and across [-708, 709].
  const xs: number[] = [];
  for (let i = -200_000; i <= 200_000; i++) xs.push(i * 1e-4);
  for (let i = -70_800; i <= 70_900; i++) xs.push(i * 0.01 + 0.003);
  for (const x of xs) {
    const u = ulps(fastExp(x), Math.exp(x));
    if (u > worst) {
      worst = u;
      at = x;
    }
  }
  assert.ok(worst <= 2, `${worst} ulp at x = ${at}: ${fastExp(at)} against ${Math.exp(at)}`);
});

test('fastExp at the edges: exact at 0, Math.exp beyond its range, NaN stays NaN', () => {
  assert.equal(fastExp(0), 1);
  assert.equal(fastExp(-0), 1);
  for (const x of [-708, -708.5, -745, -746, -1e6, 709, 709.7, 710, 1e6, Infinity, -Infinity]) assert.equal(fastExp(x), Math.exp(x), `x = ${x}`);
  assert.ok(Number.isNaN(fastExp(NaN)));
  // Just inside the range, on both sides of it: finite, normal and close.
  for (const x of [-707.99, 708.99]) assert.ok(ulps(fastExp(x), Math.exp(x)) <= 2, `x = ${x}`);
});
