// Garbage on the wire and invalid graphs get clear errors; the scheduler keeps serving.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ConnectionLostError, Future, GraphValidationError } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { functionDef } from '../../client/task-functions.js';
import { channelOptions, pb } from '../../protocol/services.js';

function rawCall(address: string, path: string, body: Buffer): Promise<grpc.ServiceError | null> {
  const raw = new grpc.Client(address, grpc.credentials.createInsecure(), channelOptions);
  return new Promise((resolve) => {
    raw.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, (err) => {
      raw.close();
      resolve(err);
    });
  });
}

describe('bad input', () => {
  const fx = useCluster({ workers: 1, threads: 1 });

  async function stillServes(): Promise<void> {
    assert.equal(await fx.client.submit((x: number) => x + 1, 1).result(), 2);
  }

  it('survives garbage bytes on the gRPC port', async () => {
    const [host, port] = [fx.cluster.address.split(':')[0]!, Number(fx.cluster.address.split(':')[1])];
    // The server must answer garbage by closing the connection (HTTP/2 GOAWAY), not hang.
    const closedBy = await new Promise<string>((resolve) => {
      const sock = connect(port, host, () => sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\xfe garbage \x01\x02')));
      const timer = setTimeout(() => { sock.destroy(); resolve('timeout'); }, 10_000);
      sock.on('close', () => { clearTimeout(timer); resolve('server'); });
      sock.on('error', () => undefined);
      sock.resume(); // read what the server answers, so its close is seen
    });
    assert.equal(closedBy, 'server');
    await stillServes();
  });

  it('answers malformed protobuf with an error status', async () => {
    const err = await rawCall(fx.cluster.address, '/kubedask.v1.Scheduler/SubmitGraph', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.ok(err, 'the call must fail');
    assert.notEqual(err.code, grpc.status.OK);
    await stillServes();
  });

  it('answers malformed protobuf on a worker\'s data port, and the worker keeps serving', async () => {
    const [worker] = (await fx.client.clusterInfo()).workers;
    const err = await rawCall(worker!.address!, '/kubedask.v1.WorkerData/Fetch', Buffer.from([0x0a, 0x05, 0x01]));
    assert.ok(err, 'the call must fail');
    await stillServes();
  });

  it('refuses a session that does not start with hello, and a worker stream that does not start with register', async () => {
    const raw = new grpc.Client(fx.cluster.address, grpc.credentials.createInsecure(), channelOptions);
    const firstMessageRefused = (path: string, body: Uint8Array) => new Promise<grpc.ServiceError>((resolve) => {
      const call = raw.makeBidiStreamRequest(path, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b);
      call.on('data', () => undefined);
      call.on('error', (err: grpc.ServiceError) => resolve(err));
      call.write(body);
    });
    const session = await firstMessageRefused('/kubedask.v1.Scheduler/Session', pb.ClientRequest.encode({ release: { keys: ['x'] } }).finish());
    assert.equal(session.code, grpc.status.INVALID_ARGUMENT);
    assert.match(session.details, /first message of a session must be hello/);
    const worker = await firstMessageRefused('/kubedask.v1.WorkerStream/Connect', pb.WorkerBatch.encode({ events: [{ heartbeat: { memoryUsed: 1 } }] }).finish());
    assert.equal(worker.code, grpc.status.INVALID_ARGUMENT);
    assert.match(worker.details, /must be register/);
    raw.close();
    await stillServes();
  });

  it('answers an unknown method with UNIMPLEMENTED', async () => {
    const err = await rawCall(fx.cluster.address, '/kubedask.v1.Scheduler/NoSuchThing', Buffer.alloc(0));
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    await stillServes();
  });

  it('rejects a graph with a cycle, naming the keys', async () => {
    const fn = functionDef((x: number) => x);
    const rpc = (fx.client as unknown as { rpc: { submitGraph(r: unknown): Promise<unknown> } }).rpc;
    const task = (key: string, dep: string) => ({ key, functionId: fn.id, args: [{ key: dep }], dependencies: [dep] });
    await assert.rejects(
      rpc.submitGraph({ clientId: fx.client.id, functions: [fn], tasks: [task('cyc-a', 'cyc-b'), task('cyc-b', 'cyc-c'), task('cyc-c', 'cyc-a')], wanted: ['cyc-a'] }),
      (err: unknown) => {
        assert.ok(err instanceof GraphValidationError, String(err));
        assert.match(err.message, /cycle/);
        assert.match(err.message, /cyc-a/);
        assert.equal(err.reason, 'cycle');
        assert.deepEqual([...(err.cycle ?? [])].sort(), ['cyc-a', 'cyc-b', 'cyc-c']);
        return true;
      });
    await stillServes();
  });

  it('fails the futures of a cycle built with the client with GraphValidationError, reason cycle and its keys', async () => {
    const a = fx.client.submitWith({ key: 'loop-a' }, (x: number) => x, new Future<number>('loop-b', fx.client));
    const b = fx.client.submitWith({ key: 'loop-b' }, (x: number) => x, a);
    for (const f of [a, b]) {
      await assert.rejects(f.result(), (err: unknown) => {
        assert.ok(err instanceof GraphValidationError, String(err));
        assert.equal(err.reason, 'cycle');
        assert.deepEqual([...(err.cycle ?? [])].sort(), ['loop-a', 'loop-b']);
        assert.ok(['loop-a', 'loop-b'].includes(err.key), err.key);
        return true;
      });
    }
    await stillServes();
  });

  it('rejects an unknown function, naming the key', async () => {
    const rpc = (fx.client as unknown as { rpc: { submitGraph(r: unknown): Promise<unknown> } }).rpc;
    await assert.rejects(
      rpc.submitGraph({ clientId: fx.client.id, functions: [], tasks: [{ key: 'orphan-fn', functionId: 'src:nope', args: [] }], wanted: ['orphan-fn'] }),
      (err: unknown) => err instanceof GraphValidationError && /orphan-fn/.test(err.message) && /function/.test(err.message));
    await stillServes();
  });

  it('rejects an oversize inline argument, naming the key and the way out', async () => {
    // A graph this big goes by the SubmitGraph call, not on the session: the scheduler's call handler refuses it.
    const f = fx.client.submitWith({ key: 'too-big' }, (b: Uint8Array) => b.length, new Uint8Array(17 * 1024 * 1024));
    await assert.rejects(f.result(), (err: unknown) => err instanceof GraphValidationError && /too-big/.test(err.message) && /scatter/.test(err.message));
    const scattered = fx.client.scatter(new Uint8Array(17 * 1024 * 1024));
    assert.equal(await fx.client.submit((b: Uint8Array) => b.length, scattered).result(), 17 * 1024 * 1024);
  });

  it('fails only its own future for a graph too big for one gRPC message; the client goes on', async () => {
    const f = fx.client.submitWith({ key: 'past-grpc-limit' }, (b: Uint8Array) => b.length, new Uint8Array(70 * 1024 * 1024));
    await assert.rejects(f.result(), (err: unknown) => err instanceof Error && !(err instanceof ConnectionLostError) && /larger than|size/.test(err.message));
    await stillServes();
  });

  it('rejects a task function that does not compile with a clear error', async () => {
    const fake = { kind: 'kubedask-module-function', module: 'never-uploaded', export: 'f' } as const;
    assert.throws(() => fx.client.submit(42 as unknown as () => void), /expected a function/);
    const f = fx.client.submit(fake);
    await assert.rejects(f.result(), /never uploaded/);
    await stillServes();
  });
});

describe('a task that blows up memory', () => {
  it('fails alone with a message about memory; the worker and its data survive', async () => {
    await withCluster({ workers: 1, threads: 1, memoryLimit: '256MiB' }, async (cluster, client) => {
      const kept = client.submit((x: number) => x * 2, 21);
      await kept.wait();
      const hog = client.submit(() => {
        const hoard: number[][] = [];
        for (;;) hoard.push(new Array(1_000_000).fill(Math.random()));
      });
      await assert.rejects(hog.result(), /memory/i);
      assert.equal(cluster.scheduler.core.workers.size, 1);
      assert.equal(await kept.result(), 42);
      assert.equal(await client.submit((x: number) => x + 1, kept).result(), 43);
    });
  });
});

