// H: what a person types at the real kubectl against the emulator and its process kubelet:
// logs (plain, --tail, -f until the container exits, --previous after a restart, -l), exec
// (stdout, stderr, stdin, exit code) and get with the real server's columns, -w included.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { startKubelet, type RunningKubelet } from '../../sim/kubelet/kubelet.js';
import { kubeTools, runTool, type KubeTools, type RunResult } from '../helpers/kube-tools.js';
import { waitUntil } from '../helpers/wait.js';

const crds = fileURLToPath(new URL('../../../crds/', import.meta.url));

/** The header line of kubectl's table output, as its words. */
const header = (out: string): string[] => (out.split('\n')[0] ?? '').trim().split(/\s{2,}/);
const rowOf = (out: string, name: string): string[] | undefined =>
  out.split('\n').find((l) => l.startsWith(`${name} `))?.trim().split(/\s{2,}/);

describe('kubectl logs, exec and get against the emulator and its kubelet', { timeout: 180_000 }, () => {
  let api: RunningApiServer;
  let kubelet: RunningKubelet;
  let tools: KubeTools;
  let kubeconfig: string;
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-pods-test-'));

  before(async () => {
    tools = kubeTools();
    api = await startApiServer();
    kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    kubelet = await startKubelet({ server: api.url, kubeconfig, logDir: join(dir, 'logs'), images: { node: ['node'] },
      nodes: [{ name: 'node-1', cpu: '8', memory: '16Gi' }] });
  });
  after(async () => {
    await kubelet?.close();
    await api?.close();
  });

  const run = (args: string[], input?: string): Promise<RunResult> => runTool(tools.kubectl, args, { env: { KUBECONFIG: kubeconfig }, input });
  const kubectl = async (...args: string[]): Promise<string> => {
    const r = await run(args);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  /** A long-running kubectl (-f, -w) whose output the test reads as it comes. */
  const stream = (...args: string[]) => {
    const child = spawn(tools.kubectl, args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    return { child, exited, out: () => out, err: () => err };
  };
  const pod = (name: string, command: string[], o: { restartPolicy?: string; containers?: unknown[] } = {}) => run(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } },
    spec: { restartPolicy: o.restartPolicy ?? 'Never', containers: o.containers ?? [{ name, image: 'node:20', command }] },
  }));
  const jsonpath = (name: string, path: string) => kubectl('get', 'pod', name, '-o', `jsonpath=${path}`);
  const running = (name: string) => waitUntil(async () => (await jsonpath(name, '{.status.containerStatuses[*].state.running.startedAt}')).length > 0, `${name} to run`);

  const release = join(dir, 'release');
  const talker = `for (let i = 1; i <= 5; i++) console.log('line ' + i); console.error('warn');
const t = setInterval(() => { if (require('fs').existsSync(process.argv[1])) { clearInterval(t); console.log('after release'); } }, 20);`;

  it('logs prints the container output; --tail the last lines; --previous without a restart is the server\'s 400', async () => {
    assert.equal((await pod('talker', ['node', '-e', talker, release])).status, 0);
    const all = await waitUntil(async () => { const out = await kubectl('logs', 'talker'); return /warn/.test(out) && out; }, 'talker\'s output');
    assert.equal(all, 'line 1\nline 2\nline 3\nline 4\nline 5\nwarn\n');
    assert.equal(await kubectl('logs', 'talker', '--tail', '2'), 'line 5\nwarn\n');
    assert.equal(await kubectl('logs', 'pod/talker', '--tail', '0'), '');
    assert.equal(await kubectl('logs', 'talker', '--limit-bytes', '9'), 'line 1\nli');
    const stamped = (await kubectl('logs', 'talker', '--timestamps')).split('\n').filter(Boolean);
    assert.equal(stamped.length, 6);
    for (const line of stamped) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (line \d|warn)$/);
    assert.equal(await kubectl('logs', 'talker', '--since', '1h'), all);
    assert.equal(await kubectl('logs', 'talker', '--since-time', new Date(Date.now() + 3_600_000).toISOString()), '');
    const previous = await run(['logs', 'talker', '--previous']);
    assert.equal(previous.status, 1);
    assert.match(previous.stderr, /Error from server \(BadRequest\): previous terminated container "talker" in pod "talker" not found/);
  });

  it('logs -f follows the output until the container exits', async () => {
    const follow = stream('logs', '-f', 'talker');
    await waitUntil(() => /line 5\nwarn\n/.test(follow.out()), 'the output so far');
    assert.equal(follow.child.exitCode, null, 'still following while the container runs');
    writeFileSync(release, '');
    assert.equal(await follow.exited, 0, follow.err());
    assert.equal(follow.out(), 'line 1\nline 2\nline 3\nline 4\nline 5\nwarn\nafter release\n');
  });

  it('logs --previous is the run before a restart; logs is the current run', async () => {
    const counter = join(dir, 'runs');
    const crasher = `const fs = require('fs'); const n = fs.existsSync(process.argv[1]) ? Number(fs.readFileSync(process.argv[1], 'utf8')) + 1 : 1;
fs.writeFileSync(process.argv[1], String(n)); console.log('run ' + n); if (n === 1) process.exit(1); setInterval(() => {}, 1000);`;
    assert.equal((await pod('crasher', ['node', '-e', crasher, counter], { restartPolicy: 'OnFailure' })).status, 0);
    await waitUntil(async () => (await jsonpath('crasher', '{.status.containerStatuses[0].restartCount}')) === '1', 'a restart');
    await running('crasher');
    await waitUntil(async () => (await kubectl('logs', 'crasher')) === 'run 2\n', 'the second run\'s output');
    assert.equal(await kubectl('logs', 'crasher', '--previous'), 'run 1\n');
    assert.equal(await kubectl('logs', 'crasher', '-p', '--tail', '1'), 'run 1\n');
  });

  it('logs names the container of a pod with several, -l selects pods, and errors read as the real server\'s', async () => {
    const say = (word: string) => ({ name: word, image: 'node:20', command: ['node', '-e', `console.log('${word}'); setInterval(() => {}, 1000)`] });
    assert.equal((await pod('duo', [], { containers: [say('first'), say('second')] })).status, 0);
    await waitUntil(async () => (await kubectl('logs', 'duo', '-c', 'second')) === 'second\n', 'the second container\'s output');
    const raw = await fetch(`${api.url}/api/v1/namespaces/default/pods/duo/log`);
    assert.equal(raw.status, 400);
    assert.equal(((await raw.json()) as { message: string }).message, 'a container name must be specified for pod duo, choose one of: [first second]');
    const wrong = await run(['logs', 'duo', '-c', 'third']);
    assert.match(wrong.stderr, /container third is not valid for pod duo/);
    const missing = await run(['logs', 'nope']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /pods "nope" not found/);
    assert.match(await kubectl('logs', '-l', 'app=crasher'), /^run 2\n$/);
    assert.equal((await run(['run', 'unpullable', '--image=example.com/nope:1', '--restart=Never'])).status, 0);
    await waitUntil(async () => /ImagePull/.test(await jsonpath('unpullable', '{.status.containerStatuses[0].state.waiting.reason}')), 'the pull to fail');
    const waiting = await run(['logs', 'unpullable']);
    assert.match(waiting.stderr, /container "unpullable" in pod "unpullable" is waiting to start: (image can't be pulled|trying and failing to pull image)/);
    const negative = await fetch(`${api.url}/api/v1/namespaces/default/pods/crasher/log?tailLines=-1`);
    assert.equal(negative.status, 422);
    assert.match(((await negative.json()) as { message: string }).message, /PodLogOptions "crasher" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0/);
  });

  it('exec runs a command with the pod\'s environment: stdout, stderr, stdin and its exit code', async () => {
    await running('crasher');
    const r = await run(['exec', 'crasher', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.equal(await kubectl('exec', 'crasher', '--', 'node', '-e', 'console.log(process.env.HOSTNAME, process.env.KUBE_SIM_NAMESPACE)'), 'crasher default\n');
    assert.equal((await run(['exec', '-i', 'crasher', '--', 'cat'], 'piped in\n')).stdout, 'piped in\n');
    assert.equal(await kubectl('exec', 'duo', '-c', 'second', '--', 'echo', '$HOME'), '$HOME\n', 'arguments reach the command as given');
    const missing = await run(['exec', 'nope', '--', 'true']);
    assert.match(missing.stderr, /pods "nope" not found/);
    const unknownCommand = await run(['exec', 'crasher', '--', 'no-such-command']);
    assert.notEqual(unknownCommand.status, 0);
    assert.match(unknownCommand.stderr, /executable file not found in \$PATH/);
  });

  it('get prints the real server\'s columns for pods, nodes, events and custom resources', async () => {
    const pods = await kubectl('get', 'pods');
    assert.deepEqual(header(pods), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const crasher = rowOf(pods, 'crasher');
    assert.equal(crasher?.[1], '1/1');
    assert.equal(crasher?.[2], 'Running');
    assert.match(crasher?.[3] ?? '', /^1 \(\d+s ago\)$/);
    assert.deepEqual(header(await kubectl('get', 'pods', '-o', 'wide')), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    assert.deepEqual(header(await kubectl('get', 'nodes')), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);

    await kubectl('create', '-f', join(crds, 'daskclusters.yaml'));
    await kubectl('wait', '--for=condition=Established', 'crd/daskclusters.kubedask.io', '--timeout=20s');
    assert.equal((await run(['apply', '-f', '-'], 'apiVersion: kubedask.io/v1alpha1\nkind: DaskCluster\nmetadata: {name: demo}\nspec: {}\n')).status, 0);
    await kubectl('patch', 'daskcluster', 'demo', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","workers":"2/2"}}');
    const clusters = await kubectl('get', 'dc');
    assert.deepEqual(header(clusters), ['NAME', 'PHASE', 'WORKERS', 'SCHEDULER', 'AGE']);
    assert.deepEqual(rowOf(clusters, 'demo')?.slice(0, 3), ['demo', 'Running', '2/2']);
    assert.ok(header(await kubectl('get', 'dc', '-o', 'wide')).includes('DASHBOARD'));

    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'crasher.1' }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container',
      involvedObject: { kind: 'Pod', name: 'crasher', namespace: 'default' }, count: 2, source: { component: 'kubelet' },
      firstTimestamp: new Date(Date.now() - 600_000).toISOString(), lastTimestamp: new Date(Date.now() - 60_000).toISOString() };
    assert.equal((await run(['apply', '-f', '-'], JSON.stringify(event))).status, 0);
    const events = await kubectl('get', 'events');
    assert.deepEqual(header(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    assert.match(events, /\n(60|61)s\s+Warning\s+BackOff\s+pod\/crasher\s+Back-off restarting failed container\n/);
    assert.deepEqual(header(await kubectl('get', 'events', '-o', 'wide')),
      ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
  });

  it('get -w prints one row per change under the same columns', async () => {
    const pods = stream('get', 'pods', '-w');
    const events = stream('get', 'events', '-w', '--watch-only');
    try {
      await waitUntil(() => /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/.test(pods.out()) && /\ncrasher\s/.test(pods.out()), 'the initial rows');
      assert.equal((await pod('watched', ['node', '-e', 'setInterval(() => {}, 1000)'])).status, 0);
      await waitUntil(() => /\nwatched\s+1\/1\s+Running\s+0\s+\d+s\n/.test(pods.out()), 'a Running row for the new pod');
      const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'watched.1' }, type: 'Normal', reason: 'Started', message: 'Started container',
        involvedObject: { kind: 'Pod', name: 'watched', namespace: 'default' }, lastTimestamp: new Date().toISOString() };
      assert.equal((await run(['apply', '-f', '-'], JSON.stringify(event))).status, 0);
      // Other pods' events (the kubelet's back-offs for an image it cannot pull) may come first.
      await waitUntil(() => /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n(?:.*\n)*?\d+s\s+Normal\s+Started\s+pod\/watched\s+Started container\n/.test(events.out()), `the event's row (got ${JSON.stringify(events.out())})`);
    } finally {
      pods.child.kill();
      events.child.kill();
    }
  });
});
