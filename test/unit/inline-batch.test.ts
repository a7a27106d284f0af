// Values sent along with finishes are capped per batch: a batch of many small results stays far
// below gRPC's message limit, and what is past the cap travels without its value (gathered).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientLink } from '../../scheduler/server/links.js';
import { INLINE_BYTES_PER_BATCH, InlineBudget } from '../../protocol/services.js';
import { waitUntil } from '../helpers/wait.js';

test('the budget counts a batch\'s bytes and starts again with the next batch', () => {
  const b = new InlineBudget();
  assert.equal(b.take(INLINE_BYTES_PER_BATCH - 10), true);
  assert.equal(b.take(11), false);
  assert.equal(b.take(10), true);
  assert.equal(b.take(1), false);
  b.reset();
  assert.equal(b.take(INLINE_BYTES_PER_BATCH), true);
});

test('a client\'s batch of finishes carries values up to the budget; the rest go without', async () => {
  const written: Array<{ events: Array<{ key: string; value?: { data: Uint8Array } | null }> }> = [];
  const call = { writableEnded: false, destroyed: false, write: (m: (typeof written)[number]) => { written.push(m); return true; }, end() {} };
  const link = new ClientLink('c1', call as never);
  const size = 256 * 1024;
  const count = INLINE_BYTES_PER_BATCH / size + 10;
  for (let i = 0; i < count; i++) link.send({ key: `k${i}`, state: 1, value: { encoding: 2, data: new Uint8Array(size) } });
  await waitUntil(() => written.length === 1, 'one batch written');
  const events = written[0]!.events;
  assert.equal(events.length, count);
  assert.equal(events.filter((e) => e.value).length, INLINE_BYTES_PER_BATCH / size);
  assert.ok(events.slice(-10).every((e) => e.value === null), 'the last ten past the budget');
  link.send({ key: 'next', state: 1, value: { encoding: 2, data: new Uint8Array(size) } });
  await waitUntil(() => written.length === 2, 'the next batch');
  assert.ok(written[1]!.events[0]!.value, 'a new batch, a new budget');
});

test('a client\'s events and graph acks leave in the order they happened, each run one message', async () => {
  const written: Array<{ events?: Array<{ key: string }>; acks?: Array<{ seq: number; accepted?: number }> }> = [];
  const call = { writableEnded: false, destroyed: false, write: (m: (typeof written)[number]) => { written.push(m); return true; }, end() {} };
  const link = new ClientLink('c1', call as never);
  link.send({ key: 'a', state: 1 });
  link.send({ key: 'b', state: 1 });
  link.ack({ seq: 1, accepted: 2 });
  link.ack({ seq: 2, accepted: 1 });
  link.send({ key: 'c', state: 1 });
  await waitUntil(() => written.length === 3, 'three messages');
  assert.deepEqual(written.map((m) => (m.acks ? { acks: m.acks.map((a) => a.seq) } : { events: m.events!.map((e) => e.key) })), [
    { events: ['a', 'b'] }, { acks: [1, 2] }, { events: ['c'] },
  ]);
});
