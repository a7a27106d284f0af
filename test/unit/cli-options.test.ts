// The command line as parsed in process: value checks, every option's help line, and the
// command lines that the operator's pod builders and the helm chart give kubedask.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError, type Command } from 'commander';
import { UsageError } from '../../cli/errors.js';
import { parseHostPort, parseResources, parseSize, parsePort } from '../../cli/options.js';
import { allCommands, commandPath, createProgram } from '../../cli/program.js';
import { parsePositiveQuantity } from '../../cli/quantity-flags.js';
import { tlsFromFlags } from '../../cli/tls-files.js';
import { parse, testProgram } from '../helpers/cli-program.js';
import { API_VERSION, type DaskCluster, type DaskClusterSpec } from '../../operator/api/types.js';
import { buildSchedulerDeployment, buildWorkerGroup, buildWorkerPod, withClusterDefaults } from '../../operator/builders/index.js';

/** The message of bad usage: a validator's UsageError, or what commander wrote. */
async function usageError(argv: string[]): Promise<string> {
  const { program, parsed, output } = testProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    if (err instanceof CommanderError && err.exitCode !== 0) return output();
    throw err;
  }
  return assert.fail(`${argv.join(' ')} was accepted: ${JSON.stringify(parsed)}`);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('cli option values', () => {
  it('parses sizes in SI and binary units', () => {
    assert.equal(parseSize('4GiB', '--m'), 4 * 2 ** 30);
    assert.equal(parseSize('512MB', '--m'), 512e6);
    assert.equal(parseSize('1.5 gib', '--m'), 1.5 * 2 ** 30);
    assert.equal(parseSize('0', '--m'), 0);
    assert.throws(() => parseSize('lots', '--memory-limit'), (e: unknown) => e instanceof UsageError && /--memory-limit/.test(e.message));
    assert.throws(() => parseSize('4XB', '--m'), UsageError);
  });

  it('parses resources', () => {
    assert.deepEqual(parseResources('GPU=1, MEM=2.5', '--resources'), { GPU: 1, MEM: 2.5 });
    assert.deepEqual(parseResources('', '--resources'), {});
    assert.throws(() => parseResources('GPU', '--resources'), /GPU=1/);
    assert.throws(() => parseResources('GPU=-1', '--resources'), UsageError);
  });

  it('checks ports and addresses', () => {
    assert.equal(parsePort('0', '--port'), 0);
    assert.throws(() => parsePort('70000', '--port'), /0-65535/);
    assert.throws(() => parsePort('', '--port'), /0-65535/);
    assert.equal(parseHostPort('grpc://sched:8786', '--scheduler'), 'sched:8786');
    assert.throws(() => parseHostPort('sched', '--scheduler'), /host:port/);
  });

  it('checks the sim\'s node capacities as Kubernetes quantities', () => {
    assert.equal(parsePositiveQuantity('500m', '--cpu-per-node'), '500m');
    assert.equal(parsePositiveQuantity('16Gi', '--memory-per-node'), '16Gi');
    assert.throws(() => parsePositiveQuantity('four', '--cpu-per-node'), (e: unknown) => e instanceof UsageError && /--cpu-per-node must be a Kubernetes quantity such as 4, 500m or 16Gi/.test(e.message));
    assert.throws(() => parsePositiveQuantity('0', '--memory-per-node'), /--memory-per-node must be above zero, got "0"/);
  });

  it('takes the three TLS files together or not at all', () => {
    assert.equal(tlsFromFlags({}), undefined);
    assert.throws(() => tlsFromFlags({ tlsCa: Buffer.from('x') }), /--tls-ca, --tls-cert and --tls-key go together/);
    const notPem = Buffer.from('not a certificate');
    assert.throws(() => tlsFromFlags({ tlsCa: notPem, tlsCert: notPem, tlsKey: notPem }), (e: unknown) => e instanceof UsageError && /TLS ca is not a PEM certificate/.test(e.message));
  });
});

describe('cli commands', () => {
  it('give every option a description, and its help a line with the flags, description and default', () => {
    const commands = allCommands(createProgram());
    assert.ok(commands.length >= 12, 'kubedask, its 7 commands and the bench subcommands');
    for (const command of commands) {
      const help = command.helpInformation();
      assert.ok(command.description(), `${commandPath(command)} has a description`);
      for (const option of command.options) {
        const name = `${commandPath(command)} ${option.flags}`;
        assert.ok(option.description.trim(), `${name} has a description`);
        const line = new RegExp(`^ +${escape(option.flags)} +${escape(option.description)}.*$`, 'm').exec(help)?.[0];
        assert.ok(line, `${name} has a help line of its own:\n${help}`);
        if (option.defaultValue !== undefined) assert.match(line, /default: /, `${name} shows its default`);
      }
    }
  });

  it('take the log level from --log-level, else $KUBEDASK_LOG_LEVEL, the same levels for every process', async () => {
    const saved = { ours: process.env.KUBEDASK_LOG_LEVEL, other: process.env.LOG_LEVEL };
    try {
      process.env.LOG_LEVEL = 'warning'; // another tool's variable: never read
      process.env.KUBEDASK_LOG_LEVEL = 'DEBUG';
      for (const argv of [['worker', '--scheduler', 'h:1'], ['scheduler'], ['operator']]) {
        assert.equal((await parse(argv)).logLevel, 'debug', argv[0]);
        assert.equal((await parse([...argv, '--log-level', 'trace'])).logLevel, 'trace', `${argv[0]}: the flag beats the environment`);
      }
      process.env.KUBEDASK_LOG_LEVEL = '';
      assert.equal((await parse(['scheduler'])).logLevel, 'info', 'an empty variable counts as unset');
      process.env.KUBEDASK_LOG_LEVEL = 'loud';
      assert.match(await usageError(['scheduler']), /--log-level \(or \$KUBEDASK_LOG_LEVEL\): log level must be one of silent, fatal, error, warn, info, debug, trace, got "loud"/);
    } finally {
      for (const [name, value] of [['KUBEDASK_LOG_LEVEL', saved.ours], ['LOG_LEVEL', saved.other]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('give the defaults the commands had', async () => {
    assert.deepEqual(await parse(['worker', '--scheduler', 'grpc://sched:8786']), {
      scheduler: 'sched:8786', nthreads: availableParallelism(), memoryLimit: 0, resources: {}, name: (await parse(['worker', '--scheduler', 'h:1'])).name,
      group: '', host: '127.0.0.1', port: 0, metricsPort: -1, connectTimeout: 30, logLevel: 'info', logLines: 10_000,
    });
    assert.deepEqual(await parse(['scheduler']), { host: '0.0.0.0', port: 8786, dashboardPort: 8787, dashboard: true, metricsPort: -1, heartbeatTimeout: 30, logLevel: 'info' });
    assert.deepEqual(await parse(['local']), { workers: 2, threads: 1, memoryLimit: 0, port: 8786, dashboardPort: 8787 });
    assert.deepEqual(await parse(['sim']), { port: 6443, kubeconfig: 'kube-sim.kubeconfig', nodes: 1, gpusPerNode: 0, cpuPerNode: '4', memoryPerNode: '16Gi', image: {} });
    assert.deepEqual((await parse(['sim', '--image', 'node=node', '--image', 'python:3.12=python3 -u'])).image, { node: ['node'], 'python:3.12': ['python3', '-u'] });
    const operator = await parse(['operator']);
    assert.deepEqual(operator, { namespace: [], leaderElectionId: 'kubedask-operator', host: '0.0.0.0', healthPort: 8081, metricsPort: 8080, qps: 20, burst: 40, resync: 300, workers: 4, logLevel: 'info' });
    assert.deepEqual(await parse(['bench', 'autoscale', '--no-peer']), { tasks: 600, taskMs: 200, repeat: 3, bursts: 5, burstTasks: 150, gapS: 4, maxWorkers: 6, peer: false });
    assert.deepEqual(await parse(['bench', 'scheduler', '--json']), { json: true, tasks: 5000, chain: 1000, repeat: 3, peer: true });
    const demo = await parse(['demo', '--rows', '1000']);
    assert.equal(demo.rows, 1000);
    assert.match(demo.data as string, /flights-3m\.parquet$/);
  });

  it('name the flag and keep the validators\' messages on bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [['local', '--memory-limit', 'lots'], /--memory-limit must be a size such as 4GiB, 512MB or 0, got "lots"/],
      [['local', '--workers', '0'], /--workers must be an integer >= 1, got "0"/],
      [['worker', '--scheduler', 'h:1', '--log-lines', '5000000000'], /--log-lines must be an integer from 0 to 1000000, got "5000000000"/],
      [['local', '--bogus'], /unknown option '--bogus'/],
      [['local', 'extra'], /too many arguments for 'local'/],
      [['scheduler', '--port', '70000'], /--port must be a port number 0-65535, got "70000"/],
      [['scheduler', '--heartbeat-timeout', '0'], /--heartbeat-timeout must be a positive number of seconds, got "0"/],
      [['scheduler', '--log-level', 'loud'], /--log-level \(or \$KUBEDASK_LOG_LEVEL\): log level must be one of silent, fatal, error, warn, info, debug, trace, got "loud"/],
      [['worker'], /required option '--scheduler <HOST:PORT>' not specified/],
      [['worker', '--scheduler', 'nohost'], /--scheduler must be host:port, got "nohost"/],
      [['worker', '--scheduler', 'h:1', '--resources', 'GPU'], /--resources must look like GPU=1,MEMORY=2, got "GPU"/],
      [['worker', '--scheduler', 'h:1', '--tls-ca', '/no/such/ca.pem'], /--tls-ca \/no\/such\/ca.pem: no such file/],
      [['worker', '--scheduler', 'h:1', '--port'], /option '--port <P>' argument missing/],
      [['operator', '--namespace', 'ok,Bad_'], /--namespace "Bad_" is not a valid namespace name/],
      [['operator', '--resync', 'soon'], /--resync must be a positive number of seconds, got "soon"/],
      [['worker', '--scheduler', 'h:1', '--log-level', 'verbose'], /log level must be one of silent, fatal, error, warn, info, debug, trace, got "verbose"/],
      [['sim', '--nodes', 'many'], /--nodes must be an integer >= 0, got "many"/],
      [['sim', '--image', 'python3'], /--image must be NAME=COMMAND .*got "python3"/],
      [['demo', '--rows', '1.5'], /--rows must be an integer >= 1, got "1.5"/],
      [['demo', '--scheduler', 'nohost'], /--scheduler must be host:port/],
      [['bench', 'autoscale', '--gap-s', 'x'], /--gap-s must be an integer >= 1, got "x"/],
      [['bench', 'sim', '--objects', '-3'], /--objects must be an integer >= 1, got "-3"/],
      [['bench', 'nope'], /unknown command 'nope'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [argv, message] of cases) assert.match(await usageError(argv), message, argv.join(' '));
  });

  it('read the TLS files when parsing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const options = await parse(['scheduler', '--tls-ca', join(dir, 'ca.pem'), '--tls-cert', join(dir, 'ca.pem'), '--tls-key', join(dir, 'ca.pem')]);
    assert.deepEqual(options.tlsCa, Buffer.from('CA'));
  });

  it('parse the command lines the operator builds for scheduler and worker pods', async () => {
    const spec: DaskClusterSpec = { workerGroups: [{ name: 'gpu', threads: 4, gpus: 1, resources: { limits: { memory: '4Gi' } } }] };
    const c: DaskCluster = { apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name: 'demo', namespace: 'ns1', uid: 'u' }, spec };
    const built = buildWorkerGroup(c, withClusterDefaults(spec).workerGroups[0]!);
    const group = { ...built, metadata: { ...built.metadata, uid: 'g' } };
    const worker = buildWorkerPod(group, c, 'demo-gpu-abcde').spec!.containers.find((x) => x.name === 'worker')!;
    assert.deepEqual(worker.command, ['kubedask']);
    const w = await parse(worker.args!);
    assert.deepEqual([w.scheduler, w.nthreads, w.memoryLimit, w.name, w.group, w.host, w.advertiseHost, w.port, w.metricsPort, w.resources],
      ['demo-scheduler.ns1.svc:8786', 4, 4 * 2 ** 30, '$(POD_NAME)', 'gpu', '0.0.0.0', '$(POD_IP)', 8789, 8790, { GPU: 1 }]);
    const scheduler = buildSchedulerDeployment(c).spec!.template.spec!.containers.find((x) => x.name === 'scheduler')!;
    const s = await parse(scheduler.args!);
    assert.deepEqual([s.port, s.dashboardPort, s.dashboard, s.metricsPort], [8786, 8787, true, 8788]);
    // A user's --no-dashboard in the scheduler's args wins over the operator's --dashboard-port.
    assert.equal((await parse(['scheduler', '--dashboard-port', '8787', '--no-dashboard'])).dashboard, false);
  });

  it('have every flag that the README\'s command-line synopsis shows', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const block = /## Command line\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'README has a Command line block');
    const program = createProgram();
    let command: Command | undefined;
    let checked = 0;
    for (const line of block.split('\n')) {
      const name = /^npx kubedask (\w+)/.exec(line)?.[1];
      if (name) command = program.commands.find((c) => c.name() === name);
      assert.ok(command, `README line names a command: ${line}`);
      // bench's flags belong to its subcommands.
      const longs = new Set(allCommands(command).flatMap((c) => c.options.map((o) => o.long)));
      for (const [flag] of line.matchAll(/--[a-z][a-z-]*/g)) {
        assert.ok(longs.has(flag) || flag === '--tls-', `${flag} of kubedask ${command.name()} in the README exists`);
        checked++;
      }
    }
    assert.ok(checked > 40, `${checked} flags checked`);
  });
});
