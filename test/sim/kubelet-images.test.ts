// F: which images the process kubelet can run and with what argv, the labels its GPU nodes
// carry, and `kubedask sim --image NAME=COMMAND` as parsed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerArgv } from '../../sim/kubelet/container-command.js';
import { gpuLabels } from '../../sim/kubelet/gpu-labels.js';
import { parseImageRef, pullImage } from '../../sim/kubelet/images.js';
import { addImageMapping, splitWords } from '../../cli/image-flags.js';
import { UsageError } from '../../cli/errors.js';

describe('kubelet images', () => {
  it('reads references as the runtime does, Docker Hub names completed', () => {
    assert.deepEqual(parseImageRef('python'), { repository: 'docker.io/library/python' });
    assert.deepEqual(parseImageRef('docker.io/library/python:3.12'), { repository: 'docker.io/library/python', tag: '3.12' });
    assert.deepEqual(parseImageRef('localhost:5000/team/app:v1@sha256:ab'), { repository: 'localhost:5000/team/app', tag: 'v1', digest: 'sha256:ab' });
    assert.deepEqual(parseImageRef('daskdev/dask:latest'), { repository: 'docker.io/daskdev/dask', tag: 'latest' });
    for (const bad of ['', 'Upper/case', 'a b', 'img:', 'a@b@c']) assert.equal(parseImageRef(bad), undefined, bad);
  });

  it('runs the project image under any registry, mapped images by name and tag, and refuses the rest', () => {
    for (const image of ['ghcr.io/kubedask/kubedask:0.1.0', 'kubedask:1', 'registry.example.com/team/kubedask@sha256:ab']) {
      assert.deepEqual(pullImage(image, 'IfNotPresent', {}), { entrypoint: ['kubedask'] }, image);
    }
    const mapped = { python: ['python3'], 'python:3.11': ['python3.11'], 'ghcr.io/daskdev/dask': ['kubedask'] };
    assert.deepEqual(pullImage('docker.io/library/python:3.12', undefined, mapped), { entrypoint: ['python3'] });
    assert.deepEqual(pullImage('python:3.11', undefined, mapped), { entrypoint: ['python3.11'] }, 'the tagged mapping is the more specific');
    assert.deepEqual(pullImage('ghcr.io/daskdev/dask:2024.1.0', undefined, mapped), { entrypoint: ['kubedask'] });
    assert.equal('entrypoint' in pullImage('python:3.12', undefined, { 'python:3.11': ['x'] }), false, 'a tag maps that tag only');
    const refused = pullImage('ghcr.io/daskdev/dask:2024.1.0', 'IfNotPresent', {});
    assert.equal('reason' in refused && refused.reason, 'ErrImagePull');
    assert.match('message' in refused ? refused.message : '', /image "ghcr\.io\/daskdev\/dask:2024\.1\.0" is not available to kube-sim.*--image NAME=COMMAND/);
    assert.equal((pullImage('node:20', 'Never', {}) as { reason: string }).reason, 'ErrImageNeverPull');
    assert.equal((pullImage('Bad Name', 'Always', {}) as { reason: string }).reason, 'InvalidImageName');
  });

  it('command replaces the entrypoint; kubedask and node run from this machine', () => {
    const argv = (c: { command?: string[]; args?: string[] }, entrypoint: string[]) => containerArgv({ name: 'c', ...c }, { A: 'x' }, entrypoint);
    assert.deepEqual(argv({ args: ['worker', '$(A)'] }, ['kubedask']).slice(0, 1), [process.execPath]);
    assert.match(argv({ args: ['worker'] }, ['kubedask'])[1]!, /bin[/\\]kubedask\.js$/);
    assert.deepEqual(argv({ args: ['worker', '$(A)'] }, ['kubedask']).slice(2), ['worker', 'x']);
    assert.deepEqual(argv({ command: ['node', '-e', '1'], args: ['$(A)'] }, ['python3']), [process.execPath, '-e', '1', 'x']);
    assert.deepEqual(argv({ args: ['-c', 'print(1)'] }, ['python3', '-u']), ['python3', '-u', '-c', 'print(1)']);
  });

  it('GPU nodes carry the GPU operator\'s and GFD\'s labels; other nodes none of them', () => {
    const labels = gpuLabels(2);
    assert.equal(labels['nvidia.com/gpu.present'], 'true');
    assert.equal(labels['nvidia.com/gpu.count'], '2');
    assert.match(labels['nvidia.com/gpu.product']!, /^NVIDIA-/);
    assert.match(labels['nvidia.com/gpu.memory']!, /^\d+$/);
    assert.deepEqual(gpuLabels(0), {});
  });

  it('--image NAME=COMMAND accumulates and splits the command as a shell would', () => {
    const once = addImageMapping('python:3.12=python3 -u', '--image');
    assert.deepEqual(addImageMapping('busybox=sh -c "echo hi there"', '--image', once), { 'python:3.12': ['python3', '-u'], busybox: ['sh', '-c', 'echo hi there'] });
    assert.deepEqual(splitWords(` a 'b c' d\\ e "f\\"g" `, '--image'), ['a', 'b c', 'd e', 'f"g']);
    for (const [value, message] of [['python', /must be NAME=COMMAND/], ['=node', /must be NAME=COMMAND/], ['node=  ', /needs a command/], ['x=sh "a', /unclosed "/]] as const) {
      assert.throws(() => addImageMapping(value, '--image'), (e: unknown) => e instanceof UsageError && message.test(e.message), value);
    }
  });
});
