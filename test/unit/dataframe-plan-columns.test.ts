// The optimizer's reading of serialized expressions, checked on nodejs-polars' own JSON: the
// columns read, the output name (against what Polars names the column) and row-wise-ness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { ALL, columnsRead, outputName, outputNames, renameColumns } from '../../dataframe/plan/columns.js';
import { isRowwise } from '../../dataframe/plan/elementwise.js';
import type { Expr } from '../../dataframe/plan/nodes.js';

const json = (e: pl.Expr): Expr => JSON.parse(e.serialize('json').toString()) as Expr;
const read = (e: pl.Expr) => {
  const cols = columnsRead(json(e));
  return cols === ALL ? ALL : [...cols].sort();
};
const { col, lit } = pl;

test('columnsRead: the columns an expression names, wherever they sit in it', () => {
  assert.deepEqual(read(col('a')), ['a']);
  assert.deepEqual(read(col('a').gt(3).and(col('b').isNull())), ['a', 'b']);
  assert.deepEqual(read(pl.when(col('a').gt(1)).then(col('b')).otherwise(col('c'))), ['a', 'b', 'c']);
  assert.deepEqual(read(col('a').sum().over('g')), ['a', 'g']);
  assert.deepEqual(read(col('a').sortBy('b')), ['a', 'b']);
  assert.deepEqual(read(col('a').filter(col('b').gt(0)).mean().alias('m')), ['a', 'b']);
  assert.deepEqual(read(pl.cols(['a', 'b'])), ['a', 'b']);
  assert.deepEqual(read(col('a').cast(pl.Float64).fillNull(col('d'))), ['a', 'd']);
});

test('columnsRead: literals read nothing, even a string equal to a column name', () => {
  assert.deepEqual(read(lit('a')), []);
  assert.deepEqual(read(pl.len()), []);
  assert.deepEqual(read(col('s').eq(lit('a'))), ['s']);
});

test('columnsRead: a selection by wildcard, dtype, regex, exclusion or position reads every column', () => {
  for (const e of [pl.all(), col('*'), col(pl.Int64), col('^a.*$'), pl.all().exclude('a'), pl.exclude('a'), pl.nth(0), pl.first(), pl.all().sum()]) {
    assert.equal(read(e), ALL, JSON.stringify(json(e)));
  }
});

test('outputName: where it names a column, Polars gives the same name', () => {
  const frame = pl.DataFrame({ a: [1.5], b: [2.5], s: ['x'], g: [1] });
  const exprs = [
    col('a'), col('a').alias('z'), col('a').mul(2), lit(1).add(col('a')), col('b').fillNull(col('a')),
    pl.when(col('a').gt(1)).then(col('b')).otherwise(col('a')), pl.when(col('a').gt(1)).then(lit(3)).otherwise(col('a')),
    col('a').mean(), col('a').std(), col('a').count(), col('a').sum().over('g'), col('a').sortBy('b'), pl.len(),
    col('a').cast(pl.Int64), col('a').suffix('_x'), col('a').prefix('p_'), col('a').mul(2).keepName(), col('s').str.contains('x'),
    col('a').isIn([1, 2]), col('a').diff({ n: 1, nullBehavior: 'ignore' }), col('a').filter(col('b').gt(0)).first(),
    pl.intRange(0, 1), pl.maxHorizontal([col('b'), col('a')]), pl.concatString([col('s'), col('s')]), col('a').clip(0, 1),
    col('a').pow(2), col('a').cast(pl.Int32).alias('q').suffix('_z'),
  ];
  for (const e of exprs) {
    const name = outputName(json(e));
    assert.notEqual(name, undefined, `named: ${JSON.stringify(json(e))}`);
    assert.equal(name, frame.select(e).columns[0], JSON.stringify(json(e)));
  }
});

test('outputName: undefined where the name depends on the frame or on a rule it does not know', () => {
  for (const e of [pl.all(), col(pl.Float64), pl.all().sum(), col('st').struct.field('x'), pl.struct(['a', 'b'])]) {
    assert.equal(outputName(json(e)), undefined, JSON.stringify(json(e)));
  }
  assert.deepEqual(outputNames(json(pl.cols(['a', 'b']))), ['a', 'b']);
  assert.equal(outputNames(json(pl.all())), undefined);
});

test('isRowwise: row by row operations are, aggregations, windows and order-dependent ones are not', () => {
  const rowwise = [
    col('a').gt(3).and(col('b').isNull()), col('s').str.contains('x'), col('a').cast(pl.Float64), col('a').isIn([1, 2]),
    pl.when(col('a').gt(1)).then(col('b')).otherwise(lit(null)), col('a').fillNull(0), col('a').abs().alias('z'),
    col('a').isNull().not(), col('d').date.year(), col('a').modulo(2).eq(0),
  ];
  const not = [
    col('a').mean(), col('a').gt(col('a').mean()), col('a').cumSum(), col('a').shift(1), col('a').sum().over('g'),
    col('a').rank(), col('a').isIn(col('b')), col('s').str.concat('-'), col('a').head(2), col('a').sort(),
    col('a').isDuplicated(), col('a').fillNull('forward'), col('a').diff({ n: 1, nullBehavior: 'ignore' }), pl.len(), col('a').filter(col('b').gt(0)),
    pl.intRange(0, 10), col('a').explode(), col('l').lst.eval(pl.element().mul(2)),
  ];
  for (const e of rowwise) assert.equal(isRowwise(json(e)), true, JSON.stringify(json(e)));
  for (const e of not) assert.equal(isRowwise(json(e)), false, JSON.stringify(json(e)));
});

test('renameColumns: renames the columns read, not literals equal to a name, and round-trips through Polars', () => {
  const e = json(col('a').gt(col('b')).and(col('s').eq(lit('a'))).or(pl.cols(['a']).isNull()));
  const renamed = renameColumns(e, (c) => (c === 'a' ? 'x' : c));
  const cols = columnsRead(renamed);
  assert.notEqual(cols, ALL);
  assert.deepEqual([...(cols as Set<string>)].sort(), ['b', 's', 'x']);
  assert.match(JSON.stringify(renamed), /"String":"a"/);
  const back = pl.Expr.deserialize(Buffer.from(JSON.stringify(renamed)), 'json');
  const out = pl.DataFrame({ x: [1, 5], b: [2, 2], s: ['a', 'a'] }).filter(back);
  assert.deepEqual(out.getColumn('x').toArray(), [5]);
});
