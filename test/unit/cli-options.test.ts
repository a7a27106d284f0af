import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostPort, parseResources, parseSize, parsePort, UsageError } from '../../cli/options.js';

describe('cli options', () => {
  it('parses sizes in SI and binary units', () => {
    assert.equal(parseSize('4GiB', '--m'), 4 * 2 ** 30);
    assert.equal(parseSize('512MB', '--m'), 512e6);
    assert.equal(parseSize('1.5 gib', '--m'), 1.5 * 2 ** 30);
    assert.equal(parseSize('0', '--m'), 0);
    assert.equal(parseSize(undefined, '--m', 7), 7);
    assert.throws(() => parseSize('lots', '--memory-limit'), (e: unknown) => e instanceof UsageError && /--memory-limit/.test(e.message));
    assert.throws(() => parseSize('4XB', '--m'), UsageError);
  });

  it('parses resources', () => {
    assert.deepEqual(parseResources('GPU=1, MEM=2.5', '--resources'), { GPU: 1, MEM: 2.5 });
    assert.deepEqual(parseResources(undefined, '--resources'), {});
    assert.throws(() => parseResources('GPU', '--resources'), /GPU=1/);
    assert.throws(() => parseResources('GPU=-1', '--resources'), UsageError);
  });

  it('checks ports and addresses', () => {
    assert.equal(parsePort('0', '--port', 1), 0);
    assert.throws(() => parsePort('70000', '--port', 1), /0-65535/);
    assert.equal(parseHostPort('grpc://sched:8786', '--scheduler'), 'sched:8786');
    assert.throws(() => parseHostPort('sched', '--scheduler'), /host:port/);
  });
});
