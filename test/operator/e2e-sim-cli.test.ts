// End to end on `kubedask sim` as the README starts it (its own process, its own flags): the
// README's GPU example reaches Ready with its GPU worker on a GPU node and computes for a Client
// reaching it through `kubectl port-forward svc/<cluster>-scheduler`, and a DaskCluster whose
// image the sim cannot run ends in ImagePullBackOff, named by its Degraded condition.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeTools, runTool } from '../helpers/kube-tools.js';
import { waitUntil } from '../helpers/wait.js';
import { repoRoot } from './kube-env.js';
import { names, PORTS, type DaskCluster } from '../../operator/api/types.js';
import { Client } from '../../index.js';
import { kubectlPortForward } from '../helpers/port-forward.js';

const cli = join(repoRoot, 'bin', 'kubedask.js');
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The README's `npx kubedask sim ...` line, its arguments after `sim`. */
function readmeSimArgs(): string[] {
  const line = /^npx kubedask sim (--nodes .*)$/m.exec(readme)?.[1];
  assert.ok(line, 'the README shows how to start kubedask sim');
  return line.split(/\s+/);
}

/** The kubectl lines of the README's block that applies examples/gpu-cluster.yaml. */
function readmeGpuCommands(): string[][] {
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('examples/gpu-cluster.yaml'));
  assert.ok(block, 'the README has a GPU example');
  return block.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.startsWith('kubectl ')).map((l) => l.split(/\s+/).slice(1));
}

interface PodJson { metadata: { name: string }; spec: { nodeName?: string }; status?: { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } }

describe('operator end to end on `kubedask sim`', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-sim-cli-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const { kubectl: kubectlBin } = kubeTools();
  let sim: ChildProcess;
  let operator: ChildProcess;
  let operatorLog = '';

  const kubectl = async (...args: string[]): Promise<string> => {
    const r = await runTool(kubectlBin, args, { env: { KUBECONFIG: kubeconfig, HOME: dir } });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await kubectl(...args, '-o', 'json')) as T;
  const condition = (c: DaskCluster | undefined, type: string) => c?.status?.conditions?.find((x) => x.type === type);
  const explain = async (what: string, fn: () => Promise<unknown>, timeoutMs: number) => {
    try {
      await waitUntil(fn, what, timeoutMs);
    } catch (err) {
      const pods = await runTool(kubectlBin, ['get', 'pods', '-A', '-o', 'wide'], { env: { KUBECONFIG: kubeconfig, HOME: dir } });
      throw new Error(`${(err as Error).message}\n--- pods\n${pods.stdout}\n--- operator\n${operatorLog.split('\n').slice(-20).join('\n')}`, { cause: err });
    }
  };

  before(async () => {
    const args = readmeSimArgs().map((a, i, all) => (all[i - 1] === '--kubeconfig' ? kubeconfig : a));
    assert.ok(args.includes('--gpus-per-node'), `the README's sim command gives GPUs: ${args.join(' ')}`);
    sim = spawn(process.execPath, [cli, 'sim', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sim.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    sim.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    await waitUntil(() => {
      if (sim.exitCode !== null) throw new assert.AssertionError({ message: `kubedask sim exited: ${out}` });
      return /press Ctrl-C/.test(out);
    }, 'kubedask sim to start', 60_000);
    for (const f of readdirSync(join(repoRoot, 'crds')).filter((n) => n.endsWith('.yaml'))) await kubectl('apply', '--server-side', '-f', join(repoRoot, 'crds', f));
    await kubectl('wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s');
    // As the README runs it: a plain process on the host, no DNS shim (it port-forwards to schedulers).
    const { NODE_OPTIONS: _options, KUBE_SIM_SERVER: _server, ...plain } = process.env;
    operator = spawn(process.execPath, [cli, 'operator', '--health-port', '0', '--metrics-port', '0', '--host', '127.0.0.1'], {
      env: { ...plain, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator.stdout!.on('data', (b: Buffer) => (operatorLog += b.toString()));
    operator.stderr!.on('data', (b: Buffer) => (operatorLog += b.toString()));
  });

  after(async () => {
    operator?.kill('SIGKILL');
    if (sim && sim.exitCode === null) {
      // SIGTERM: the sim stops its pods' processes before it exits.
      const exited = new Promise((r) => sim.once('exit', r));
      sim.kill('SIGTERM');
      await exited;
    }
  });

  it('the README\'s GPU example reaches Ready, its GPU worker on a node labelled nvidia.com/gpu.present', async () => {
    const commands = readmeGpuCommands();
    for (const args of commands) {
      // Relative paths in the README are relative to the checkout.
      const out = await kubectl(...args.map((a) => (a.startsWith('examples/') ? join(repoRoot, a) : a)));
      if (args[0] === 'describe') assert.match(out, /Autoscaling/);
    }
    const applied = commands.find((a) => a.includes('examples/gpu-cluster.yaml'))!;
    const ns = applied[applied.indexOf('-n') + 1]!;
    const cluster = () => json<DaskCluster>('get', 'dc', 'gpu-demo', '-n', ns);
    await explain('gpu-demo Ready with its GPU worker connected', async () => {
      const c = await cluster();
      return condition(c, 'Ready')?.status === 'True' && c.status?.groups?.find((g) => g.name === 'gpu')?.ready === 1;
    }, 240_000);
    const c = await cluster();
    assert.equal(condition(c, 'Degraded')?.status, 'False', condition(c, 'Degraded')?.message);
    const [gpuWorker] = (await json<{ items: PodJson[] }>('get', 'pods', '-n', ns, '-l', 'kubedask.io/cluster=gpu-demo,kubedask.io/worker-group=gpu')).items;
    assert.ok(gpuWorker?.spec.nodeName, 'the GPU worker is bound');
    const node = await json<{ metadata: { labels: Record<string, string> }; status: { allocatable: Record<string, string> } }>('get', 'node', gpuWorker.spec.nodeName);
    assert.equal(node.metadata.labels['nvidia.com/gpu.present'], 'true');
    assert.equal(node.status.allocatable['nvidia.com/gpu'], '1');
    // From the host as the issue shows it: kubectl port-forward svc/<cluster>-scheduler, a Client through it.
    const pf = await kubectlPortForward(kubeconfig, ['-n', ns, `svc/${names.scheduler('gpu-demo')}`, `:${PORTS.grpc}`]);
    try {
      const client = await Client.connect(`127.0.0.1:${pf.port}`);
      try {
        assert.equal(await client.submit((x: number) => x * 2, 21).result(), 42);
      } finally {
        await client.close();
      }
    } finally {
      await pf.stop();
    }
    await kubectl('delete', 'dc', 'gpu-demo', '-n', ns, '--wait=true', '--timeout=60s');
  });

  it('an image the sim cannot run ends in ImagePullBackOff, and the DaskCluster\'s Degraded condition names it', async () => {
    const image = 'ghcr.io/daskdev/dask:2024.1.0';
    await runTool(kubectlBin, ['apply', '-f', '-'], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input: `apiVersion: kubedask.io/v1alpha1
kind: DaskCluster
metadata: {name: foreign}
spec:
  image: ${image}
  workerGroups: [{name: default, replicas: 1, resources: {requests: {cpu: 100m, memory: 128Mi}}}]
` }).then((r) => assert.equal(r.status, 0, r.stderr));
    const scheduler = async () => (await json<{ items: PodJson[] }>('get', 'pods', '-l', 'kubedask.io/cluster=foreign,kubedask.io/component=scheduler')).items[0];
    await explain('the scheduler pod in ImagePullBackOff', async () => (await scheduler())?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 60_000);
    const pod = (await scheduler())!;
    let degraded: ReturnType<typeof condition>;
    await explain('a Degraded condition about the image', async () => {
      degraded = condition(await json<DaskCluster>('get', 'dc', 'foreign'), 'Degraded');
      return degraded?.status === 'True' && /ImagePullBackOff|ErrImagePull/.test(degraded.reason ?? '');
    }, 90_000);
    assert.match(degraded!.message ?? '', new RegExp(`pod ${pod.metadata.name}: container scheduler cannot pull image "${image.replace(/[.]/g, '\\.')}"`));
    const c = await json<DaskCluster>('get', 'dc', 'foreign');
    assert.equal(c.status?.phase, 'Failed');
    assert.equal(condition(c, 'Ready')?.status, 'False');
    const events = await kubectl('get', 'events', '--field-selector', `involvedObject.name=${pod.metadata.name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    assert.match(events, new RegExp(`Failed: Failed to pull image "${image.replace(/[.]/g, '\\.')}"`));
    assert.match(events, /BackOff: Back-off pulling image/);
    await kubectl('delete', 'dc', 'foreign', '--wait=true', '--timeout=60s');
  });
});
