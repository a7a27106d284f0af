// Worker runtime against real threads, a real WorkerData server on 127.0.0.1 and, for the
// worker as a whole, a fake scheduler (a WorkerStream server written here).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { tableFromArrays, type Table } from 'apache-arrow';
import { kubedask } from '../../protocol/generated/kubedask.js';
import { CHUNK_BYTES, WorkerDataService, WorkerStreamService, serverOptions } from '../../protocol/services.js';
import { Encoding, decodeValue, encodeValue, keyPlaceholder } from '../../protocol/values.js';
import { DataStore } from '../../worker/runtime/data-store.js';
import { ModuleStore } from '../../worker/runtime/module-store.js';
import { PeerClients } from '../../protocol/data-client.js';
import { startPeerServer } from '../../worker/runtime/peer-server.js';
import type { ExchangePart } from '../../worker/runtime/mailbox.js';
import type { TaskFunction } from '../../worker/runtime/pool-protocol.js';
import { TaskPool, type PoolTask, type TaskOutcome } from '../../worker/runtime/task-pool.js';
import { INLINE_VALUE_MAX_BYTES, startWorker } from '../../worker/runtime/worker.js';
import { waitUntil, within } from '../helpers/wait.js';
import { resolvePoolKernel } from '../../worker/runtime/builtins.js';
import { allocShard, shardBytes, shardFromBytes } from '../../ml/core/shared-shard.js';
import { runDeriveKernel } from '../../ml/kernels/derive.js';
import { view } from '../../ml/ensemble/state.js';
import type { FeatureBins } from '../../ml/ensemble/binning.js';
import { SchedulerUnreachableError } from '../../protocol/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubedask-worker-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const fn = (id: string, source: string): TaskFunction => ({ id, name: id, source });
const lit = (v: unknown): { encoding: number; data: Uint8Array } => encodeValue(v);
function value(o: TaskOutcome): unknown {
  if (!o.ok) assert.fail(`task failed: ${o.error.name}: ${o.error.message}`);
  return decodeValue(o.value);
}

test('the pool runs functions with literal, dependency and placeholder arguments', async () => {
  const pool = new TaskPool({ nthreads: 2 });
  try {
    const add = fn('add', '(a, b) => a + b');
    assert.equal(value(await pool.run({ key: 'k1', fn: add, args: [lit(2), lit(40)], deps: [] })), 42);
    const dep = encodeValue([1, 2, 3]);
    const t: PoolTask = {
      key: 'k2', fn: fn('sum', 'function sum(xs, o) { return xs.reduce((s, x) => s + x, 0) + o.more[0].length; }'),
      args: [{ key: 'd' }, lit({ more: [keyPlaceholder('d')] })], deps: [['d', dep.encoding, dep.data]],
    };
    assert.equal(value(await pool.run(t)), 9);
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.run({ key: `m${i}`, fn: add, args: [lit(i), lit(1)], deps: [] })));
    assert.deepEqual(many.map(value), Array.from({ length: 200 }, (_, i) => i + 1));
    // Each outcome names the pool slot that ran it (the task stream's lane).
    assert.deepEqual([...new Set(many.map((o) => o.thread))].filter((t) => t !== 0 && t !== 1), []);
  } finally {
    await pool.close();
  }
});

test('a task thread copies results under 16 MiB (no detached buffer), and moves larger ones', () => {
  // V8 prints the line below when an isolate first detaches an ArrayBuffer (a transfer does);
  // from then on its optimised code checks every typed array access for a detached buffer, and
  // the ML kernels' loops in that thread ran 1.3-1.5x slower.
  const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    import v8 from 'node:v8';
    v8.setFlagsFromString('--trace-protector-invalidation');
    const { TaskPool } = await import(${url('../../worker/runtime/task-pool.js')});
    const { decodeValue } = await import(${url('../../protocol/values.js')});
    const pool = new TaskPool({ nthreads: 1 });
    const run = async (i, source) => {
      const o = await pool.run({ key: 'k' + i, fn: { id: 'f' + i, name: 'f' + i, source }, args: [], deps: [] });
      if (!o.ok) throw new Error(o.error.message);
      console.log('result', i, decodeValue(o.value).length);
    };
    await run(0, '() => "x".repeat(1 << 20)');
    await run(1, '() => Array.from({ length: 1 << 15 }, (_, i) => i)');
    await run(2, '() => new Float64Array(1 << 17).fill(1.5)');
    await run(3, '() => new Uint8Array(new ArrayBuffer(1 << 21), 0, 1 << 18)');
    console.log('small results back');
    await run(4, '() => "y".repeat(17 << 20)');
    console.log('large result back');
    await pool.close();
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `status ${run.status}, signal ${run.signal}, ${run.error?.message ?? ''}: ${run.stderr}`);
  const line = /Invalidating protector cell ArrayBufferDetaching/;
  const [small, large] = run.stdout.split('small results back');
  assert.match(small!, /result 0 1048576\nresult 1 32768\nresult 2 131072\nresult 3 262144\n/);
  assert.doesNotMatch(small!, line);
  // The large one was moved: the trace shows the detach, so the check above can see one.
  assert.match(large!, /Invalidating protector cell ArrayBufferDetaching[\s\S]*result 4 17825792\nlarge result back/);
});

test('a boosting state\'s WebAssembly memory reaches the task thread: its round runs the WebAssembly loops there, a copy the JavaScript ones, alike', async () => {
  const kernel = (await resolvePoolKernel('ml/map'))!;
  const fn: TaskFunction = { id: 'builtin:ml/map', name: 'ml/map', builtin: 'ml/map', builtinUrl: kernel.moduleUrl, export: kernel.exportName };
  const shard = allocShard(2_000, 2, true);
  for (let r = 0; r < 2_000; r++) {
    shard.x.data.set([(r * 7919) % 101, (r * 104729) % 13], r * 2);
    shard.y![r] = r % 3 === 0 ? 1 : 0;
  }
  const bins: FeatureBins[] = [{ kind: 'numeric', edges: [10, 50, 90] }, { kind: 'numeric', edges: [3, 6, 9] }];
  const state = runDeriveKernel('gbdt/init', { bins, loss: 'binary', outputs: 1, baseline: [0], validationFraction: 0, seed: 1, maxNodes: 8 }, shard, 0);
  const copy = shardFromBytes(new Uint8Array(shardBytes(state)));
  const pool = new TaskPool({ nthreads: 1 });
  try {
    const round = { kernel: 'gbdt/round', params: { step: 0, output: 0, root: true, gradients: true } };
    const run = async (key: string, s: typeof state): Promise<Uint8Array> => {
      const input = kernel.threadInput({ encoding: Encoding.ENCODING_BYTES, native: s });
      const o = await pool.run({ key, fn, args: [lit(round), { key: 's' }], deps: [['s', input.encoding, input.data, ...(input.memory ? [input.memory] : [])] as PoolTask['deps'][number]] });
      assert.ok(o.ok, JSON.stringify(o));
      return o.value.data;
    };
    assert.ok(state.memory && !copy.memory);
    const [withMemory, without] = [await run('wasm', state), await run('js', copy)];
    assert.ok(Buffer.from(withMemory).equals(Buffer.from(without)), 'the same histogram');
    // The WebAssembly loop builds in the state's own histogram region, the JavaScript one does not.
    assert.ok(view(state).hist.some((v) => v !== 0), 'the thread ran the WebAssembly loops on the state\'s memory');
    assert.ok(view(copy).hist.every((v) => v === 0), 'and the JavaScript ones on the copy');
  } finally {
    await pool.close();
  }
});

test('task threads start in a process given V8 flags, which threads refuse (node --max-old-space-size=... kubedask worker)', () => {
  const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    const { TaskPool } = await import(${url('../../worker/runtime/task-pool.js')});
    const { decodeValue } = await import(${url('../../protocol/values.js')});
    const pool = new TaskPool({ nthreads: 1 });
    const o = await pool.run({ key: 'k', fn: { id: 'f', name: 'f', source: '() => process.execArgv.join(" ")' }, args: [], deps: [] });
    console.log(o.ok ? 'thread flags [' + decodeValue(o.value) + ']' : 'failed ' + o.error.message);
    await pool.close();
  `;
  const run = spawnSync(process.execPath, ['--max-old-space-size=300', '--stack-size=900', '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `status ${run.status}: ${run.stderr}`);
  assert.match(run.stdout, /^thread flags \[--no-warnings\]$/m, 'the V8 flags left out, the Node one kept');
});

test('a throwing task reports name, message and stack; async tasks can import packages', async () => {
  const pool = new TaskPool({ nthreads: 1 });
  try {
    const out = await pool.run({ key: 'bad', fn: fn('bad', '(x) => { throw new RangeError("too big: " + x); }'), args: [lit(7)], deps: [] });
    assert.equal(out.ok, false);
    assert.ok(!out.ok);
    assert.equal(out.error.name, 'RangeError');
    assert.equal(out.error.message, 'too big: 7');
    assert.match(out.error.stack, /RangeError: too big: 7\n\s+at /);
    const imp = fn('imp', 'async (n) => { const arrow = await import("apache-arrow"); return arrow.tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i) }); }');
    const table = value(await pool.run({ key: 'imp', fn: imp, args: [lit(5)], deps: [] })) as Table;
    assert.equal(table.numRows, 5);
    assert.equal(table.getChild('x')?.get(4), 4);
  } finally {
    await pool.close();
  }
});

test('a thread that dies fails only its task, and the pool goes on', async () => {
  const pool = new TaskPool({ nthreads: 1 });
  try {
    const exit = pool.run({ key: 'exit', fn: fn('exit', '() => process.exit(3)'), args: [], deps: [] });
    const next = pool.run({ key: 'after', fn: fn('inc', '(x) => x + 1'), args: [lit(1)], deps: [] });
    const crashed = await exit;
    assert.ok(!crashed.ok);
    assert.equal(crashed.error.name, 'TaskThreadCrashed');
    assert.equal(crashed.thread, 0, 'the slot whose thread died');
    assert.match(crashed.error.message, /while running exit with exit code 3/);
    assert.equal(value(await next), 2);
    assert.equal(value(await pool.run({ key: 'again', fn: fn('inc', '(x) => x + 1'), args: [lit(5)], deps: [] })), 6);
  } finally {
    await pool.close();
  }
});

test('uploaded modules run by export and resolve bare imports from the package', async () => {
  const modules = new ModuleStore();
  const pool = new TaskPool({ nthreads: 1, modules });
  try {
    const url = modules.install('test-mod', 'import { tableFromArrays } from "apache-arrow";\nexport function rows(n) { return tableFromArrays({ a: Int32Array.from({ length: n }, (_, i) => i) }).numRows; }\n');
    const out = await pool.run({ key: 'm', fn: { id: 'mod-rows', name: 'rows', module: 'test-mod', export: 'rows' }, args: [lit(12)], deps: [] });
    assert.equal(value(out), 12);
    const dir = dirname(fileURLToPath(url));
    rmSync(new URL(url));
    const missing = await pool.run({ key: 'x', fn: { id: 'nope', name: 'nope', module: 'not-uploaded', export: 'f' }, args: [], deps: [] });
    assert.ok(!missing.ok);
    assert.equal(missing.error.name, 'ModuleNotInstalledError');
    assert.ok(existsSync(dir));
    await modules.close();
    assert.equal(existsSync(dir), false, 'close removes the files the store wrote');
  } finally {
    await pool.close();
    await modules.close();
  }
});

// Task functions that leave traces in files, so tests can wait on what a thread is doing.
const spinFn = fn('spin', '(marker) => { process.getBuiltinModule("node:fs").writeFileSync(marker, ""); for (;;) {} }');
const noteFn = fn('note', '(log, what) => { process.getBuiltinModule("node:fs").appendFileSync(log, what + "\\n"); return what; }');
const holdFn = fn('hold', '(log, gate) => { const fs = process.getBuiltinModule("node:fs"); fs.appendFileSync(log, "hold\\n"); while (!fs.existsSync(gate)); return "held"; }');

test('cancelling a running task ends its thread; a fresh thread runs what that one held', async () => {
  const pool = new TaskPool({ nthreads: 1, maxPerThread: 4 });
  try {
    const marker = join(tmp, 'pool-spin-started');
    const spinning = pool.run({ key: 'spin', fn: spinFn, args: [lit(marker)], deps: [] });
    const behind = pool.run({ key: 'behind', fn: fn('inc', '(x) => x + 1'), args: [lit(1)], deps: [] }); // same thread
    await waitUntil(() => existsSync(marker), 'the spinning task to start');
    assert.equal(pool.cancel('spin'), true);
    const out = await spinning;
    assert.ok(!out.ok);
    assert.equal(out.error.name, 'TaskCancelledError');
    assert.equal(value(await behind), 2);
    assert.equal(value(await pool.run({ key: 'again', fn: fn('inc', '(x) => x + 1'), args: [lit(5)], deps: [] })), 6);
    assert.equal(pool.cancel('spin'), false, 'gone from the pool');
  } finally {
    await pool.close();
  }
});

test('cancelled tasks not started yet are dropped, in the pool or in a thread, and the thread goes on', async () => {
  const pool = new TaskPool({ nthreads: 1, maxPerThread: 2 });
  try {
    const log = join(tmp, 'skip-log');
    const gate = join(tmp, 'skip-gate');
    const held = pool.run({ key: 'hold', fn: holdFn, args: [lit(log), lit(gate)], deps: [] });
    const inThread = pool.run({ key: 'in-thread', fn: noteFn, args: [lit(log), lit('in-thread')], deps: [] }); // brings noteFn's source
    const inPool = pool.run({ key: 'in-pool', fn: noteFn, args: [lit(log), lit('in-pool')], deps: [] });
    const after = pool.run({ key: 'after', fn: noteFn, args: [lit(log), lit('after')], deps: [] });
    await waitUntil(() => existsSync(log), 'the holding task to start');
    assert.equal(pool.cancel('in-thread'), true);
    assert.equal(pool.cancel('in-pool'), true);
    for (const cancelled of [await inThread, await inPool]) {
      assert.ok(!cancelled.ok);
      assert.equal(cancelled.error.name, 'TaskCancelledError');
    }
    writeFileSync(gate, '');
    assert.equal(value(await held), 'held');
    assert.equal(value(await after), 'after');
    assert.equal(readFileSync(log, 'utf8'), 'hold\nafter\n', 'the thread was not replaced and ran neither cancelled task');
  } finally {
    await pool.close();
  }
});

test('a task with a port gets it as its last argument; a whole task has its thread to itself', async () => {
  const pool = new TaskPool({ nthreads: 2, maxPerThread: 4 });
  const channel = new MessageChannel();
  try {
    const talk = fn('talk', '(x, port) => new Promise((resolve) => { port.postMessage("started " + x); port.once("message", (m) => { port.close(); resolve(m + " " + x); }); })');
    const whole = pool.run({ key: 'whole', fn: talk, args: [lit('w')], deps: [], port: channel.port2, whole: true });
    const started = await within(new Promise((resolve) => channel.port1.once('message', resolve)), 'the whole task to start');
    assert.equal(started, 'started w');
    // While it runs (waiting on its port), everything else goes to the other thread.
    const others = await within(Promise.all(Array.from({ length: 8 }, (_, i) => pool.run({ key: `o${i}`, fn: fn('inc', '(x) => x + 1'), args: [lit(i)], deps: [] }))), 'the other tasks to run beside it', 10_000);
    assert.deepEqual(others.map(value), Array.from({ length: 8 }, (_, i) => i + 1));
    channel.port1.postMessage('done');
    const out = await whole;
    assert.equal(value(out), 'done w');
    assert.deepEqual(others.filter((o) => o.thread === out.thread), [], 'nothing joined the whole task\'s thread');
  } finally {
    channel.port1.close();
    await pool.close();
  }
});

test('a pool whose threads die as they start gives up and says so', async () => {
  let broken: Error | undefined;
  const pool = new TaskPool({ nthreads: 1, resourceLimits: { maxOldGenerationSizeMb: 1 }, onBroken: (err) => (broken = err) });
  try {
    const out = await pool.run({ key: 'k', fn: fn('inc', '(x) => x + 1'), args: [lit(1)], deps: [] });
    assert.ok(!out.ok);
    assert.equal(out.error.name, 'PoolBrokenError');
    assert.equal(broken?.name, 'PoolBrokenError');
  } finally {
    await pool.close();
  }
});

test('Fetch streams a multi-chunk Arrow table, Put stores values, unknown keys come back missing', async () => {
  const store = new DataStore({ memoryLimit: 0 });
  const puts: string[] = [];
  const server = await startPeerServer({ store, host: '127.0.0.1', port: 0, onPut: (v) => puts.push(...v.map((x) => x.key)) });
  const peers = new PeerClients({ deadlineMs: 30_000 });
  try {
    const n = 400_000;
    const table = tableFromArrays({ x: Float64Array.from({ length: n }, (_, i) => i * 0.5), y: Int32Array.from({ length: n }, (_, i) => -i) });
    const encoded = encodeValue(table);
    assert.ok(encoded.data.byteLength > 2 * CHUNK_BYTES, 'table spans several chunks');
    store.put('table', encoded);
    const address = `127.0.0.1:${server.port}`;
    const got = await peers.fetch(address, ['table', 'nope']);
    assert.deepEqual(got.missing.map((m) => m.key), ['nope']);
    assert.equal(got.values.length, 1);
    assert.equal(got.values[0]!.value.encoding, Encoding.ENCODING_ARROW_IPC);
    const back = decodeValue(got.values[0]!.value) as Table;
    assert.equal(back.numRows, n);
    assert.equal(back.getChild('x')?.get(n - 1), (n - 1) * 0.5);
    assert.equal(back.getChild('y')?.get(12345), -12345);

    const stored = await peers.put(address, [{ key: 'p1', value: encodeValue({ hello: 'world' }) }, { key: 'p2', value: encodeValue(new Uint8Array(3 * CHUNK_BYTES + 5).fill(7)) }]);
    assert.deepEqual(stored, ['p1', 'p2']);
    assert.deepEqual(puts, ['p1', 'p2']);
    const again = await peers.fetch(address, ['p2', 'p1']);
    assert.deepEqual(again.values.map((v) => v.key), ['p2', 'p1']);
    assert.deepEqual(decodeValue(again.values[1]!.value), { hello: 'world' });
    const bytes = decodeValue(again.values[0]!.value) as Uint8Array;
    assert.equal(bytes.byteLength, 3 * CHUNK_BYTES + 5);
    assert.ok(bytes.every((b) => b === 7));
  } finally {
    peers.close();
    await server.close();
    await store.close();
  }
});

test('Exchange: a peer\'s parts reach the mailbox in order over one stream; a refused part fails alone; no ack in time fails what is in flight; the peer closing ends the stream', async () => {
  const got: ExchangePart[] = [];
  const store = new DataStore({ memoryLimit: 0 });
  const server = await startPeerServer({
    store, host: '127.0.0.1', port: 0,
    exchange: (part) => {
      if (part.rank === 99) throw new Error('part 99 refused here');
      got.push(part);
    },
  });
  // A peer that takes parts and never acknowledges them, counting the streams opened to it.
  const silent = new grpc.Server(serverOptions);
  let silentStreams = 0;
  silent.addService(WorkerDataService, { exchange: () => { silentStreams++; } } as unknown as grpc.UntypedServiceImplementation);
  const silentPort = await new Promise<number>((resolve, reject) => silent.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const peers = new PeerClients();
  try {
    const address = `127.0.0.1:${server.port}`;
    await Promise.all(Array.from({ length: 40 }, (_, step) => peers.exchange(address, { group: 'g', step, rank: 1, data: new Uint8Array([step]) }, 10_000)));
    assert.deepEqual(got.map((p) => [p.step, p.data?.[0]]), Array.from({ length: 40 }, (_, step) => [step, step]), 'every part, in the order sent');
    const sends = [0, 99, 1].map((rank) => peers.exchange(address, { group: 'h', step: 0, rank, data: new Uint8Array(1) }, 10_000));
    const outcomes = await Promise.allSettled(sends);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled'], 'only the refused part fails');
    assert.match(((outcomes[1] as PromiseRejectedResult).reason as Error).message, /collective h: the part for .* did not go: part 99 refused here/);

    const quiet = `127.0.0.1:${silentPort}`;
    const started = Date.now();
    const unanswered = await Promise.allSettled([0, 1].map((step) => peers.exchange(quiet, { group: 'q', step, rank: 0, data: new Uint8Array(1) }, 300)));
    assert.ok(unanswered.every((o) => o.status === 'rejected' && /the part for .* did not go: no ack within 300 ms/.test((o.reason as Error).message)), JSON.stringify(unanswered.map((o) => o.status === 'rejected' && (o.reason as Error).message)));
    assert.ok(Date.now() - started < 5_000);
    await assert.rejects(peers.exchange(quiet, { group: 'q', step: 2, rank: 0, data: new Uint8Array(1) }, 300), /no ack within 300 ms/);
    assert.equal(silentStreams, 2, 'one stream for the two parts sent together, a new one after it was ended');

    // The worker closing ends its peers' streams (so its shutdown does not wait on them); the next part opens a new one, and fails while nobody serves.
    const closing = Date.now();
    await server.close(5_000);
    assert.ok(Date.now() - closing < 2_500, `the open stream held the shutdown ${Date.now() - closing} ms`);
    await assert.rejects(peers.exchange(address, { group: 'g', step: 40, rank: 1, data: new Uint8Array(1) }, 5_000), /collective g: the part for .* did not go/);
  } finally {
    peers.close();
    silent.forceShutdown();
    await server.close();
    await store.close();
  }
});

test('values past the memory limit spill to disk and stay readable; close removes the spill directory', async () => {
  const store = new DataStore({ memoryLimit: 250_000, spillRoot: tmp });
  const values = Array.from({ length: 10 }, (_, i) => new Uint8Array(100_000).fill(i));
  values.forEach((v, i) => store.put(`v${i}`, { encoding: Encoding.ENCODING_BYTES, data: v }));
  await waitUntil(() => store.memoryUsed <= 250_000, 'memory back under the limit');
  assert.equal(store.spilledBytes, 800_000);
  assert.equal(store.peek('v0'), undefined, 'the oldest value is on disk');
  for (let i = 0; i < 10; i++) {
    const v = await store.get(`v${i}`);
    assert.ok(v);
    assert.equal(v.data.byteLength, 100_000);
    assert.ok(v.data.every((b) => b === i));
  }
  const spillDirs = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('kubedask-spill-'));
  assert.equal(spillDirs().length, 1);
  store.delete('v0');
  assert.equal(await store.get('v0'), undefined);
  await store.close();
  assert.equal(spillDirs().length, 0);
});

// A scheduler that only records what workers send and sends what a test tells it to.
type Duplex = grpc.ServerDuplexStream<kubedask.v1.WorkerBatch, kubedask.v1.SchedulerBatch.$Properties>;
class FakeScheduler {
  readonly streams: Duplex[] = [];
  readonly events: Array<{ stream: number; event: kubedask.v1.WorkerEvent.$Properties }> = [];
  readonly server = new grpc.Server(serverOptions);
  port = 0;

  static async start(): Promise<FakeScheduler> {
    const self = new FakeScheduler();
    self.server.addService(WorkerStreamService, {
      connect(call: Duplex) {
        const index = self.streams.push(call) - 1;
        call.on('data', (batch: kubedask.v1.WorkerBatch) => {
          for (const event of batch.events) self.events.push({ stream: index, event });
          if (batch.events.some((e) => e.kind === 'register')) call.write({ commands: [{ registered: { workerId: `w${index}`, schedulerId: 's' } }] });
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
    self.port = await new Promise<number>((res, rej) => self.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    return self;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  of<K extends NonNullable<kubedask.v1.WorkerEvent['kind']>>(kind: K, stream?: number): Array<NonNullable<kubedask.v1.WorkerEvent[K]>> {
    return this.events.filter((e) => e.event.kind === kind && (stream === undefined || e.stream === stream)).map((e) => e.event[kind]!);
  }

  send(stream: number, ...commands: kubedask.v1.SchedulerCommand.$Properties[]): void {
    this.streams[stream]!.write({ commands });
  }

  close(): void {
    this.server.forceShutdown();
  }
}

function compute(key: string, f: kubedask.v1.FunctionDef.$Properties, args: kubedask.v1.Arg.$Properties[], whoHas: Record<string, string[]> = {}, reportValue = false): kubedask.v1.SchedulerCommand.$Properties {
  return { compute: {
    task: { key, functionId: f.id, args, dependencies: Object.keys(whoHas) },
    whoHas: Object.entries(whoHas).map(([k, addresses]) => ({ key: k, addresses })),
    functions: [f],
    reportValue,
  } };
}

test('a worker sends a small value with its finish when the compute asks for it (report_value), and only then', async () => {
  const sched = await FakeScheduler.start();
  const w = await startWorker({ scheduler: sched.address, nthreads: 1, memoryLimit: 0, resources: {}, heartbeatMs: 50, modulesDir: join(tmp, 'modules'), name: 'inline' });
  try {
    await waitUntil(() => sched.of('register').length === 1, 'registration');
    const make = { id: 'make', name: 'make', source: '(n) => new Uint8Array(n).fill(7)' };
    const finished = (key: string) => waitUntil(() => sched.of('finished', 0).find((f) => f.key === key), `${key} finished`);
    sched.send(0, compute('asked', make, [{ value: lit(1000) }], {}, true));
    const asked = await finished('asked');
    assert.ok(asked.value, 'the value came with the finish');
    assert.deepEqual(decodeValue({ encoding: asked.value.encoding!, data: asked.value.data! }), new Uint8Array(1000).fill(7));
    assert.equal(Number(asked.nbytes), asked.value.data!.byteLength);

    sched.send(0, compute('unasked', make, [{ value: lit(1000) }]));
    assert.equal((await finished('unasked')).value, null, 'not asked: the finish carries no value');

    // Past the limit, the value stays on the worker: the client gathers it.
    sched.send(0, compute('large', make, [{ value: lit(INLINE_VALUE_MAX_BYTES + 1) }], {}, true));
    const large = await finished('large');
    assert.equal(large.value, null);
    assert.equal(Number(large.nbytes), INLINE_VALUE_MAX_BYTES + 1);
  } finally {
    await w.close();
    sched.close();
  }
});

test('a worker registers, runs tasks for the scheduler and serves their results to peers', async () => {
  const sched = await FakeScheduler.start();
  const options = { scheduler: sched.address, nthreads: 2, memoryLimit: 0, resources: {}, heartbeatMs: 50, modulesDir: join(tmp, 'modules') };
  const w1 = await startWorker({ ...options, name: 'w1' });
  const w2 = await startWorker({ ...options, name: 'w2' });
  const peers = new PeerClients();
  try {
    const reg = await waitUntil(() => sched.of('register').length === 2 && sched.of('register'), 'registrations');
    assert.deepEqual(reg.map((r) => r.name).sort(), ['w1', 'w2']);
    const s1 = sched.events.find((e) => e.event.register?.name === 'w1')!.stream;
    const s2 = 1 - s1;
    assert.equal(sched.of('register', s1)[0]!.address, w1.address);
    assert.equal(sched.of('register', s1)[0]!.nthreads, 2);

    const inc = { id: 'inc', name: 'inc', source: '(x) => x + 1' };
    sched.send(s1, compute('x', inc, [{ value: lit(41) }]));
    const fin = await waitUntil(() => sched.of('finished', s1).find((f) => f.key === 'x'), 'x finished');
    assert.equal(Number(fin.nbytes), 2);
    assert.equal(fin.encoding, Encoding.ENCODING_JSON);
    assert.ok(Number(fin.startMs) > 0 && Number(fin.durationMs) >= 0);
    const fetched = await peers.fetch(w1.address, ['x']);
    assert.equal(decodeValue(fetched.values[0]!.value), 42);

    // w2 needs x, which only w1 holds: it fetches it, says so, and computes y from it.
    const mul = { id: 'mul', name: 'mul', source: '(a, b) => a * b.k' };
    sched.send(s2, compute('y', mul, [{ key: 'x' }, { value: lit({ k: keyPlaceholder('x') }) }], { x: [w1.address] }));
    await waitUntil(() => sched.of('finished', s2).find((f) => f.key === 'y'), 'y finished');
    assert.deepEqual(sched.of('added', s2).flatMap((a) => a.keys), ['x']);
    assert.equal(decodeValue((await peers.fetch(w2.address, ['y'])).values[0]!.value), 42 * 42);

    const boom = { id: 'boom', name: 'boom', source: 'function boom() { throw new TypeError("no good"); }' };
    sched.send(s2, compute('z', boom, []));
    const erred = await waitUntil(() => sched.of('erred', s2).find((e) => e.key === 'z'), 'z erred');
    assert.equal(erred.error?.name, 'TypeError');
    assert.equal(erred.error?.message, 'no good');
    assert.equal(erred.error?.key, 'z');
    assert.equal(erred.error?.worker, w2.address);
    assert.match(erred.error?.stack ?? '', /at boom/);

    // An uploaded module, then a task calling its export.
    sched.send(s1,
      { module: { name: 'wmod', source: 'export const double = (v) => v * 2;\n' } },
      compute('d', { id: 'wmod.double', name: 'double', module: 'wmod', export: 'double' }, [{ value: lit(21) }]));
    await waitUntil(() => sched.of('finished', s1).find((f) => f.key === 'd'), 'd finished');
    assert.equal(decodeValue((await peers.fetch(w1.address, ['d'])).values[0]!.value), 42);

    // Replication (retirement) ends in KeysAdded; Put (scatter) values are served at once.
    sched.send(s1, { replicate: { whoHas: [{ key: 'y', addresses: [w2.address] }] } });
    await waitUntil(() => sched.of('added', s1).some((a) => a.keys?.includes('y')), 'y replicated');
    await peers.put(w1.address, [{ key: 'scattered', value: encodeValue('hi') }]);
    assert.equal(decodeValue((await peers.fetch(w1.address, ['scattered'])).values[0]!.value), 'hi');

    const hb = await waitUntil(() => sched.of('heartbeat', s1)[0], 'a heartbeat');
    assert.ok(Number(hb.memoryUsed) >= 0);

    sched.send(s1, { free: { keys: ['x'] } });
    await waitUntil(async () => (await peers.fetch(w1.address, ['x'])).missing.length === 1, 'x freed on w1');

    sched.send(s1, { close: { reason: 'retired' } });
    assert.deepEqual(await w1.closed, { reason: 'retired' });
    assert.deepEqual(readdirSync(join(tmp, 'modules')), [], 'the closed worker removed the module files it wrote');
  } finally {
    peers.close();
    await Promise.all([w1.close(), w2.close()]);
    sched.close();
  }
});

test('a worker that cannot bind its port fails to start with a clear error and leaves nothing running', async () => {
  const taken = await startPeerServer({ store: new DataStore({ memoryLimit: 0 }), host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(
      startWorker({ scheduler: '127.0.0.1:1', nthreads: 1, memoryLimit: 0, resources: {}, port: taken.port }),
      (err: Error) => err.name === 'WorkerError' && err.message.includes(`127.0.0.1:${taken.port}`),
    );
    await assert.rejects(startWorker({ scheduler: 'nope', nthreads: 1, memoryLimit: 0, resources: {} }), { name: 'WorkerOptionsError' });
  } finally {
    await taken.close();
  }
});

test('a worker that never reaches its scheduler gives up saying why, not that it lost it', async () => {
  const worker = await startWorker({ scheduler: '127.0.0.1:1', nthreads: 1, memoryLimit: 0, resources: {}, reconnectTimeoutMs: 500 });
  try {
    const exit = await within(worker.closed, 'the worker to give up', 10_000);
    assert.equal(exit.reason, 'scheduler unreachable');
    assert.ok(exit.error instanceof SchedulerUnreachableError, String(exit.error));
    assert.equal(exit.error.reason, 'refused');
    assert.match(exit.error.message, /^could not reach the scheduler at 127\.0\.0\.1:1: connection refused/);
  } finally {
    await worker.close();
  }
});

test('a worker whose stream breaks registers again, and gives up when the scheduler stays away', async () => {
  const sched = await FakeScheduler.start();
  const worker = await startWorker({ scheduler: sched.address, nthreads: 1, memoryLimit: 0, resources: {}, reconnectTimeoutMs: 1_500 });
  try {
    await waitUntil(() => sched.of('register').length === 1, 'first registration');
    sched.streams[0]!.end();
    await waitUntil(() => sched.of('register').length === 2, 'second registration');
    assert.equal(sched.of('register', 1)[0]!.name, worker.name);
    sched.close();
    const exit = await worker.closed;
    assert.equal(exit.reason, 'scheduler lost');
    assert.equal(exit.error?.name, 'SchedulerLostError');
  } finally {
    await worker.close();
    sched.close();
  }
});

test('a worker cancelled while running a task that never returns frees its thread for the next task', async () => {
  const sched = await FakeScheduler.start();
  const worker = await startWorker({ scheduler: sched.address, nthreads: 1, memoryLimit: 0, resources: {}, modulesDir: join(tmp, 'modules') });
  try {
    await waitUntil(() => sched.of('register').length === 1, 'registration');
    const marker = join(tmp, 'worker-spin-started');
    sched.send(0, compute('spin', spinFn, [{ value: lit(marker) }]));
    await waitUntil(() => existsSync(marker), 'the spinning task to start');
    sched.send(0, { cancel: { key: 'spin' } }, compute('next', { id: 'inc', name: 'inc', source: '(x) => x + 1' }, [{ value: lit(1) }]));
    await waitUntil(() => sched.of('finished').find((f) => f.key === 'next'), 'next finished');
    const peers = new PeerClients();
    assert.equal(decodeValue((await peers.fetch(worker.address, ['next'])).values[0]!.value), 2);
    peers.close();
    // Asked again after the cancel, the task runs anew (and is cancelled again).
    rmSync(marker);
    sched.send(0, compute('spin', spinFn, [{ value: lit(marker) }]));
    await waitUntil(() => existsSync(marker), 'the spinning task to start again');
    sched.send(0, { cancel: { key: 'spin' } }, compute('last', { id: 'inc', name: 'inc', source: '(x) => x + 1' }, [{ value: lit(2) }]));
    await waitUntil(() => sched.of('finished').find((f) => f.key === 'last'), 'last finished');
    assert.deepEqual([...sched.of('finished'), ...sched.of('erred')].map((e) => e.key), ['next', 'last'], 'nothing is reported for the cancelled runs');
  } finally {
    await worker.close();
    sched.close();
  }
});

test('a worker whose task threads cannot start closes itself with PoolBrokenError', async () => {
  const sched = await FakeScheduler.start();
  let exit: { reason: string; error?: Error } | undefined;
  try {
    // A 1 MiB heap: the threads run out of memory loading their modules, every time.
    const worker = await startWorker({ scheduler: sched.address, nthreads: 1, memoryLimit: 0, resources: {}, threadHeapMb: 1 });
    void worker.closed.then((e) => (exit = e));
  } catch (err) {
    exit = { reason: 'start failed', error: err as Error }; // broke before it finished starting
  }
  try {
    const end = await waitUntil(() => exit, 'the worker to close');
    assert.equal(end.error?.name, 'PoolBrokenError', end.error?.message);
    assert.equal(sched.of('erred').length, 0, 'no task is reported erred for it');
    if (sched.streams.length > 0) await waitUntil(() => sched.streams.every((s) => s.readableEnded || s.destroyed), 'its stream to end');
  } finally {
    sched.close();
  }
});

test('a worker bound to every interface advertises this machine\'s first external IPv4 address, or advertiseHost', async () => {
  const external = Object.values(networkInterfaces()).flatMap((a) => a ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  const options = { scheduler: '127.0.0.1:1', nthreads: 1, memoryLimit: 0, resources: {}, host: '0.0.0.0' };
  const w1 = await startWorker(options);
  const w2 = await startWorker({ ...options, advertiseHost: '10.11.12.13' });
  try {
    assert.match(w1.address, new RegExp(`^${(external ?? hostname()).replaceAll('.', '\\.')}:\\d+$`));
    assert.match(w2.address, /^10\.11\.12\.13:\d+$/);
  } finally {
    await Promise.all([w1.close(), w2.close()]);
  }
});
