// The `kubedask` command as a user runs it: exit codes, clean shutdown, no orphans.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import pl from 'nodejs-polars';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeTools } from '../helpers/kube-tools.js';
import { fileURLToPath } from 'node:url';
import { Client } from '../../index.js';
import { allCommands, commandPath, createProgram } from '../../cli/program.js';
import { processAlive, waitUntil } from '../helpers/wait.js';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));
const recordModules = fileURLToPath(new URL('../../../test/fixtures/record-modules.mjs', import.meta.url));

/** Node arguments and environment that make a process write every module it loads to a new file. */
function recordingModules(): { node: string[]; env: NodeJS.ProcessEnv; loaded(): string[] } {
  const log = join(mkdtempSync(join(tmpdir(), 'cli-modules-')), 'loaded.txt');
  return {
    node: ['--import', recordModules],
    env: { ...process.env, KUBEDASK_MODULES_LOG: log },
    loaded: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}

/** What a worker or scheduler process must not load: it needs none of it, and each costs start-up time and memory. */
const notForWorkersOrSchedulers = [
  '/node_modules/@kubernetes/client-node/', '/node_modules/@marcbachmann/cel-js/', '/node_modules/yaml/', '/node_modules/kubernetes-models/',
  '/dist/sim/', '/dist/bench/', '/dist/operator/',
  // Loaded by a worker's first ONNX task only (ml/onnx/kernels.ts).
  '/node_modules/onnxruntime-node/', '/dist/ml/onnx/kernels.js',
];

function assertNoneLoaded(loaded: string[], what: string): void {
  for (const pattern of notForWorkersOrSchedulers) {
    assert.deepEqual(loaded.filter((url) => url.includes(pattern)), [], `${what} loaded ${pattern}`);
  }
}

/** `kubedask ...` run to its end, concurrently with others. */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ status: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** Every command and subcommand, as the words after `kubedask`. */
const commandWords = allCommands(createProgram()).map((c) => ({ command: c, words: commandPath(c).split(' ').slice(1) }));

describe('kubedask CLI', () => {
  it('`--help` of every command exits 0 and gives each option a line of its own', async () => {
    const helps = await Promise.all(commandWords.map(({ words }) => run([...words, '--help'])));
    commandWords.forEach(({ command, words }, i) => {
      const { status, stdout } = helps[i]!;
      const name = ['kubedask', ...words].join(' ');
      assert.equal(status, 0, name);
      assert.match(stdout, new RegExp(`^Usage: ${name} `), name);
      for (const option of command.options) assert.match(stdout, new RegExp(`^ +${option.flags.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\S`, 'm'), `${name} ${option.flags}`);
      for (const sub of command.commands) assert.match(stdout, new RegExp(`^ +${sub.name()} `, 'm'), `${name} lists ${sub.name()}`);
    });
    assert.ok(commandWords.find(({ words }) => words.join(' ') === 'worker')!.command.options.length > 10, 'the worker\'s options were checked');
  });

  it('`--version` prints the package\'s version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await run([flag]);
      assert.deepEqual([r.status, r.stdout.trim()], [0, version], flag);
    }
  });

  it('exits 2 on bad usage, naming the command and the flag', async () => {
    const leaves = commandWords.filter(({ command }) => command.commands.length === 0);
    const results = await Promise.all(leaves.map(({ words }) => run([...words, '--no-such-flag'])));
    leaves.forEach(({ words }, i) => {
      assert.equal(results[i]!.status, 2, words.join(' '));
      assert.match(results[i]!.stderr, new RegExp(`^kubedask ${words.join(' ')}: unknown option '--no-such-flag'`), words.join(' '));
    });
    const [unknown, noCommand, noScheduler, badSize] = await Promise.all([run(['frobnicate']), run([]), run(['worker']), run(['local', '--memory-limit', 'lots'])]);
    assert.deepEqual([unknown.status, noCommand.status, noScheduler.status, badSize.status], [2, 2, 2, 2]);
    assert.match(unknown.stderr, /^kubedask: unknown command 'frobnicate'/);
    assert.match(noCommand.stderr, /^Usage: kubedask /);
    assert.match(noScheduler.stderr, /^kubedask worker: required option '--scheduler <HOST:PORT>' not specified/);
    assert.match(badSize.stderr, /^kubedask local: --memory-limit must be a size such as 4GiB, 512MB or 0, got "lots"\n\(kubedask local --help lists the options\)/);
  });

  it('`demo` runs the main job on the flights (statistics, fit, grid, Hyperband, ONNX, scores as Parquet) and exits 0', () => {
    const output = mkdtempSync(join(tmpdir(), 'kubedask-demo-'));
    after(() => rmSync(output, { recursive: true, force: true }));
    const r = spawnSync(process.execPath, [bin, 'demo', '--rows', '300000', '--partitions', '4', '--top', '5', '--output', output], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /LocalCluster up: 2 workers, scheduler \S+, dashboard http:\/\/\S+/);
    assert.match(r.stdout, /4 partitions of .*flights-3m\.parquet \(300000 rows\)/);
    assert.match(r.stdout, /read and cleaned on the workers in \d+\.\d+s: 300000 flights with a delay/);
    assert.match(r.stdout, /fitted StandardScaler \+ LogisticRegression on the workers in \d+\.\d+s \(\d+ lbfgs iterations\): test accuracy 0\.\d{4}, AUC 0\.\d{4}/);
    assert.match(r.stdout, /GridSearchCV over C in 0\.001, 0\.01, 0\.1, 1, 10, 100 x 3 folds \(18 fits \+ refit\) in \d+\.\d+s: best C \S+, cross-validated AUC 0\.\d{4}/);
    assert.match(r.stdout, /HyperbandSearchCV over SGDClassifier \(maxIter 27\) in \d+\.\d+s: 49 models in 4 brackets, 357 partialFit calls \(training all to 27: 1323\)/);
    assert.match(r.stdout, /scored 300000 flights with predictOnnx and wrote them/);
    assert.match(r.stdout, /done; dashboard http:\/\/\S+/);
    // What it wrote: the model, and every flight with its score.
    assert.ok(readFileSync(join(output, 'model.onnx')).byteLength > 100);
    const parts = readdirSync(join(output, 'predictions')).filter((f) => f.endsWith('.parquet')).sort();
    const predictions = pl.concat(parts.map((f) => pl.readParquet(join(output, 'predictions', f))));
    assert.equal(predictions.height, 300000);
    assert.deepEqual(predictions.columns, ['date', 'origin', 'distance', 'delay', 'late', 'p_late']);
    const p = predictions.getColumn('p_late');
    assert.ok((p.min() as number) > 0 && (p.max() as number) < 1);
    assert.match(r.stdout, /top 5 origins by mean delay/);
    assert.match(r.stdout, /late flights by distance band \(\d+\.\d+s\): short \(< 500 mi\) \d+\.\d% of \d+/);
    const rows = r.stdout.split('\n').filter((line) => /^[A-Z]{3}\s+\d+\s+-?\d+\.\d/.test(line));
    assert.equal(rows.length, 5, r.stdout);
    const means = rows.map((line) => Number(line.trim().split(/\s+/)[2]));
    assert.deepEqual(means, [...means].sort((a, b) => b - a), 'sorted by mean delay, worst first');
  });

  it('exits 1 when the scheduler cannot be reached', () => {
    const r = spawnSync(process.execPath, [bin, 'worker', '--scheduler', '127.0.0.1:1', '--connect-timeout', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /kubedask worker: /);
  });

  it('`scheduler` and `worker` processes form a cluster, stop cleanly on SIGTERM, and load no Kubernetes client, emulator, CEL, YAML, operator or benchmarks', async (t) => {
    const schedulerModules = recordingModules();
    const workerModules = recordingModules();
    const scheduler = spawn(process.execPath, [...schedulerModules.node, bin, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--dashboard-port', '0', '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: schedulerModules.env });
    let out = '';
    scheduler.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const schedulerExit = new Promise<number | null>((r) => scheduler.on('exit', (code) => r(code)));
    t.after(() => { scheduler.kill('SIGKILL'); });
    await waitUntil(() => /dashboard at http/.test(out), 'the scheduler to start');
    const address = /grpc:\/\/(\S+)/.exec(out)![1]!;
    const worker = spawn(process.execPath, [...workerModules.node, bin, 'worker', '--scheduler', address, '--nthreads', '2', '--name', 'cli-w', '--resources', 'GPU=1'],
      { stdio: 'ignore', env: workerModules.env });
    const workerExit = new Promise<number | null>((r) => worker.on('exit', (code) => r(code)));
    t.after(() => { worker.kill('SIGKILL'); scheduler.kill('SIGKILL'); });
    const client = await Client.connect(`grpc://${address}`);
    await waitUntil(async () => (await client.clusterInfo()).workers.length === 1, 'the worker to register');
    const [info] = (await client.clusterInfo()).workers;
    assert.equal(info!.name, 'cli-w');
    assert.equal(info!.nthreads, 2);
    assert.deepEqual(info!.resources, { GPU: 1 });
    assert.equal(await client.submitWith({ resources: { GPU: 1 } }, () => 'on the gpu worker').result(), 'on the gpu worker');
    await client.close();
    worker.kill('SIGTERM');
    assert.equal(await workerExit, 0);
    scheduler.kill('SIGTERM');
    assert.equal(await schedulerExit, 0);

    const [schedulerLoaded, workerLoaded] = [schedulerModules.loaded(), workerModules.loaded()];
    // The record is complete: ES modules (the runtimes) and CommonJS ones (gRPC's internals).
    assert.ok(schedulerLoaded.some((url) => url.endsWith('/dist/scheduler/server/scheduler-server.js')), 'the scheduler runtime is recorded');
    assert.ok(workerLoaded.some((url) => url.endsWith('/dist/worker/runtime/worker.js')), 'the worker runtime is recorded');
    for (const loaded of [schedulerLoaded, workerLoaded]) assert.ok(loaded.some((url) => url.includes('/@grpc/grpc-js/build/src/server.js')), 'CommonJS modules are recorded');
    assertNoneLoaded(schedulerLoaded, 'the scheduler');
    assertNoneLoaded(workerLoaded, 'the worker');
  });

  it('`sim` starts an API server and kubelet that kubectl uses through the written kubeconfig', async (t) => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'sim-cli-')), 'config');
    const modules = recordingModules();
    const sim = spawn(process.execPath, [...modules.node, bin, 'sim', '--port', '0', '--kubeconfig', kubeconfig, '--nodes', '2', '--gpus-per-node', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: modules.env });
    let out = '';
    sim.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => sim.on('exit', (code) => r(code)));
    t.after(() => { sim.kill('SIGKILL'); });
    await waitUntil(() => /press Ctrl-C/.test(out), 'the emulator to start');
    const nodes = await new Promise<string>((resolve, reject) => {
      execFile(kubeTools().kubectl, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.capacity.nvidia\\.com/gpu}{"\\n"}{end}'],
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir() } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
    });
    assert.deepEqual(nodes.trim().split('\n').sort(), ['sim-node-0=1', 'sim-node-1=1']);
    sim.kill('SIGTERM');
    assert.equal(await exited, 0);
    // The emulator does load what workers must not: the patterns above match real module URLs.
    const loaded = modules.loaded();
    for (const pattern of ['/dist/sim/', '/node_modules/@marcbachmann/cel-js/', '/node_modules/yaml/', '/node_modules/kubernetes-models/']) {
      assert.ok(loaded.some((url) => url.includes(pattern)), `kubedask sim loaded ${pattern}`);
    }
  });

  it('`local` serves clients and stops cleanly on SIGTERM, leaving no worker processes', async (t) => {
    const child = spawn(process.execPath, [bin, 'local', '--workers', '2', '--port', '0', '--dashboard-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    t.after(() => { child.kill('SIGKILL'); });
    await waitUntil(() => /press Ctrl-C/.test(out), 'the cluster to start');
    const address = /grpc:\/\/(\S+)/.exec(out)![1]!;
    const client = await Client.connect(address);
    const info = await client.clusterInfo();
    assert.equal(info.workers.length, 2);
    assert.equal(await client.submit((x: number) => x * 2, 21).result(), 42);
    await client.close();
    const pids = (await workerPids(child.pid!));
    assert.equal(pids.length, 2, `two worker processes, got ${pids.join(',')}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await waitUntil(() => pids.every((p) => !processAlive(p)), 'worker processes to exit', 10_000);
  });
});

/** Child processes of pid, from /proc. */
async function workerPids(pid: number): Promise<number[]> {
  const { readFile } = await import('node:fs/promises');
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return children.trim().split(/\s+/).filter(Boolean).map(Number);
}
