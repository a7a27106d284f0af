// The step runner every reconciler uses: order, early ends, failures recorded or fatal, and the
// error that names the failed steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { failureReason, ReconcileError, TlsSecretError } from '../../operator/reconcile/errors.js';
import { attempt, done, runSteps, step, type PassState, type ReconcileStep } from '../../operator/reconcile/steps.js';

interface State extends PassState { ran: string[] }

const ok = (name: string, o: { keepGoing?: boolean; ifNoFailures?: boolean } = {}): ReconcileStep<State> =>
  step(name, (s) => { s.ran.push(name); }, o);
const fails = (name: string, o: { keepGoing?: boolean } = {}): ReconcileStep<State> =>
  step(name, (s) => { s.ran.push(name); throw new Error(`${name} broke`); }, o);
const fresh = (): State => ({ ran: [], failures: [] });

async function failure(p: Promise<unknown>): Promise<ReconcileError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ReconcileError, `a ReconcileError, got ${String(err)}`);
    return err;
  }
  assert.fail('the pass should have failed');
}

describe('reconcile step runner', () => {
  it('runs every step in order and ends with nothing to do', async () => {
    const s = fresh();
    const seen: string[] = [];
    assert.equal(await runSteps([ok('a'), ok('b'), ok('c')], s, { step: (n) => seen.push(n) }), undefined);
    assert.deepEqual(s.ran, ['a', 'b', 'c']);
    assert.deepEqual(seen, ['a', 'b', 'c']);
  });

  it('a step that says done ends the pass with its result', async () => {
    const s = fresh();
    const result = await runSteps([ok('a'), step<State>('stop', () => done({ requeueAfterMs: 5, reason: 'wait' })), ok('c')], s);
    assert.deepEqual(result, { requeueAfterMs: 5, reason: 'wait' });
    assert.deepEqual(s.ran, ['a']);
  });

  it('a failing step ends the pass at once, named in the error', async () => {
    const s = fresh();
    const err = await failure(runSteps([ok('a'), fails('b'), ok('c')], s));
    assert.deepEqual(err.steps, ['b']);
    assert.equal(err.message, 'b: b broke');
    assert.deepEqual(s.ran, ['a', 'b']);
  });

  it('a keep-going failure is recorded, later steps run, and the pass still fails naming every failed step', async () => {
    const s = fresh();
    const err = await failure(runSteps([fails('a', { keepGoing: true }), ok('b'), fails('c', { keepGoing: true }), ok('d')], s));
    assert.deepEqual(s.ran, ['a', 'b', 'c', 'd']);
    assert.deepEqual(err.steps, ['a', 'c']);
    assert.equal(err.message, 'a: a broke; c: c broke');
  });

  it('an only-if-nothing-failed step does not run after a failure', async () => {
    const s = fresh();
    const err = await failure(runSteps([fails('a', { keepGoing: true }), ok('b', { ifNoFailures: true }), ok('c')], s));
    assert.deepEqual(s.ran, ['a']);
    assert.deepEqual(err.steps, ['a']);
    const clean = fresh();
    await runSteps([ok('a'), ok('b', { ifNoFailures: true })], clean);
    assert.deepEqual(clean.ran, ['a', 'b']);
  });

  it('done after a recorded failure still fails the pass', async () => {
    const err = await failure(runSteps([fails('a', { keepGoing: true }), step<State>('stop', () => done())], fresh()));
    assert.deepEqual(err.steps, ['a']);
  });

  it('parts of a step fail one by one, each named', async () => {
    const s = fresh();
    const each = step<State>('createPods', async (st) => {
      for (const p of ['p0', 'p1', 'p2']) await attempt(st, 'createPods', `pod ${p}`, async () => { if (p !== 'p1') throw new Error('refused'); st.ran.push(p); });
    }, { keepGoing: true });
    const err = await failure(runSteps([each, ok('after')], s));
    assert.deepEqual(s.ran, ['p1', 'after']);
    assert.deepEqual(err.steps, ['createPods (pod p0)', 'createPods (pod p2)']);
  });

  it('a step that returns a value that is not done goes on', async () => {
    const s = fresh();
    const returnsNumber = { name: 'n', run: () => 3 } as unknown as ReconcileStep<State>;
    await runSteps([returnsNumber, ok('b')], s);
    assert.deepEqual(s.ran, ['b']);
  });

  it('a failed pass says what it was about: a TLS Secret, else the API', () => {
    const tls = { step: 'drainPods', error: new TlsSecretError('spec.security.tls.secretName: Secret ns/x not found') };
    const api = { step: 'createPods', error: new Error('HTTP 500') };
    assert.equal(failureReason([tls, api]), 'TLSSecretInvalid');
    assert.equal(failureReason([api, tls]), 'ApiError');
  });

  it('a logged ReconcileError carries its steps in the message, not an array that JSON writes as {}', () => {
    const err = new ReconcileError([{ step: 'a', error: new Error('boom') }, { step: 'b', error: new Error('bang') }]);
    assert.equal(err.message, 'a: boom; b: bang');
    assert.deepEqual(err.steps, ['a', 'b']);
    assert.ok(!Object.keys(err).includes('failures'), 'failures is not an enumerable field');
  });
});
