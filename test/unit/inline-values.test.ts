// The client's store of values that came with their finish events: kept until dropped, within a
// byte budget that lets the oldest go first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InlineValues } from '../../client/inline-values.js';
import { Encoding } from '../../protocol/values.js';

const bytes = (n: number, fill = 1) => ({ encoding: Encoding.ENCODING_BYTES, data: new Uint8Array(n).fill(fill) });

test('inline values are kept by key until deleted or replaced, and counted in bytes', () => {
  const v = new InlineValues(100);
  v.put('a', bytes(10, 1));
  v.put('b', bytes(20, 2));
  assert.equal(v.size, 30);
  assert.equal(v.get('a')?.data[0], 1);
  v.put('a', bytes(5, 3));
  assert.equal(v.get('a')?.data[0], 3);
  assert.equal(v.size, 25);
  v.delete('a');
  v.delete('missing');
  assert.equal(v.get('a'), undefined);
  assert.equal(v.size, 20);
});

test('past the budget the oldest values go; one larger than the budget is not kept', () => {
  const v = new InlineValues(100);
  v.put('a', bytes(40));
  v.put('b', bytes(40));
  v.put('c', bytes(40));
  assert.equal(v.get('a'), undefined, 'the oldest went');
  assert.ok(v.get('b') && v.get('c'));
  assert.equal(v.size, 80);
  v.put('huge', bytes(101));
  assert.equal(v.get('huge'), undefined);
  assert.ok(v.get('b') && v.get('c'), 'a value that cannot fit evicts nothing');
  assert.equal(v.size, 80);
});
