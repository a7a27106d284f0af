// Direct links among the members of one collective, each a task thread on some worker (a
// boosting block, ml/ensemble/block-thread.ts): every member listens on a port of its own, learns
// the others' addresses and tokens through its worker (the Exchange handshake, collective.ts),
// and dials each member before it in the list; the one it dials checks the token. Over plain TCP,
// or mutual TLS with the worker's own certificates. A member's parts then reach the others in
// one socket write and one read, with no main thread, gRPC or ack in between.
//
// A frame: [bytes after this field: u32][kind: u8][step: u32][key: u32][payload], little-endian.
// A hello's payload is JSON {token, member}; a part's is its bytes; a failure's its message.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';

/** The mutual-TLS material of the worker (protocol/tls.ts), PEM. */
export interface LinkTls { ca: Uint8Array; cert: Uint8Array; key: Uint8Array }

/** Where a member listens, and the token a dialler must present. */
export interface LinkAddress { address: string; token: string }

export class LinkError extends Error {
  override name = 'LinkError';
}

/** Frame kinds. */
export const FRAME = { HELLO: 1, PART: 2, FAILED: 3 } as const;
const { HELLO, PART, FAILED } = FRAME;
const HEADER = 13;
/** Frames bigger than this are refused: a histogram round is at most a few MB... */
const MAX_FRAME = 1 << 30;
/** ...and a hello bigger than this, or later than this after connecting. */
const MAX_HELLO = 4096;
const HELLO_WAIT_MS = 10_000;

interface Waiter {
  step: number;
  keys: readonly number[];
  resolve: (parts: Map<number, Uint8Array>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PeerLinks {
  readonly token = randomBytes(16).toString('hex');
  /** Socket per member, once connected (own index never). */
  private readonly sockets = new Map<number, net.Socket>();
  /** Connections that have not said who they are yet. */
  private readonly unknown = new Set<net.Socket>();
  /** Why a member's link is gone: its parts that have not come never will. */
  private readonly gone = new Map<number, string>();
  /** Parts received, by step, then key. */
  private readonly parts = new Map<number, Map<number, Uint8Array>>();
  private waiter: Waiter | undefined;
  /** The collective failed (a member said so, or this one was told to stop): everything after rejects with it. */
  private failure: Error | undefined;
  private onSocket: (() => void) | undefined;
  private closed = false;
  /** Why the last TLS client was refused, for the error of a member that never connected. */
  private lastRefusal = '';

  /** This member's index in the collective's list, every member's address, and the member whose parts each key is (a shard index: its member); set by connect(). */
  private self = -1;
  private addresses: readonly string[] = [];
  private owners: readonly number[] = [];

  private constructor(private readonly server: net.Server, private readonly tlsOptions: LinkTls | undefined) {}

  /** Listens on `host` (a bracketed IPv6 address taken too), a free port. */
  static async listen(host: string, tlsOptions?: LinkTls): Promise<PeerLinks> {
    // Called only once listening, after `links` is set.
    const accept = (socket: net.Socket) => links.accepted(socket);
    const server = tlsOptions
      ? tls.createServer({ ...pem(tlsOptions), requestCert: true, rejectUnauthorized: true }, accept)
      : net.createServer(accept);
    const links = new PeerLinks(server, tlsOptions);
    // A client that fails its TLS handshake is dropped; the server goes on.
    server.on('tlsClientError', (err: Error) => (links.lastRefusal = `a connection refused: ${err.message}`));
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, bare, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new LinkError(`links: cannot listen on ${bare}: ${err.message}`);
    });
    // Past listening (out of file descriptors, say): the collective fails, the thread goes on.
    server.on('error', (err) => links.abort(new LinkError(`links: the listening socket failed: ${err.message}`)));
    return links;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /**
   * As member `self` of `members` (their addresses and tokens; its own ignored), with
   * `owners[key]` the member that sends key's parts: dials every member before this one and
   * waits until every member after it has dialled in, `timeoutMs` in all; then stops
   * listening. Members after it may dial in (and send parts) before this is called.
   */
  async connect(self: number, members: readonly LinkAddress[], owners: readonly number[], timeoutMs: number): Promise<void> {
    [this.self, this.addresses, this.owners] = [self, members.map((m) => m.address), owners];
    for (const [m, socket] of this.sockets) {
      if (m > self && m < members.length) continue;
      this.sockets.delete(m);
      socket.destroy();
    }
    const later = members.map((_, m) => m).filter((m) => m > self);
    let timer: NodeJS.Timeout | undefined;
    const allIn = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        const missing = later.filter((m) => !this.sockets.has(m)).map((m) => this.name(m));
        reject(new LinkError(`links: ${missing.join(', ')} did not connect within ${timeoutMs / 1000} s${this.lastRefusal ? ` (${this.lastRefusal})` : ''}`));
      }, timeoutMs);
      this.onSocket = () => {
        if (this.failure) reject(this.failure);
        else if (later.every((m) => this.sockets.has(m))) resolve();
      };
      this.onSocket();
    });
    try {
      await Promise.all([...members.slice(0, this.self).map((m, i) => this.dial(i, m, timeoutMs)), allIn]);
    } finally {
      clearTimeout(timer);
      this.onSocket = undefined;
    }
    this.server.close();
  }

  /** Sends part `key` of `step` to every other member. */
  send(step: number, key: number, data: Uint8Array): void {
    if (this.failure) throw this.failure;
    const frame = encodeFrame(PART, step, key, data);
    for (const socket of this.sockets.values()) socket.write(frame);
  }

  /** The other members' parts `keys` of `step`, once all are here; rejects on a failure, a lost member or no part in `timeoutMs`. */
  take(step: number, keys: readonly number[], timeoutMs: number): Promise<Map<number, Uint8Array>> {
    if (this.waiter) return Promise.reject(new Error('internal: links: two takes at once'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        const missing = keys.filter((k) => !this.parts.get(step)?.has(k));
        const from = [...new Set(missing.map((k) => this.owners[k]!))].map((m) => this.name(m));
        reject(new LinkError(`links: no part ${missing.join(', ')} of step ${step} from ${from.join(', ')} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiter = { step, keys, resolve, reject, timer };
      this.check();
    });
  }

  /** Tells the other members this one failed (they stop at once), and closes. */
  fail(message: string): void {
    if (this.closed) return;
    // Before connect() no member is linked, and this one has no index to sign with.
    if (this.self >= 0) {
      const frame = encodeFrame(FAILED, 0, this.self, new TextEncoder().encode(message));
      for (const socket of this.sockets.values()) socket.write(frame);
    }
    this.close();
  }

  /** Stops a take in progress and every later one with `err` (this member is told to stop). */
  abort(err: Error): void {
    this.failure ??= err;
    this.check();
    this.onSocket?.();
  }

  /** Ends every link once what was written has gone out, and stops listening. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failure ??= new LinkError('links: closed');
    this.check();
    this.server.close();
    for (const socket of this.unknown) socket.destroy();
    for (const socket of this.sockets.values()) socket.end();
  }

  /** A member as errors name it: its index and, once known, its address. */
  private name(m: number): string {
    return this.addresses[m] ? `member ${m} (${this.addresses[m]})` : `member ${m}`;
  }

  private dial(member: number, to: LinkAddress, timeoutMs: number): Promise<void> {
    const { host, port } = splitAddress(to.address);
    return new Promise((resolve, reject) => {
      const opts = { host, port };
      const socket = this.tlsOptions
        ? tls.connect({ ...opts, ...pem(this.tlsOptions), checkServerIdentity: () => undefined })
        : net.connect(opts);
      const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs / 1000} s`)), timeoutMs);
      const failed = (err: Error) => {
        clearTimeout(timer);
        reject(new LinkError(`links: cannot reach ${this.name(member)}: ${err.message}`));
      };
      socket.once('error', failed);
      socket.once(this.tlsOptions ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        socket.write(encodeFrame(HELLO, 0, 0, new TextEncoder().encode(JSON.stringify({ token: to.token, member: this.self }))));
        this.adopt(member, socket);
        resolve();
      });
    });
  }

  /** A member after this one dialled in: it is taken once its hello names it with this member's token, in time. */
  private accepted(socket: net.Socket): void {
    if (this.closed) return void socket.destroy();
    this.unknown.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.unknown.delete(socket));
    const quiet = setTimeout(() => socket.destroy(), HELLO_WAIT_MS);
    let known: number | undefined;
    readFrames(socket, () => (known === undefined ? MAX_HELLO : MAX_FRAME), (kind, step, key, payload) => {
      if (known !== undefined) return this.received(known, kind, step, key, payload);
      clearTimeout(quiet);
      const m = kind === HELLO ? this.helloFrom(payload) : undefined;
      if (m === undefined) {
        socket.destroy();
        return false;
      }
      known = m;
      this.unknown.delete(socket);
      this.adopt(m, socket, false);
      return true;
    });
  }

  /** The member a hello names, when it carries this member's token and names a member that may dial in; else undefined. */
  private helloFrom(payload: Uint8Array): number | undefined {
    let hello: unknown;
    try {
      hello = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return undefined;
    }
    if (typeof hello !== 'object' || hello === null) return undefined;
    const { token, member: m } = hello as { token?: unknown; member?: unknown };
    const given = Buffer.from(typeof token === 'string' ? token : '');
    const mine = Buffer.from(this.token);
    if (given.byteLength !== mine.byteLength || !timingSafeEqual(given, mine)) return undefined;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || this.sockets.has(m)) return undefined;
    if (this.self >= 0 && (m <= this.self || m >= this.addresses.length)) return undefined;
    return m;
  }

  /** A connected member's socket: its frames, and its end. */
  private adopt(member: number, socket: net.Socket, read = true): void {
    if (this.closed) return void socket.destroy();
    socket.setNoDelay(true);
    this.sockets.set(member, socket);
    this.gone.delete(member);
    if (read) readFrames(socket, () => MAX_FRAME, (kind, step, key, payload) => this.received(member, kind, step, key, payload));
    socket.on('error', (err) => this.lost(member, socket, `its link broke: ${err.message}`));
    socket.on('close', () => this.lost(member, socket, 'its link closed (its worker lost, or its task ended)'));
    this.onSocket?.();
  }

  private received(member: number, kind: number, step: number, key: number, payload: Uint8Array): boolean {
    // Before connect() this member does not know whose keys are whose: the token vouched for the sender.
    if (kind === PART && (this.owners.length === 0 || this.owners[key] === member)) {
      let parts = this.parts.get(step);
      if (!parts) this.parts.set(step, (parts = new Map()));
      parts.set(key, payload);
      this.check();
      return true;
    }
    if (kind === FAILED) {
      this.failure ??= new LinkError(`links: ${this.name(member)} failed: ${new TextDecoder().decode(payload)}`);
      this.check();
      this.onSocket?.();
      return true;
    }
    const socket = this.sockets.get(member);
    if (socket) this.lost(member, socket, `it sent a frame of kind ${kind} for key ${key}, which is not its own`);
    socket?.destroy();
    return false;
  }

  /** A member's socket ended (only the member's current one counts). */
  private lost(member: number, socket: net.Socket, why: string): void {
    if (this.sockets.get(member) !== socket) return;
    if (!this.gone.has(member)) this.gone.set(member, why);
    this.check();
  }

  /** Settles the take in progress if it can be. */
  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const have = this.parts.get(w.step);
    const missing = w.keys.filter((k) => !have?.has(k));
    let err: Error | undefined;
    if (missing.length > 0) {
      err = this.failure;
      const lost = missing.map((k) => this.owners[k]!).find((m) => this.gone.has(m));
      if (!err && lost !== undefined) err = new LinkError(`links: ${this.name(lost)} is gone before its part of step ${w.step}: ${this.gone.get(lost)}`);
      if (!err) return;
    }
    clearTimeout(w.timer);
    this.waiter = undefined;
    if (err) return w.reject(err);
    this.parts.delete(w.step);
    w.resolve(new Map(w.keys.map((k) => [k, have!.get(k)!])));
  }
}

function pem(t: LinkTls): { ca: Buffer; cert: Buffer; key: Buffer } {
  return { ca: Buffer.from(t.ca), cert: Buffer.from(t.cert), key: Buffer.from(t.key) };
}

export function encodeFrame(kind: number, step: number, key: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(4 + HEADER - 4 + payload.byteLength);
  frame.writeUInt32LE(HEADER - 4 + payload.byteLength, 0);
  frame.writeUInt8(kind, 4);
  frame.writeUInt32LE(step, 5);
  frame.writeUInt32LE(key, 9);
  frame.set(payload, HEADER);
  return frame;
}

/**
 * Calls `onFrame` with each whole frame the socket brings (its payload copied into a buffer of
 * its own, so 8-byte aligned); it returns false to stop reading. A frame's chunks are joined
 * once, when the last has come. A frame past `limit()` bytes, or a frame that onFrame throws
 * on, ends the socket.
 */
export function readFrames(socket: net.Socket, limit: () => number, onFrame: (kind: number, step: number, key: number, payload: Uint8Array) => boolean): void {
  let chunks: Buffer[] = [];
  let held = 0;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    held += chunk.byteLength;
    while (held >= HEADER) {
      if (chunks[0]!.byteLength < HEADER) chunks = [Buffer.concat(chunks)];
      const size = chunks[0]!.readUInt32LE(0);
      if (size < HEADER - 4 || size > limit()) {
        socket.destroy(new LinkError(`links: a frame of ${size} bytes`));
        return;
      }
      if (held < 4 + size) return;
      const frame = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const payload = new Uint8Array(size - (HEADER - 4));
      payload.set(frame.subarray(HEADER, 4 + size));
      const rest = frame.subarray(4 + size);
      chunks = rest.byteLength > 0 ? [rest] : [];
      held = rest.byteLength;
      let goOn: boolean;
      try {
        goOn = onFrame(frame.readUInt8(4), frame.readUInt32LE(5), frame.readUInt32LE(9), payload);
      } catch (err) {
        socket.destroy(err as Error);
        goOn = false;
      }
      if (!goOn) {
        socket.off('data', onData);
        return;
      }
    }
  };
  socket.on('data', onData);
}

/** host and port of "host:port" or "[v6]:port". */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new LinkError(`links: "${address}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}
