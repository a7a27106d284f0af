import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExchangeError, Mailbox } from '../../worker/runtime/mailbox.js';

const bytes = (...v: number[]) => Uint8Array.from(v);

describe('Mailbox (a collective\'s parts between workers)', () => {
  it('hands a take the parts of its step from each rank, whether they came before or after it', async () => {
    const box = new Mailbox();
    box.deliver({ group: 'g', step: 0, rank: 1, data: bytes(1) });
    box.deliver({ group: 'g', step: 1, rank: 1, data: bytes(11) });
    const taking = box.take('g', 0, [1, 2], 1_000);
    box.deliver({ group: 'g', step: 0, rank: 2, data: bytes(2) });
    const parts = await taking;
    assert.deepEqual([...parts.entries()], [[1, bytes(1)], [2, bytes(2)]]);
    assert.equal(box.heldBytes, 1, 'step 1 is still held, step 0 taken');
    box.deliver({ group: 'g', step: 1, rank: 2, data: bytes(12) });
    assert.deepEqual([...(await box.take('g', 1, [1, 2], 1_000)).values()], [bytes(11), bytes(12)]);
    assert.equal(box.heldBytes, 0);
  });

  it('a peer\'s failure ends the group: a take waiting and every later one reject with it', async () => {
    const box = new Mailbox();
    const taking = box.take('g', 3, [0], 5_000);
    box.deliver({ group: 'g', step: 0, rank: 0, failed: 'its worker lost a shard' });
    await assert.rejects(taking, (err: Error) => err instanceof ExchangeError && /the task of rank 0 failed: its worker lost a shard/.test(err.message));
    await assert.rejects(box.take('g', 4, [0], 5_000), /rank 0 failed/);
    assert.match(box.ended('g') ?? '', /rank 0 failed/, 'a task that starts late sees it at once');
    assert.equal(box.ended('other'), undefined);
  });

  it('a take times out naming the ranks whose parts did not come', async () => {
    const box = new Mailbox();
    box.deliver({ group: 'g', step: 0, rank: 1, data: bytes(1) });
    await assert.rejects(box.take('g', 0, [1, 2, 3], 30), /part 2, 3 of step 0 did not come within 30 ms/);
  });

  it('rejects a take when its signal aborts (the task interrupted)', async () => {
    const box = new Mailbox();
    const ac = new AbortController();
    const taking = box.take('g', 0, [1], 5_000, ac.signal);
    ac.abort(new Error('interrupted'));
    await assert.rejects(taking, /interrupted/);
    await assert.rejects(box.take('g', 0, [1], 5_000, ac.signal), /interrupted/, 'an aborted signal rejects at once');
  });

  it('once closed, a group\'s parts are let go and later ones dropped', async () => {
    const box = new Mailbox();
    box.deliver({ group: 'g', step: 0, rank: 1, data: bytes(1, 2, 3) });
    const taking = box.take('g', 1, [1], 5_000);
    box.close('g');
    await assert.rejects(taking, /closed/);
    assert.equal(box.heldBytes, 0);
    box.deliver({ group: 'g', step: 1, rank: 1, data: bytes(4) });
    assert.equal(box.heldBytes, 0, 'a late part is not held');
    await assert.rejects(box.take('g', 1, [1], 5_000), /closed/);
    assert.match(box.ended('g') ?? '', /closed/);
  });

  it('refuses a part past its byte budget, or one that came twice', () => {
    const box = new Mailbox({ maxBytes: 4 });
    box.deliver({ group: 'g', step: 0, rank: 1, data: bytes(1, 2, 3) });
    assert.throws(() => box.deliver({ group: 'h', step: 0, rank: 1, data: bytes(1, 2) }), /2-byte part would pass this worker's 4-byte budget/);
    assert.throws(() => box.deliver({ group: 'g', step: 0, rank: 1, data: bytes(9) }), /part 1 of step 0 arrived twice/);
    assert.equal(box.heldBytes, 3);
  });

  it('drops a group nobody took from for idleMs (its task never came)', () => {
    let now = 0;
    const box = new Mailbox({ idleMs: 1_000 }, () => now);
    box.deliver({ group: 'old', step: 0, rank: 1, data: bytes(1, 2) });
    now = 500;
    box.deliver({ group: 'new', step: 0, rank: 1, data: bytes(3) });
    assert.equal(box.heldBytes, 3);
    now = 1_200;
    box.deliver({ group: 'newer', step: 0, rank: 1, data: bytes(4) });
    assert.equal(box.heldBytes, 2, 'old went; new (touched at 500) and newer stay');
  });
});
