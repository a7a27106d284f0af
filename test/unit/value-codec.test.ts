// The value codec that task threads use without Apache Arrow loaded (protocol/value-codec.ts),
// and the client's codec (protocol/values.ts) that binds Arrow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { kubedask } from '../../protocol/generated/kubedask.js';
import { Encoding, decodeValue, encodeValue, isArrowTable } from '../../protocol/value-codec.js';
import * as values from '../../protocol/values.js';

describe('value codec', () => {
  it('has the proto\'s Encoding numbers', () => {
    const generated = Object.fromEntries(Object.entries(kubedask.v1.Encoding).filter(([name]) => Number.isNaN(Number(name))));
    assert.deepEqual({ ...Encoding }, generated);
  });

  it('encodes JSON and bytes without Arrow, and knows a table from any copy of apache-arrow by its brand', () => {
    assert.deepEqual(decodeValue(encodeValue({ a: [1, 'x'] })), { a: [1, 'x'] });
    assert.equal(encodeValue(undefined).encoding, Encoding.ENCODING_JSON);
    const bytes = new Uint8Array([1, 2, 3]);
    assert.equal(encodeValue(bytes).encoding, Encoding.ENCODING_BYTES);
    assert.equal(decodeValue(encodeValue(bytes)), bytes);
    const table = arrow.tableFromArrays({ x: Int32Array.from([1, 2]) });
    assert.ok(isArrowTable(table));
    assert.ok(!isArrowTable({ schema: {}, batches: [] }) && !isArrowTable(null) && !isArrowTable(bytes));
  });

  it('says so when an Arrow value meets a codec without apache-arrow, and round-trips tables with it', () => {
    const table = arrow.tableFromArrays({ x: Float64Array.from([0.5, 1.5]) });
    assert.throws(() => encodeValue(table), { name: 'ValueEncodingError', message: /apache-arrow/ });
    const encoded = encodeValue(table, arrow);
    assert.equal(encoded.encoding, Encoding.ENCODING_ARROW_IPC);
    assert.throws(() => decodeValue(encoded), { name: 'ValueEncodingError', message: /apache-arrow/ });
    assert.deepEqual([...(decodeValue(encoded, arrow) as arrow.Table).getChild('x')!], [0.5, 1.5]);
    assert.deepEqual([...(values.decodeValue(values.encodeValue(table)) as arrow.Table).getChild('x')!], [0.5, 1.5]);
  });
});
