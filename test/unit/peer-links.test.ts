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
import { EventEmitter } from 'node:events';
import { encodeFrame, FRAME, PeerLinks, readFrames, type LinkTls } from '../../worker/runtime/peer-links.js';
import { loadCerts, makeCerts } from '../helpers/certs.js';

/** Shards 0 and 1 are member 0's, 2 member 1's, 3 member 2's. */
const OWNERS = [0, 0, 1, 2];
const WAIT_MS = 10_000;

/** Runs `body` on `n` members linked to one another, and closes them after. */
async function withMembers(n: number, body: (links: PeerLinks[]) => Promise<void>, tls?: LinkTls, owners = OWNERS): Promise<void> {
  const links = await Promise.all(Array.from({ length: n }, () => PeerLinks.listen('127.0.0.1', tls)));
  try {
    const addresses = links.map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
    await Promise.all(links.map((l, i) => l.connect(i, addresses, owners, WAIT_MS)));
    await body(links);
  } finally {
    closeAll(links);
  }
}

const closeAll = (links: PeerLinks[]) => links.forEach((l) => l.close());
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('links among a collective\'s members', () => {
  it('every member gets every other member\'s parts, step by step, whole', async () => {
    await withMembers(3, async (links) => {
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
    });
  });

  it('parts sent before a member is told the others\' addresses wait for it', async () => {
    const [a, b] = await Promise.all([PeerLinks.listen('127.0.0.1'), PeerLinks.listen('127.0.0.1')]);
    const addresses = [a!, b!].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
    const owners = [0, 1];
    try {
      // b dials a and sends; a has the part before it is told anything.
      await b!.connect(1, addresses, owners, WAIT_MS);
      b!.send(0, 1, bytes(100, 7));
      const early = await a!.take(0, [1], WAIT_MS);
      assert.deepEqual(early.get(1), bytes(100, 7));
      await a!.connect(0, addresses, owners, WAIT_MS);
      b!.send(1, 1, bytes(8, 1));
      assert.deepEqual((await a!.take(1, [1], WAIT_MS)).get(1), bytes(8, 1));
    } finally {
      closeAll([a!, b!]);
    }
  });

  it('reads frames split anywhere, a byte at a time or many to a chunk', () => {
    const socket = Object.assign(new EventEmitter(), { destroy: (err?: Error) => assert.fail(`destroyed: ${err?.message}`) }) as unknown as net.Socket;
    const got: Array<[number, number, number, number[]]> = [];
    readFrames(socket, () => 1 << 20, (kind, step, key, payload) => {
      got.push([kind, step, key, Array.from(payload)]);
      return true;
    });
    const frames = [encodeFrame(FRAME.PART, 3, 7, bytes(20, 1)), encodeFrame(FRAME.PART, 4, 0, bytes(0, 0)), encodeFrame(FRAME.FAILED, 0, 2, bytes(3, 9))];
    const all = Buffer.concat(frames);
    for (const b of all) socket.emit('data', Buffer.from([b]));
    socket.emit('data', all);
    const want = [[FRAME.PART, 3, 7, Array.from(bytes(20, 1))], [FRAME.PART, 4, 0, []], [FRAME.FAILED, 0, 2, Array.from(bytes(3, 9))]];
    assert.deepEqual(got, [...want, ...want]);
  });

  it('refuses a connection without the member\'s token (or with no hello at all), and goes on waiting for the real one', async () => {
    const a = await PeerLinks.listen('127.0.0.1');
    const stranger = (payload: string) => {
      const socket = net.connect(a.port, '127.0.0.1');
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      socket.write(encodeFrame(FRAME.HELLO, 0, 0, new TextEncoder().encode(payload)));
      return closed;
    };
    const refused = Promise.all([stranger(JSON.stringify({ token: 'not-the-token', member: 1 })), stranger('null'), stranger('[1]'), stranger('{')]);
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
    await withMembers(3, async (links) => {
      const waiting = links[0]!.take(0, [2, 3], WAIT_MS);
      links[1]!.fail('shard 2\'s state is stale');
      await assert.rejects(waiting, /member 1 \(127\.0\.0\.1:\d+\) failed: shard 2's state is stale/);
      // and later sends refuse
      assert.throws(() => links[0]!.send(1, 0, bytes(1, 0)), /member 1 .*failed/);
    });
  });

  it('a member gone before its part ends the wait at once; one gone after sending it does not', async () => {
    await withMembers(3, async (links) => {
      links[2]!.send(0, 3, bytes(10, 3));
      links[2]!.close();
      // Member 2's part came before its link closed: taken. Member 1's never will: rejected,
      // long before the deadline.
      assert.deepEqual((await links[0]!.take(0, [3], WAIT_MS)).get(3), bytes(10, 3));
      links[1]!.close();
      const started = Date.now();
      await assert.rejects(links[0]!.take(1, [2], 60_000), /member 1 \(127\.0\.0\.1:\d+\) is gone before its part of step 1: its link closed/);
      assert.ok(Date.now() - started < 30_000);
    });
  });

  it('no part in time: the error names the step, the part and its member', async () => {
    await withMembers(3, async (links) => {
      links[1]!.send(0, 2, bytes(4, 0));
      await assert.rejects(links[0]!.take(0, [2, 3], 200), /no part 3 of step 0 from member 2 \(127\.0\.0\.1:\d+\) within 0.2 s/);
    });
  });

  it('a member told to stop stops waiting', async () => {
    await withMembers(2, async (links) => {
      const waiting = links[0]!.take(0, [1], WAIT_MS);
      links[0]!.abort(new Error('the task was interrupted'));
      await assert.rejects(waiting, /the task was interrupted/);
    }, undefined, [0, 1]);
  });

  it('a member that is never dialled gives up at its deadline, naming how many are missing', async () => {
    const [a, b] = await Promise.all([PeerLinks.listen('127.0.0.1'), PeerLinks.listen('127.0.0.1')]);
    const addresses = [a!, b!].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
    try {
      await assert.rejects(a!.connect(0, addresses, [0, 1], 200), /member 1 \(127\.0\.0\.1:\d+\) did not connect within 0.2 s/);
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
      await withMembers(3, async (links) => {
        OWNERS.forEach((m, shard) => links[m]!.send(0, shard, bytes(70_000, shard)));
        const parts = await links[2]!.take(0, [0, 1, 2], WAIT_MS);
        assert.deepEqual([...parts.keys()].sort(), [0, 1, 2]);
        assert.deepEqual(parts.get(1), bytes(70_000, 1));
      }, cluster);
    });

    it('a member with another CA\'s certificate cannot connect, either way', async () => {
      const stranger = loadCerts(makeCerts(dir, 'stranger'));
      // It does not trust the member it dials...
      const a = await PeerLinks.listen('127.0.0.1', cluster);
      const b = await PeerLinks.listen('127.0.0.1', stranger);
      const addresses = [a, b].map((l) => ({ address: `127.0.0.1:${l.port}`, token: l.token }));
      // ...nor, trusting it, is it trusted: the member it dials never counts it in, and says why.
      const c = await PeerLinks.listen('127.0.0.1', { ...stranger, ca: cluster.ca });
      const withC = [addresses[0]!, { address: `127.0.0.1:${c.port}`, token: c.token }];
      try {
        await assert.rejects(b.connect(1, addresses, [0, 1], WAIT_MS), /cannot reach member 0 \(127\.0\.0\.1:\d+\)/);
        c.connect(1, withC, [0, 1], WAIT_MS).catch(() => {});
        await assert.rejects(a.connect(0, withC, [0, 1], 2_000), /member 1 \(127\.0\.0\.1:\d+\) did not connect within 2 s \(a connection refused: /);
      } finally {
        closeAll([a, b, c]);
      }
    });
  });
});
