import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { WorkerStreamService, serverOptions } from '/work/main/dist/protocol/services.js';
import { encodeValue } from '/work/main/dist/protocol/values.js';
const N = Number(process.argv[2] ?? 10000), nthreads = Number(process.argv[3] ?? 2), batch = Number(process.argv[4] ?? 1000);
let call, finished = 0, resolveDone, registered, target;
const regP = new Promise((r) => (registered = r));
const server = new grpc.Server(serverOptions);
server.addService(WorkerStreamService, { connect(c) { call = c; c.on('data', (b) => { for (const e of b.events) { if (e.kind === 'register') registered(); if (e.kind === 'finished') { finished++; if (finished === target) resolveDone(); } if (e.kind === 'erred') console.log(e.erred.error.message); } }); c.on('error', () => {}); } });
const port = await new Promise((res) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => res(p)));
const child = spawn(process.execPath, ['--input-type=module', '-e', `import { startWorker } from '/work/main/dist/worker/runtime/worker.js'; const w = await startWorker({ scheduler: '127.0.0.1:${port}', nthreads: ${nthreads}, memoryLimit: 0, resources: {} }); w.closed.then(() => process.exit(0));`], { stdio: 'inherit' });
await regP;
const fn = { id: 'inc', name: 'inc', source: '(x) => x + 1' };
async function round(tag) {
  finished = 0; target = N;
  const done = new Promise((r) => (resolveDone = r));
  const t0 = performance.now();
  for (let i = 0; i < N; i += batch) {
    const commands = [];
    for (let j = i; j < Math.min(N, i + batch); j++) commands.push({ compute: { task: { key: `${tag}-${j}`, functionId: 'inc', args: [{ value: encodeValue(j) }] }, functions: j === 0 ? [fn] : [] } });
    call.write({ commands });
  }
  await done;
  const dt = performance.now() - t0;
  call.write({ commands: [{ free: { keys: Array.from({ length: N }, (_, j) => `${tag}-${j}`) } }] });
  return Math.round(N / dt * 1000);
}
const rates = [];
for (const t of ['a', 'b', 'c', 'd', 'e']) rates.push(await round(t));
console.log(JSON.stringify({ N, nthreads, batch, tasksPerSec: rates }));
call.write({ commands: [{ close: { reason: 'bench done' } }] });
await new Promise((r) => child.on('exit', r));
server.forceShutdown();
