// Float literals reach the workers' Polars unchanged: exactJson writes the JSON that
// Expr.deserialize reads, whose float parser is not correctly rounded (plain JSON.stringify
// loses an ulp on about one 17-digit number in nine; the workers' copy of a fitted coefficient
// or a computed threshold would then differ from the client's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { exactJson, exactToken } from '../../dataframe/kernels/exact-json.js';

/** The value Polars gets from an expression's JSON text. */
function readBack(text: string): unknown {
  return pl.DataFrame({ a: [1] }).select(pl.Expr.deserialize(Buffer.from(text), 'json')).getColumn('x').get(0);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('float literals of every magnitude read back exactly, where plain JSON loses an ulp on many', () => {
  const random = lcg(42);
  let exact = 0;
  let plain = 0;
  const n = 600;
  for (let i = 0; i < n; i++) {
    const v = (random() - 0.5) * 10 ** Math.floor(random() * 600 - 300);
    const e = JSON.parse(pl.lit(v).alias('x').serialize('json').toString()) as unknown;
    const viaPlain = readBack(JSON.stringify(e)) === v;
    const viaExact = readBack(exactJson(e)) === v;
    if (viaPlain) assert.ok(viaExact, `${v}: plain JSON read it back exactly, exactJson did not`);
    exact += viaExact ? 1 : 0;
    plain += viaPlain ? 1 : 0;
  }
  assert.ok(plain < n * 0.97, `plain JSON kept ${plain} of ${n}: the parser is lossy, as this test assumes`);
  assert.ok(exact >= n * 0.995, `exactJson kept ${exact} of ${n}`);
});

test('short numbers, integers and strings are written as JSON.stringify writes them', () => {
  const value = { a: 0.1, b: -2.5e-7, c: 3, d: 2 ** 60, s: '\u0000 1e5', nested: [1.5, { x: 'y' }], nan: NaN };
  assert.equal(exactJson(value), JSON.stringify(value));
  assert.equal(exactJson({ z: -0 }), '{"z":-0.0}', '-0 keeps its sign (JSON.stringify writes 0)');
  assert.ok(Object.is(readBack(exactJson(JSON.parse(pl.lit(-0).alias('x').serialize('json').toString()))), -0));
  // A 17-digit number that plain JSON would change gets digits and an exponent instead.
  const v = 0.044857820472919196;
  assert.equal(readBack(JSON.stringify(JSON.parse(pl.lit(v).alias('x').serialize('json').toString()))) === v, false);
  assert.match(exactToken(v)!, /^\d+e-\d+$/);
  assert.match(exactJson({ v, neg: -v, s: 'text' }), /^\{"v":\d+e-\d+,"neg":-\d+e-\d+,"s":"text"\}$/);
});
