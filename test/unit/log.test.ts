// The one logger of every process (protocol/log.ts): JSON lines with the component and the
// level's name, fields and errors kept, nothing lost at exit, pino loaded only when a line is.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, parseLogLevel } from '../../protocol/log.js';

const logModule = fileURLToPath(new URL('../../protocol/log.js', import.meta.url));

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level name, component, pid, fields and msg', () => {
    const out = capture();
    const log = createLogger({ component: 'scheduler', level: 'info', destination: out.destination });
    log.debug('hidden');
    log.info('worker joined', { worker: 'w1', nthreads: 2 });
    log.warn('plain');
    assert.equal(out.lines.length, 2);
    assert.ok(out.lines.every((l) => l.endsWith('}\n') && l.indexOf('\n') === l.length - 1));
    const [info, warn] = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.match(String(info!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual({ ...info, time: undefined }, { time: undefined, level: 'info', component: 'scheduler', pid: process.pid, worker: 'w1', nthreads: 2, msg: 'worker joined' });
    assert.equal(warn!.level, 'warn');
    assert.equal(warn!.msg, 'plain');
  });

  it('gives onLine every line written, with its children\'s fields, and none below the level', () => {
    const out = capture();
    const seen: unknown[] = [];
    const log = createLogger({ component: 'worker', level: 'info', destination: out.destination, onLine: (l) => seen.push({ ...l, time: typeof l.time }) });
    const child = log.child({ worker: 'w1' });
    child.debug('hidden');
    child.info('printed', { key: 'k1' });
    log.warn('own');
    assert.equal(out.lines.length, 2);
    assert.deepEqual(seen, [
      { time: 'number', level: 'info', msg: 'printed', fields: { worker: 'w1', key: 'k1' } },
      { time: 'number', level: 'warn', msg: 'own', fields: {} },
    ]);
  });

  it('carries child fields, keeps errors with their cause and never lets a field replace the envelope', () => {
    const out = capture();
    const log = createLogger({ component: 'kubedask-operator', level: 'debug', destination: out.destination }).child({ cluster: 'ns/a' });
    const cause = new Error('socket closed');
    log.debug('requeue', { key: 'cluster:ns/a' });
    log.error('failed', { error: Object.assign(new Error('patch failed', { cause }), { status: 409 }), msg: 'clash', level: 'x', time: 1 });
    const [debug, error] = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(debug!.cluster, 'ns/a');
    assert.equal(debug!.level, 'debug');
    assert.equal(error!.msg, 'failed');
    assert.equal(error!.level, 'error');
    assert.match(String(error!.time), /Z$/);
    assert.deepEqual([error!._msg, error!._level, error!._time], ['clash', 'x', 1]);
    const err = error!.error as Record<string, unknown>;
    assert.equal(err.message, 'patch failed');
    assert.equal(err.status, 409);
    assert.match(String(err.stack), /^Error: patch failed/);
    assert.equal((err.cause as Record<string, unknown>).message, 'socket closed');
  });

  it('writes nothing at level silent, and names the levels it accepts', () => {
    const out = capture();
    createLogger({ component: 'worker', level: 'silent', destination: out.destination }).error('not shown');
    assert.deepEqual(out.lines, []);
    assert.equal(parseLogLevel(undefined, 'warn'), 'warn');
    assert.equal(parseLogLevel('debug', 'warn'), 'debug');
    assert.throws(() => parseLogLevel('loud', 'info'), /log level must be one of silent, fatal, error, warn, info, debug, trace, got "loud"/);
    assert.throws(() => createLogger({ component: 'x', level: 'loud' as 'info' }), /log level must be one of/);
  });

  it('loses no line when the process exits at once, and loads pino only for the first line', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { createLogger } = await import(${JSON.stringify(logModule)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/pino/'));
      const log = createLogger({ component: 'worker', level: 'info' });
      log.debug('below the level');
      const before = loaded();
      for (let i = 0; i < 2000; i++) log.info('line', { i, pad: 'x'.repeat(100) });
      log.info('last', { before, after: loaded() });
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2001);
    assert.deepEqual(lines.slice(0, 2000).map((l) => l.i), [...Array(2000).keys()]);
    const last = lines.at(-1)!;
    assert.deepEqual([last.msg, last.component, last.before, last.after], ['last', 'worker', false, true]);
  });
});
