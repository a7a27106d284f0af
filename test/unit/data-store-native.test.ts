// The worker's data store with native values (objects a built-in kernel made, sized and
// encoded on demand): what it counts in memory and on disk as they spill, are read back and
// are deleted, with no cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataStore, type NativeValue } from '../../worker/runtime/data-store.js';
import { waitUntil } from '../helpers/wait.js';
import { encodeParted, partedCount, partsOf } from '../../protocol/parted.js';

function native(tag: number, nbytes: number, encode?: () => Uint8Array): NativeValue & { encoded: number } {
  const value = {
    native: { tag }, encoding: 7, nbytes, encoded: 0,
    encode: encode ?? (() => { value.encoded++; return new Uint8Array(nbytes).fill(tag); }),
  };
  return value;
}

function withStore(memoryLimit: number, fn: (store: DataStore, root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'kubedask-store-native-'));
    const store = new DataStore({ memoryLimit, spillRoot: root });
    try {
      await fn(store, root);
    } finally {
      await store.close();
      rmSync(root, { recursive: true, force: true });
    }
  };
}

test('a native value past the limit spills as its encoding, and reads back as those bytes', withStore(150, async (store, root) => {
  const a = native(1, 100);
  store.put('a', a);
  assert.deepEqual(await store.getStored('a'), { encoding: 7, native: { tag: 1 } });
  assert.equal(a.encoded, 0, 'kept native while in memory');
  store.put('b', native(2, 100));
  await waitUntil(() => store.spilledBytes === 100, 'a to be spilled');
  assert.equal(store.memoryUsed, 100);
  assert.equal(a.encoded, 1);
  const back = await store.getStored('a');
  assert.ok(back && 'data' in back);
  assert.deepEqual([back.encoding, back.data.byteLength, back.data[0]], [7, 100, 1]);
  store.delete('a');
  store.delete('b');
  assert.deepEqual([store.memoryUsed, store.spilledBytes], [0, 0]);
  await waitUntil(() => readdirSync(root).every((d) => readdirSync(join(root, d)).length === 0), 'the spill file to be removed');
}));

test('bytes in memory are kept as their native form once adopted; spilled bytes, another encoding or a missing key are not', withStore(250, async (store) => {
  store.put('fetched', { encoding: 7, data: new Uint8Array(100).fill(3) });
  assert.equal(store.adoptNative('fetched', native(3, 100)), true);
  assert.deepEqual(await store.getStored('fetched'), { encoding: 7, native: { tag: 3 } });
  assert.equal(store.memoryUsed, 100);
  assert.equal(store.adoptNative('fetched', native(3, 100)), false, 'already native');
  store.put('other', { encoding: 2, data: new Uint8Array(10) });
  assert.equal(store.adoptNative('other', native(4, 10)), false, 'a different encoding');
  assert.equal(store.adoptNative('missing', native(5, 10)), false);
  store.put('big', { encoding: 7, data: new Uint8Array(200) }); // past the limit: the LRU values spill
  await waitUntil(() => store.spilledBytes > 0, 'a value to be spilled');
  const spilled = ['fetched', 'other', 'big'].find((k) => store.peek(k) === undefined)!;
  assert.equal(store.adoptNative(spilled, native(6, 10)), false, 'spilled values stay on disk');
}));

test('a native value deleted while it is being written out leaves nothing counted or on disk', withStore(50, async (store, root) => {
  store.put('a', native(1, 100));
  store.delete('a');
  assert.deepEqual([store.memoryUsed, store.spilledBytes], [0, 0]);
  await store.close();
  assert.ok(!existsSync(root) || readdirSync(root).length === 0);
}));

test('a native value that cannot be encoded stays in memory, counted, and readable', withStore(50, async (store) => {
  store.put('a', native(1, 100, () => { throw new Error('not encodable'); }));
  assert.equal(store.memoryUsed, 100);
  assert.equal(store.spilledBytes, 0);
  assert.deepEqual(await store.getStored('a'), { encoding: 7, native: { tag: 1 } });
  store.delete('a');
  assert.equal(store.memoryUsed, 0);
}));

test('a parted value serves one part at a time: sliced in memory, one range of its file once spilled', withStore(150, async (store) => {
  const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array([9, 8])];
  store.put('p', native(3, 100, () => encodeParted(parts)));
  assert.equal(await store.readPart('p', 0), undefined, 'native in memory: the kernel that made it cuts it');
  store.put('q', { encoding: 1, data: encodeParted(parts) });
  assert.deepEqual([...(await store.readPart('q', 2))!], [9, 8], 'bytes in memory: sliced');
  store.put('big', native(4, 140));
  await waitUntil(() => store.spilledBytes >= 100, 'p to be spilled');
  assert.deepEqual([...(await store.readPart('p', 0))!], [1, 2, 3], 'read back from its range of the file');
  assert.deepEqual([...(await store.readPart('p', 1))!], []);
  await assert.rejects(store.readPart('p', 3), RangeError, 'a part it does not have');
  store.put('plain', { encoding: 1, data: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0]) });
  assert.equal(await store.readPart('plain', 0), undefined, 'not parted');
  assert.equal(await store.readPart('absent', 0), undefined);
}));

test('encodeParted and partsOf round-trip, empty parts and none included', () => {
  const parts = [new Uint8Array([5]), new Uint8Array(0), new Uint8Array([6, 7, 8])];
  assert.deepEqual(partsOf(encodeParted(parts)).map((p) => [...p]), [[5], [], [6, 7, 8]]);
  assert.deepEqual(partsOf(encodeParted([])), []);
  assert.equal(partedCount(new Uint8Array([1, 2, 3])), undefined);
});

test('past the limit, what is kept only for speed is let go first (onPressure), once a spill is due and not before', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kubedask-store-native-'));
  let pressed = 0;
  const store = new DataStore({ memoryLimit: 150, spillRoot: root, onPressure: () => pressed++ });
  try {
    store.put('a', native(1, 100));
    assert.equal(pressed, 0, 'under the limit');
    store.put('b', native(2, 100));
    assert.equal(pressed, 1, 'told as the spill starts');
    await waitUntil(() => store.spilledBytes === 100, 'a to be spilled');
  } finally {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  }
});
