// The ml reference fixtures (test/fixtures/ml, written by the *_reference.py scripts with
// scikit-learn) and comparisons against them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';

const DIR = join(import.meta.dirname, '../../../test/fixtures/ml');

export function readFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(DIR, name), 'utf8')) as T;
}

/** The preprocessing input table (nulls where scikit-learn had NaN). */
export function preprocessData(): pl.DataFrame {
  const d = readFixture<Record<string, unknown[]>>('preprocess_data.json');
  return pl.DataFrame([
    pl.Series('x1', d.x1!, pl.Float64), pl.Series('x2', d.x2!, pl.Float64), pl.Series('x3', d.x3!, pl.Float64),
    pl.Series('const', d.const!, pl.Float64), pl.Series('city', d.city!, pl.String), pl.Series('size', d.size!, pl.Int64),
  ]);
}

/** Numbers equal within rtol (relative) or atol; null or NaN only where the other is null or NaN. */
export function assertClose(actual: ArrayLike<number | null>, expected: ArrayLike<number | null>, what: string, rtol = 1e-9, atol = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    const aMissing = a === null || a === undefined || Number.isNaN(a);
    const eMissing = e === null || e === undefined || Number.isNaN(e);
    if (aMissing || eMissing) {
      assert.equal(aMissing, eMissing, `${what}[${i}]: ${a} vs ${e}`);
      continue;
    }
    assert.ok(Math.abs(a! - e!) <= atol + rtol * Math.abs(e!), `${what}[${i}]: ${a} vs ${e}`);
  }
}

/** A frame's rows as arrays of numbers (nulls as null), for comparing with a reference matrix. */
export function rowsOf(df: pl.DataFrame): Array<Array<number | null>> {
  return (df.rows() as unknown[][]).map((r) => r.map((v) => (v === null ? null : Number(v))));
}

export function assertMatrixClose(actual: pl.DataFrame, expected: Array<Array<number | null>>, what: string, rtol = 1e-9): void {
  const rows = rowsOf(actual);
  assert.equal(rows.length, expected.length, `${what}: rows`);
  rows.forEach((r, i) => assertClose(r, expected[i]!, `${what} row ${i}`, rtol));
}
