// Start-up: a worker registers without waiting for its task threads, and a task sent before
// any thread is ready waits for one and runs. The threads are held back for sure, not by
// timing: test/fixtures/hold-task-threads.mjs keeps each one loading until this test lets go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import { startScheduler } from '../../scheduler/server/scheduler-server.js';
import { waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));
const holdThreads = fileURLToPath(new URL('../../../test/fixtures/hold-task-threads.mjs', import.meta.url));

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
