// The kubelet's event recorder counts repeats on one Event, even when a repeat comes while the
// Event's create is still on its way: it waits for it instead of patching an Event not yet there.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PodEventRecorder } from '../../sim/kubelet/events.js';
import type { KubeObject, Rest } from '../../sim/kubelet/rest.js';

/** A Rest whose creates wait until released, recording every write in the order it was made. */
function slowRest() {
  const writes: string[] = [];
  const events = new Map<string, { count: number }>();
  let release: () => void = () => undefined;
  const created = new Promise<void>((r) => (release = r));
  const rest = {
    async create(_path: string, body: { metadata: { name: string }; count: number }) {
      writes.push(`create ${body.metadata.name}`);
      await created;
      events.set(body.metadata.name, { count: body.count });
      return body;
    },
    async mergePatch(path: string, body: { count: number }) {
      const name = path.split('/').pop()!;
      writes.push(`patch ${name} ${body.count}`);
      const e = events.get(name);
      if (!e) throw new Error(`events "${name}" not found`);
      e.count = body.count;
      return e;
    },
  };
  return { rest: rest as unknown as Rest, writes, events, release };
}

describe('kubelet event recorder', () => {
  it('a repeat made while the first create is in flight raises the count on the created Event', async () => {
    const { rest, writes, events, release } = slowRest();
    const recorder = new PodEventRecorder(rest);
    const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { nodeName: 'n' } } as unknown as KubeObject;
    const first = recorder.record(pod, 'spec.containers{c}', 'Warning', 'BackOff', 'Back-off pulling image "x"');
    const second = recorder.record(pod, 'spec.containers{c}', 'Warning', 'BackOff', 'Back-off pulling image "x"');
    release();
    await Promise.all([first, second]);
    assert.equal(events.size, 1, writes.join('; '));
    assert.equal([...events.values()][0]!.count, 2, writes.join('; '));
  });
});
