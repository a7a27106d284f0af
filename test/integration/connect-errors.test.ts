// Connecting to a wrong address fails at once and says what is there: nothing (refused), no such
// host, the dashboard's HTTP port, or something silent (then at the connect timeout). The
// deadlines below only bound the wait; what is asserted is the error's kind and message.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { Client, ConnectionLostError, SchedulerUnreachableError, startScheduler, type RunningScheduler } from '../../index.js';
import { within } from '../helpers/wait.js';

/** Well before the 10 s connect timeout that a refused connection used to wait out. */
const FAST_MS = 5_000;

async function refusal(address: string, timeoutMs?: number): Promise<SchedulerUnreachableError> {
  const err = await within(Client.connect(address, timeoutMs ? { timeoutMs } : {}).then(
    (c) => { void c.close(); throw new Error(`connected to ${address}`); },
    (e: unknown) => e,
  ), `the connect to ${address} to fail`, timeoutMs ? timeoutMs + FAST_MS : FAST_MS);
  assert.ok(err instanceof SchedulerUnreachableError, `got ${String(err)}`);
  assert.ok(err instanceof ConnectionLostError, 'still a ConnectionLostError for code that caught that');
  assert.equal(err.address, address.replace(/^grpc:\/\//, ''));
  return err;
}

/** A port that was just free: nothing listens on it. */
async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('Client.connect to a wrong address', () => {
  let scheduler: RunningScheduler;
  let silent: TcpServer;
  const held: Socket[] = [];

  before(async () => {
    scheduler = await startScheduler({ host: '127.0.0.1', port: 0, dashboardPort: 0, logLevel: 'silent' });
    silent = createTcpServer((s) => held.push(s)); // accepts and never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    for (const s of held) s.destroy();
    silent.close();
    await scheduler.close();
  });

  it('fails at once when nothing listens, naming the address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const err = await refusal(address);
    assert.equal(err.reason, 'refused');
    assert.equal(err.message, `could not reach the scheduler at ${address}: connection refused (nothing listens on that port)`);
  });

  it('fails at once when the host name does not resolve', async () => {
    const err = await refusal('no-such-host.invalid:8786');
    assert.equal(err.reason, 'unresolved');
    assert.match(err.message, /^could not reach the scheduler at no-such-host\.invalid:8786: the host name "no-such-host\.invalid" does not resolve/);
  });

  it('says that the dashboard port is the dashboard, given as host:port or as its URL', async () => {
    const url = new URL(scheduler.dashboardUrl);
    const byPort = await refusal(url.host);
    assert.equal(byPort.reason, 'not-grpc');
    assert.match(byPort.message, /it answers HTTP, so it is a web server such as the dashboard's HTTP port.*the scheduler listens for clients and workers on its gRPC port \(8786 by default\)/);
    const byUrl = await refusal(scheduler.dashboardUrl.replace(/\/$/, ''));
    assert.equal(byUrl.reason, 'not-grpc');
    assert.match(byUrl.message, /a web URL, such as the dashboard's, is not a scheduler address; the scheduler listens/);
  });

  it('says when a gRPC server that is not a kubedask scheduler answers', async () => {
    const other = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      other.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    try {
      const err = await refusal(`127.0.0.1:${port}`);
      assert.equal(err.reason, 'not-grpc');
      assert.match(err.message, /: something answers there, but not a kubedask scheduler \(.*\); the scheduler listens/);
    } finally {
      other.forceShutdown();
    }
  });

  it('times out on a silent address, naming the address and the timeout', async () => {
    const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    const err = await refusal(address, 1_500);
    assert.equal(err.reason, 'timeout');
    assert.equal(err.message, `could not reach the scheduler at ${address}: no answer within 1500 ms`);
  });

  it('keeps grpc-js\'s own log lines off a client\'s terminal unless KUBEDASK_LOG_LEVEL is debug', async () => {
    const index = new URL('../../index.js', import.meta.url).href;
    const script = `import { Client } from ${JSON.stringify(index)};
      await Client.connect('127.0.0.1:${await freePort()}').catch((e) => console.log(e.reason));`;
    // An unsupported proxy scheme makes grpc-js log an error as it opens the channel.
    const run = (level: string) => new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, grpc_proxy: 'ftp://proxy.invalid', KUBEDASK_LOG_LEVEL: level }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', () => resolve({ stdout, stderr }));
    });
    const [quiet, debug] = await within(Promise.all([run('warn'), run('debug')]), 'the client processes', 20_000);
    assert.equal(quiet.stdout.trim(), 'refused');
    assert.equal(quiet.stderr, '');
    const line = debug.stderr.split('\n').find((l) => l.includes('scheme not supported'));
    assert.ok(line, debug.stderr);
    assert.deepEqual(
      (({ level, component, source }) => ({ level, component, source }))(JSON.parse(line) as Record<string, unknown>),
      { level: 'debug', component: 'client', source: 'grpc-js' },
    );
  });

  it('still connects to the scheduler itself', async () => {
    const client = await within(Client.connect(scheduler.address), 'the connect to the real scheduler', FAST_MS);
    await client.close();
  });
});
