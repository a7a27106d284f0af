// `kubedask worker` flags that decide the address a worker advertises to the scheduler and peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

/** Runs a worker that cannot reach its scheduler (so it exits 1 after --connect-timeout) and
 * returns the address it said it serves data at. */
function advertised(args: string[], podIp?: string): Promise<{ address: string; code: number | null; stderr: string }> {
  const env = { ...process.env };
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

test('the worker\'s help documents --advertise-host and its $POD_IP default', () => {
  const r = spawnSync(process.execPath, [bin, 'worker', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ +--advertise-host <H> +.*\(default: \$POD_IP, /m);
});
