// The links among a collective's members (worker/runtime/peer-links.ts), three members in this
// process over loopback: parts reach every member whole (large ones in many chunks, small ones
// many to a chunk), a stranger without the token is refused, and a member that fails, closes,
// goes quiet or is stopped ends the others' waits with why, at once or at the deadline.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerLinks, type LinkTls } from '../../worker/runtime/peer-links.js';
import { loadCerts, makeCerts } from '../helpers/certs.js';

/** Shards 0 and 1 are member 0's, 2 member 1's, 3 member 2's. */
const OWNERS = [0, 0, 1, 2];
const WAIT_MS = 10_000;

async function members(n: number, tls?: LinkTls, owners = OWNERS): Promise<PeerLinks[]> {
  const links = await Promise.all(Array.from({ length: n }, () => PeerLinks.listen('127.0.0.1', tls)));
  const addresses = links.map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
  await Promise.all(links.map((l, i) => l.connect(i, addresses, owners, WAIT_MS)));
  return links;
}

const closeAll = (links: PeerLinks[]) => links.forEach((l) => l.close());
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('links among a collective\'s members', () => {
  it('every member gets every other member\'s parts, step by step, whole', async () => {
    const links = await members(3);
    try {
      for (let step = 0; step < 3; step++) {
        // A large part (many chunks) and small ones (several to a chunk).
        const sizes = [3_000_001, 8, 16, 0];
        OWNERS.forEach((m, shard) => links[m]!.send(step, shard, bytes(sizes[shard]!, step + shard)));
        const got = await Promise.all(links.map((l, m) => l.take(step, OWNERS.map((_, s) => s).filter((s) => OWNERS[s] !== m), WAIT_MS)));
        got.forEach((parts, m) => {
          for (const [shard, data] of parts) {
            assert.notEqual(OWNERS[shard], m);
            assert.deepEqual(data, bytes(sizes[shard]!, step + shard), `member ${m}, shard ${shard}, step ${step}`);
            assert.equal(data.byteOffset % 8, 0, 'aligned for Float64Array');
          }
          assert.equal(parts.size, OWNERS.filter((o) => o !== m).length);
        });
      }
    } finally {
      closeAll(links);
    }
  });

  it('parts sent before a member is told the others\' addresses wait for it', async () => {
    const [a, b] = await Promise.all([PeerLinks.listen('127.0.0.1'), PeerLinks.listen('127.0.0.1')]);
    const addresses = [a!, b!].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
    const owners = [0, 1];
    try {
      // b dials a and sends before a has connected.
      await b!.connect(1, addresses, owners, WAIT_MS);
      b!.send(0, 1, bytes(100, 7));
      await a!.connect(0, addresses, owners, WAIT_MS);
      assert.deepEqual((await a!.take(0, [1], WAIT_MS)).get(1), bytes(100, 7));
    } finally {
      closeAll([a!, b!]);
    }
  });

  it('refuses a connection without the member\'s token, and goes on waiting for the real one', async () => {
    const a = await PeerLinks.listen('127.0.0.1');
    const stranger = net.connect(a.port, '127.0.0.1');
    const refused = new Promise<void>((resolve) => stranger.on('close', () => resolve()));
    stranger.on('error', () => {});
    const hello = Buffer.from(JSON.stringify({ token: 'not-the-token', member: 1 }));
    const frame = Buffer.alloc(13 + hello.byteLength);
    frame.writeUInt32LE(9 + hello.byteLength, 0);
    frame.writeUInt8(1, 4);
    hello.copy(frame, 13);
    stranger.write(frame);
    await refused;
    const b = await PeerLinks.listen('127.0.0.1');
    const addresses = [a, b].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
    try {
      await Promise.all([a.connect(0, addresses, [0, 1], WAIT_MS), b.connect(1, addresses, [0, 1], WAIT_MS)]);
      b.send(0, 1, bytes(5, 1));
      assert.deepEqual((await a.take(0, [1], WAIT_MS)).get(1), bytes(5, 1));
    } finally {
      closeAll([a, b]);
    }
  });

  it('a member that fails ends the others\' waits with its message', async () => {
    const links = await members(3);
    try {
      const waiting = links[0]!.take(0, [2, 3], WAIT_MS);
      links[1]!.fail('shard 2\'s state is stale');
      await assert.rejects(waiting, /member 1 failed: shard 2's state is stale/);
      // and later sends refuse
      assert.throws(() => links[0]!.send(1, 0, bytes(1, 0)), /member 1 failed/);
    } finally {
      closeAll(links);
    }
  });

  it('a member gone before its part ends the wait at once; one gone after sending it does not', async () => {
    const links = await members(3);
    try {
      links[2]!.send(0, 3, bytes(10, 3));
      links[2]!.close();
      // Member 2's part came before its link closed: taken. Member 1's never will: rejected,
      // long before the deadline.
      assert.deepEqual((await links[0]!.take(0, [3], WAIT_MS)).get(3), bytes(10, 3));
      links[1]!.close();
      const started = Date.now();
      await assert.rejects(links[0]!.take(1, [2], 60_000), /member 1 is gone before its part of step 1: its link closed/);
      assert.ok(Date.now() - started < 30_000);
    } finally {
      closeAll(links);
    }
  });

  it('no part in time: the error names the step, the part and its member', async () => {
    const links = await members(3);
    try {
      links[1]!.send(0, 2, bytes(4, 0));
      await assert.rejects(links[0]!.take(0, [2, 3], 200), /no part 3 of step 0 from member 2 within 0.2 s/);
    } finally {
      closeAll(links);
    }
  });

  it('a member told to stop stops waiting', async () => {
    const links = await members(2, undefined, [0, 1]);
    try {
      const waiting = links[0]!.take(0, [1], WAIT_MS);
      links[0]!.abort(new Error('the task was interrupted'));
      await assert.rejects(waiting, /the task was interrupted/);
    } finally {
      closeAll(links);
    }
  });

  it('a member that is never dialled gives up at its deadline, naming how many are missing', async () => {
    const [a, b] = await Promise.all([PeerLinks.listen('127.0.0.1'), PeerLinks.listen('127.0.0.1')]);
    const addresses = [a!, b!].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
    try {
      await assert.rejects(a!.connect(0, addresses, [0, 1], 200), /1 of 1 members not connected within 0.2 s/);
      // Dialling a member that is not listening fails at once.
      const gone = await PeerLinks.listen('127.0.0.1');
      const port = gone.port;
      gone.close();
      await assert.rejects(b!.connect(1, [{ address: `127.0.0.1:${port}`, token: 'x' }, addresses[1]!], [0, 1], WAIT_MS), /cannot reach member 0/);
    } finally {
      closeAll([a!, b!]);
    }
  });

  describe('over mutual TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-links-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const cluster = loadCerts(makeCerts(dir, 'cluster'));

    it('parts go between members with the cluster\'s certificates', async () => {
      const links = await members(3, cluster);
      try {
        OWNERS.forEach((m, shard) => links[m]!.send(0, shard, bytes(70_000, shard)));
        const parts = await links[2]!.take(0, [0, 1, 2], WAIT_MS);
        assert.deepEqual([...parts.keys()].sort(), [0, 1, 2]);
        assert.deepEqual(parts.get(1), bytes(70_000, 1));
      } finally {
        closeAll(links);
      }
    });

    it('a member with another CA\'s certificate cannot connect', async () => {
      const stranger = loadCerts(makeCerts(dir, 'stranger'));
      const a = await PeerLinks.listen('127.0.0.1', cluster);
      const b = await PeerLinks.listen('127.0.0.1', stranger);
      const addresses = [a, b].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
      try {
        await assert.rejects(b.connect(1, addresses, [0, 1], WAIT_MS), /cannot reach member 0/);
      } finally {
        closeAll([a, b]);
      }
    });
  });
});
