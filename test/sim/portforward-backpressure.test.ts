// Port-forward over SPDY keeps nothing queued without limit in the sim: when the client is behind,
// the pod connection is paused until the client drains; when the pod reads slowly, the client's
// input is paused until the pod connection drains. Driven frame by frame through a transport
// whose backpressure the test controls, to a "pod" that is a TCP server in this process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { constants as zc, createDeflate } from 'node:zlib';
import { forwardOverSpdy } from '../../sim/server/portforward-spdy.js';
import { SPDY_HEADER_DICTIONARY } from '../../sim/server/spdy-dictionary.js';
import type { SpdyTransport } from '../../sim/server/spdy-session.js';
import { waitUntil } from '../helpers/wait.js';

const TOTAL = 8 * 1024 * 1024;

/** A SPDY/3.1 client's frames: SYN_STREAMs whose headers go through one zlib stream, and DATA. */
function spdyClient() {
  const deflate = createDeflate({ dictionary: SPDY_HEADER_DICTIONARY });
  const compress = (block: Buffer) => new Promise<Buffer>((resolve) => {
    const out: Buffer[] = [];
    const collect = (b: Buffer) => out.push(b);
    deflate.on('data', collect);
    deflate.write(block);
    deflate.flush(zc.Z_SYNC_FLUSH, () => { deflate.off('data', collect); resolve(Buffer.concat(out)); });
  });
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  return {
    async synStream(id: number, headers: Record<string, string>): Promise<Buffer> {
      const parts = [u32(Object.keys(headers).length)];
      for (const [k, v] of Object.entries(headers)) parts.push(u32(k.length), Buffer.from(k), u32(v.length), Buffer.from(v));
      const body = Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), await compress(Buffer.concat(parts))]);
      return Buffer.concat([u32(0x80030001), u32(body.length), body]);
    },
    data(id: number, payload: Buffer): Buffer {
      return Buffer.concat([u32(id), u32(payload.length), payload]);
    },
    close() { deflate.close(); },
  };
}

/** A transport that is behind (write answers false) until told otherwise; counts DATA bytes sent to the client. */
function controlledTransport() {
  const state = { behind: true, paused: false, received: 0, waiters: [] as (() => void)[] };
  const transport: SpdyTransport = {
    write(frame) {
      if (!(frame[0]! & 0x80)) state.received += frame.readUInt32BE(4) & 0xffffff;
      return !state.behind;
    },
    onceDrained(cb) { if (state.behind) state.waiters.push(cb); else cb(); },
    pause() { state.paused = true; },
    resume() { state.paused = false; },
    end() {},
  };
  const catchUp = () => {
    state.behind = false;
    for (const cb of state.waiters.splice(0)) cb();
  };
  return { transport, state, catchUp };
}

describe('SPDY port-forward backpressure', () => {
  let pod: Server;
  let port: number;
  let onConnection: (s: Socket) => void = () => undefined;

  before(async () => {
    pod = createServer((s) => onConnection(s));
    await new Promise<void>((r) => pod.listen(0, '127.0.0.1', r));
    port = (pod.address() as AddressInfo).port;
  });
  after(() => pod.close());

  const open = async (transport: SpdyTransport) => {
    const client = spdyClient();
    const session = forwardOverSpdy(transport, { name: 'p', uid: 'u', podIP: '127.0.0.1' });
    session.receive(await client.synStream(1, { streamtype: 'error', port: String(port), requestid: '0' }));
    session.receive(await client.synStream(3, { streamtype: 'data', port: String(port), requestid: '0' }));
    return { session, client };
  };

  it('a client that is behind pauses the pod connection until it drains; then everything arrives', async () => {
    onConnection = (s) => s.end(Buffer.alloc(TOTAL, 1));
    const { transport, state, catchUp } = controlledTransport();
    const { session, client } = await open(transport);
    await waitUntil(() => state.waiters.length > 0, 'the forward to wait for the client to drain');
    assert.ok(state.received < TOTAL / 8, `${state.received} bytes were taken from the pod while the client was behind`);
    catchUp();
    await waitUntil(() => state.received === TOTAL, 'the rest of the pod\'s output once the client drained');
    session.close();
    client.close();
  });

  it('a pod that reads slowly pauses the client\'s input until its connection drains', async () => {
    let podSocket: Socket | undefined;
    let podReceived = 0;
    onConnection = (s) => {
      podSocket = s;
      s.pause(); // reads nothing yet
      s.on('data', (b: Buffer) => (podReceived += b.length));
    };
    const { transport, state, catchUp } = controlledTransport();
    catchUp();
    const { session, client } = await open(transport);
    await waitUntil(() => podSocket, 'the pod connection');
    const chunk = Buffer.alloc(1024 * 1024, 2);
    for (let sent = 0; sent < TOTAL; sent += chunk.length) session.receive(client.data(3, chunk));
    await waitUntil(() => state.paused, 'the client\'s input to be paused while the pod reads nothing');
    podSocket!.resume();
    await waitUntil(() => !state.paused && podReceived === TOTAL, 'the client resumed once the pod took everything');
    session.close();
    client.close();
  });
});
