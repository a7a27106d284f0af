// `kubedask local --gpus`: one worker per visible GPU, each with CUDA_VISIBLE_DEVICES set to its
// own and resource GPU=1; GPUs found from CUDA_VISIBLE_DEVICES or, unset, `nvidia-smi -L`
// (a fake one on PATH here: this machine has no GPU).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../index.js';
import { visibleGpus } from '../../client/gpus.js';
import { processAlive, waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

/** A directory holding an `nvidia-smi` that lists two GPUs (and one MIG line, which is not a GPU). */
function fakeNvidiaSmi(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-nvidia-smi-'));
  const script = join(dir, 'nvidia-smi');
  writeFileSync(script, [
    '#!/bin/sh',
    '[ "$1" = "-L" ] || exit 9',
    'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-11111111-2222-3333-4444-555555555555)"',
    'echo "  MIG 1g.10gb     Device  0: (UUID: MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee)"',
    'echo "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-66666666-7777-8888-9999-000000000000)"',
  ].join('\n') + '\n');
  chmodSync(script, 0o755);
  return dir;
}

function envWithout(name: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env[name];
  return env;
}

describe('visibleGpus', () => {
  it('reads CUDA_VISIBLE_DEVICES when set, else nvidia-smi -L', () => {
    const dir = fakeNvidiaSmi();
    assert.deepEqual(visibleGpus(envWithout('CUDA_VISIBLE_DEVICES', { PATH: `${dir}:${process.env.PATH}` })), ['0', '1']);
    assert.deepEqual(visibleGpus({ PATH: `${dir}:${process.env.PATH}`, CUDA_VISIBLE_DEVICES: '3,GPU-abc' }), ['3', 'GPU-abc']);
    assert.deepEqual(visibleGpus({ PATH: `${dir}:${process.env.PATH}`, CUDA_VISIBLE_DEVICES: '' }), []);
    assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '2,-1,3' }), ['2']);
    assert.deepEqual(visibleGpus(envWithout('CUDA_VISIBLE_DEVICES', { PATH: mkdtempSync(join(tmpdir(), 'no-nvidia-smi-')) })), []);
  });
});

describe('kubedask local --gpus', () => {
  it('starts one worker per GPU, each seeing only its own and advertising GPU=1', async (t) => {
    const env = envWithout('CUDA_VISIBLE_DEVICES', { PATH: `${fakeNvidiaSmi()}:${process.env.PATH}` });
    const child = spawn(process.execPath, [bin, 'local', '--gpus', '--port', '0', '--dashboard-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    t.after(() => { child.kill('SIGKILL'); });
    await waitUntil(() => /press Ctrl-C/.test(out), 'the cluster to start');
    assert.match(out, /2 worker\(s\), one per GPU \(0, 1\), each with resource GPU=1/);
    const client = await Client.connect(/grpc:\/\/(\S+)/.exec(out)![1]!);
    const info = await client.clusterInfo();
    await client.close();
    assert.deepEqual(info.workers.map((w) => w.resources), [{ GPU: 1 }, { GPU: 1 }]);
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const visible = children.map((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('CUDA_VISIBLE_DEVICES=')));
    assert.deepEqual(visible.sort(), ['CUDA_VISIBLE_DEVICES=0', 'CUDA_VISIBLE_DEVICES=1']);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await waitUntil(() => children.every((p) => !processAlive(p)), 'worker processes to exit', 10_000);
  });

  it('fails, saying why, where no GPU is visible', () => {
    const r = spawnSync(process.execPath, [bin, 'local', '--gpus', '--port', '0', '--dashboard-port', '0'],
      { env: { ...process.env, CUDA_VISIBLE_DEVICES: '' }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kubedask local: --gpus: no GPU is visible \(CUDA_VISIBLE_DEVICES hides them all, or `nvidia-smi -L` lists none or is not installed\)/);
  });
});
