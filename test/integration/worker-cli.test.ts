// `kubedask worker` flags that decide the address a worker advertises to the scheduler and peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

/** Runs a worker that cannot reach its scheduler (so it exits 1 after --connect-timeout) and
 * returns the address it said it serves data at. */
function advertised(args: string[], podIp?: string, extraEnv: Record<string, string> = {}): Promise<{ address: string; code: number | null; stderr: string }> {
  const env = { ...process.env, ...extraEnv };
  delete env.POD_IP;
  if (podIp !== undefined) env.POD_IP = podIp;
  const child = spawn(process.execPath, [bin, 'worker', '--scheduler', '127.0.0.1:1', '--connect-timeout', '1', '--nthreads', '1', ...args],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => {
    resolve({ address: /serving data at (\S+)/.exec(stdout)?.[1] ?? `(none in: ${stdout})`, code, stderr });
  }));
}

test('--advertise-host, else $POD_IP, is what a worker bound to 0.0.0.0 advertises', async () => {
  const [flag, pod, both, loopback] = await Promise.all([
    advertised(['--host', '0.0.0.0', '--advertise-host', '10.9.8.7']),
    advertised(['--host', '0.0.0.0'], '10.1.2.3'),
    advertised(['--host', '0.0.0.0', '--advertise-host', '10.9.8.7'], '10.1.2.3'),
    advertised(['--host', '127.0.0.1'], '10.1.2.3'),
  ]);
  for (const r of [flag, pod, both, loopback]) assert.equal(r.code, 1, r.stderr); // no scheduler there
  assert.match(flag.address, /^10\.9\.8\.7:\d+$/);
  assert.match(pod.address, /^10\.1\.2\.3:\d+$/);
  assert.match(both.address, /^10\.9\.8\.7:\d+$/);
  assert.match(loopback.address, /^127\.0\.0\.1:\d+$/, 'POD_IP only stands in for a wildcard bind');
});

test('a worker that never reached its scheduler exits 1 saying it could not reach it, not that it lost it', async () => {
  const r = await advertised(['--host', '127.0.0.1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /could not reach the scheduler at 127\.0\.0\.1:1: connection refused \(nothing listens on that port\); gave up after 1 s/);
  assert.doesNotMatch(r.stderr, /lost/);
});

test('grpc-js\'s own log lines reach the worker\'s log at debug, never the terminal', async () => {
  // An unsupported proxy scheme makes grpc-js log an error as it opens the channel.
  const proxy = { grpc_proxy: 'ftp://proxy.invalid' };
  const [quiet, debug] = await Promise.all([
    advertised(['--host', '127.0.0.1'], undefined, proxy),
    advertised(['--host', '127.0.0.1', '--log-level', 'debug'], undefined, proxy),
  ]);
  assert.doesNotMatch(quiet.stderr, /scheme not supported/);
  const lines = debug.stderr.split('\n').filter((l) => l.includes('scheme not supported'));
  assert.ok(lines.length > 0, debug.stderr);
  for (const line of lines) {
    assert.deepEqual(
      (({ level, component, source, severity }) => ({ level, component, source, severity }))(JSON.parse(line) as Record<string, unknown>),
      { level: 'debug', component: 'worker', source: 'grpc-js', severity: 'error' },
    );
  }
});

test('the worker\'s help documents --advertise-host and its $POD_IP default', () => {
  const r = spawnSync(process.execPath, [bin, 'worker', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ +--advertise-host <H> +.*\(default: \$POD_IP, /m);
});
