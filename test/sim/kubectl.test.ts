// The key flows through the real kubectl and helm binaries against the emulator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { kubeTools, runTool, type KubeTools } from '../helpers/kube-tools.js';
import { waitUntil } from '../helpers/wait.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

describe('kubectl and helm against the emulator', () => {
  let api: RunningApiServer;
  let tools: KubeTools;
  let kubeconfig: string;

  before(async () => {
    tools = kubeTools();
    api = await startApiServer();
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'kubectl-test-')), 'config');
    await api.writeKubeconfig(kubeconfig);
  });
  after(async () => api?.close());

  const run = (bin: string, args: string[], input?: string) => runTool(bin, args, { env: { KUBECONFIG: kubeconfig }, input });
  const kubectl = async (...args: string[]) => {
    const r = await run(tools.kubectl, args);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const widget = async () => parseYaml(await kubectl('get', 'widget', 'alpha', '-o', 'yaml')) as { metadata: { generation: number }; spec: Record<string, unknown> };

  it('apply -f a CRD, then objects of it; get -o yaml shows defaults', async () => {
    await kubectl('apply', '-f', join(fixtures, 'kube', 'widget-crd.yaml'));
    await kubectl('wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=20s');
    await kubectl('apply', '-f', join(fixtures, 'kube', 'widgets.yaml'));
    const w = (await widget());
    assert.deepEqual(w.spec, { color: 'red', tags: ['a'], replicas: 1, maxReplicas: 10 });
    assert.match(await kubectl('get', 'wd'), /alpha/);
    assert.match(await kubectl('get', 'configmap', 'settings', '-o', 'jsonpath={.data.mode}'), /^fast$/);
  });

  it('rejects an invalid object with a message naming the field', async () => {
    const badEnum = await run(tools.kubectl, ['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {color: purple}\n');
    assert.notEqual(badEnum.status, 0);
    assert.match(badEnum.stderr, /spec\.color: Unsupported value: "purple"/);
    const badRule = await run(tools.kubectl, ['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {replicas: 20}\n');
    assert.notEqual(badRule.status, 0);
    assert.match(badRule.stderr, /spec: Invalid value: "object": replicas must not exceed maxReplicas/);
  });

  it('scale goes through the scale subresource', async () => {
    await kubectl('scale', 'widget', 'alpha', '--replicas=3');
    assert.equal((await widget()).spec.replicas, 3);
  });

  it('patch --type merge, json and strategic', async () => {
    await kubectl('patch', 'widget', 'alpha', '--type', 'merge', '-p', '{"spec":{"color":"blue"}}');
    assert.equal((await widget()).spec.color, 'blue');
    await kubectl('patch', 'widget', 'alpha', '--type', 'json', '-p', '[{"op":"add","path":"/spec/tags/-","value":"b"}]');
    assert.deepEqual((await widget()).spec.tags, ['a', 'b']);
    const generation = (await widget()).metadata.generation;
    assert.ok(generation >= 3, `generation rose with each spec change (${generation})`);
    // kubectl's typed commands (create deployment) send protobuf, which the emulator does not
    // speak; apply sends JSON.
    await run(tools.kubectl, ['apply', '-f', '-'], 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: node, image: "node:20"}]}\n');
    await kubectl('patch', 'deployment', 'web', '--type', 'strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"node","env":[{"name":"MODE","value":"x"}]}]}}}}');
    const deploy = parseYaml(await kubectl('get', 'deployment', 'web', '-o', 'yaml')) as { spec: { template: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } } } };
    const [container] = deploy.spec.template.spec.containers;
    assert.equal(container?.image, 'node:20', 'strategic merge kept the container, matched by name');
    assert.deepEqual(container?.env, [{ name: 'MODE', value: 'x' }]);
    const crPatch = await run(tools.kubectl, ['patch', 'widget', 'alpha', '--type', 'strategic', '-p', '{"spec":{"color":"red"}}']);
    assert.notEqual(crPatch.status, 0, 'strategic merge patch is refused for custom resources');
    assert.match(crPatch.stderr, /415|not supported|UnsupportedMediaType/i);
  });

  it('apply --server-side records the field manager and reports conflicts', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {owner: first}\n';
    assert.equal((await run(tools.kubectl, ['apply', '--server-side', '--field-manager', 'first', '-f', '-'], manifest)).status, 0);
    const cm = parseYaml(await kubectl('get', 'configmap', 'ssa', '-o', 'yaml', '--show-managed-fields')) as { metadata: { managedFields?: { manager: string }[] } };
    assert.ok(cm.metadata.managedFields?.some((m) => m.manager === 'first'));
    const conflict = await run(tools.kubectl, ['apply', '--server-side', '--field-manager', 'second', '-f', '-'], manifest.replace('first', 'second'));
    assert.notEqual(conflict.status, 0);
    assert.match(conflict.stderr, /conflict/i);
    assert.equal((await run(tools.kubectl, ['apply', '--server-side', '--force-conflicts', '--field-manager', 'second', '-f', '-'], manifest.replace('first', 'second'))).status, 0);
    assert.match(await kubectl('get', 'configmap', 'ssa', '-o', 'jsonpath={.data.owner}'), /^second$/);
  });

  it('delete --wait waits for finalizers, and owner references cascade', async () => {
    await kubectl('patch', 'widget', 'alpha', '--type', 'merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}');
    const uid = await kubectl('get', 'widget', 'alpha', '-o', 'jsonpath={.metadata.uid}');
    const child = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\n  ownerReferences: [{apiVersion: example.com/v1, kind: Widget, name: alpha, uid: "${uid}"}]\n`;
    assert.equal((await run(tools.kubectl, ['apply', '-f', '-'], child)).status, 0);
    const deleting = spawn(tools.kubectl, ['delete', 'widget', 'alpha', '--wait=true', '--timeout=30s'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir() } });
    const exited = new Promise<number | null>((r) => deleting.on('exit', (code) => r(code)));
    await waitUntil(async () => /deletionTimestamp/.test((await run(tools.kubectl, ['get', 'widget', 'alpha', '-o', 'yaml'])).stdout), 'the widget to be terminating');
    assert.equal(deleting.exitCode, null, 'kubectl still waits while the finalizer holds');
    await kubectl('patch', 'widget', 'alpha', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]');
    assert.equal(await exited, 0);
    await waitUntil(async () => (await run(tools.kubectl, ['get', 'configmap', 'owned'])).status !== 0, 'the owned ConfigMap to be collected');
  });

  it('get -w streams changes', async () => {
    const watcher = spawn(tools.kubectl, ['get', 'configmaps', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir() } });
    let out = '';
    watcher.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitUntil(() => /settings/.test(out), 'the initial list');
      await kubectl('create', 'configmap', 'watched', '--from-literal=a=b');
      await waitUntil(() => /ADDED watched/.test(out), 'the ADDED event');
      await kubectl('delete', 'configmap', 'watched');
      await waitUntil(() => /DELETED watched/.test(out), 'the DELETED event');
    } finally {
      watcher.kill();
    }
  });

  it('helm install and uninstall a chart', async () => {
    const install = await run(tools.helm, ['install', 'demo', join(fixtures, 'charts', 'hello'), '--set', 'greeting=hi']);
    assert.equal(install.status, 0, install.stderr);
    assert.match(await kubectl('get', 'configmap', 'demo-config', '-o', 'jsonpath={.data.greeting}'), /^hi$/);
    assert.match((await run(tools.helm, ['list'])).stdout, /demo/);
    const uninstall = await run(tools.helm, ['uninstall', 'demo', '--wait', '--timeout', '30s']);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    assert.notEqual((await run(tools.kubectl, ['get', 'configmap', 'demo-config'])).status, 0);
    assert.notEqual((await run(tools.kubectl, ['get', 'deployment', 'demo-web'])).status, 0);
  });
});
