// Start-up: a worker registers without waiting for its task threads, and a task sent before
// any thread is ready waits for one and runs; a thread loads Arrow only when a task needs it. The threads are held back for sure, not by
// timing: test/fixtures/hold-task-threads.mjs keeps each one loading until this test lets go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import { Encoding } from '../../protocol/value-codec.js';
import { startScheduler } from '../../scheduler/server/scheduler-server.js';
import { waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));
const holdThreads = fileURLToPath(new URL('../../../test/fixtures/hold-task-threads.mjs', import.meta.url));
const recordModules = fileURLToPath(new URL('../../../test/fixtures/record-modules.mjs', import.meta.url));

test('a worker registers before its task threads are ready; a task sent meanwhile runs once one is', async () => {
  const held: Socket[] = [];
  const gate = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  const gatePort = (gate.address() as { port: number }).port;
  const scheduler = await startScheduler({ port: 0, dashboardPort: -1, logLevel: 'silent' });
  let stderr = '';
  const worker = spawn(process.execPath, ['--import', holdThreads, bin, 'worker', '--scheduler', scheduler.address, '--name', 'held', '--nthreads', '2'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBEDASK_TEST_THREAD_GATE: String(gatePort) },
  });
  worker.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  let client: Client | undefined;
  try {
    await waitUntil(() => scheduler.core.workerByName('held') !== undefined || worker.exitCode !== null, 'the worker to register');
    assert.equal(worker.exitCode, null, `worker exited: ${stderr}`);
    await waitUntil(() => held.length === 2, 'both task threads to be loading (held)');

    client = await Client.connect(scheduler.address);
    const future = client.submit((x: number) => x + 1, 41);
    const workerId = scheduler.core.workerByName('held')!.def.workerId;
    await waitUntil(() => scheduler.core.state.processingOn(workerId).includes(future.key), 'the task to be sent to the worker');
    assert.equal(held.length, 2, 'no thread was let go yet, so none is ready');

    for (const socket of held) socket.write('go');
    assert.equal(await future.result(), 42);
  } finally {
    await client?.close();
    worker.kill('SIGTERM');
    if (worker.exitCode === null) await new Promise((resolve) => worker.once('exit', resolve));
    for (const socket of held) socket.destroy();
    gate.close();
    await scheduler.close();
  }
});

test('a task thread loads neither apache-arrow nor the generated protocol until a task needs Arrow', async () => {
  const log = join(mkdtempSync(join(tmpdir(), 'kubedask-thread-modules-')), 'modules.log');
  const pool = fileURLToPath(new URL('../../worker/runtime/task-pool.js', import.meta.url));
  // One JSON task, then one that returns an Arrow table, each in a fresh pool of its own.
  const script = (source: string) => `
    const { TaskPool } = await import(${JSON.stringify(pool)});
    const pool = new TaskPool({ nthreads: 1 });
    const out = await pool.run({ key: 'k', fn: { id: 'f', name: 'f', source: ${JSON.stringify(source)} }, args: [], deps: [] });
    await pool.close();
    if (!out.ok) throw new Error(out.error.message);
    console.log(out.value.encoding);`;
  const run = (source: string): { encoding: number; loaded: string[] } => {
    rmSync(log, { force: true });
    const out = spawnSync(process.execPath, ['--import', recordModules, '--input-type=module', '-e', script(source)],
      { encoding: 'utf8', env: { ...process.env, KUBEDASK_MODULES_LOG: log } });
    assert.equal(out.status, 0, out.stderr);
    return { encoding: Number(out.stdout.trim()), loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  };
  const json = run('() => ({ answer: 42 })');
  assert.equal(json.encoding, Encoding.ENCODING_JSON);
  assert.ok(json.loaded.some((url) => url.endsWith('/task-thread.js')), 'the thread\'s modules are recorded');
  assert.deepEqual(json.loaded.filter((url) => url.includes('/apache-arrow/') || url.includes('/protocol/generated/')), []);
  const table = run('async () => (await import("apache-arrow")).tableFromArrays({ x: Int32Array.from([1, 2]) })');
  assert.equal(table.encoding, Encoding.ENCODING_ARROW_IPC);
  assert.ok(table.loaded.some((url) => url.includes('/apache-arrow/')));
});
