// Graphs travel on the client's session, not as a SubmitGraph call each: against a fake
// scheduler that answers (or does not) as the test says, what the client's RPC edge does with
// acks, refusals, a session lost with graphs unanswered, and a session that is not open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SESSION_GRAPH_BYTES, SchedulerRpc } from '../../client/scheduler-rpc.js';
import type { GraphSubmission } from '../../client/messages.js';
import { SchedulerService, channelOptions } from '../../protocol/services.js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { ConnectionLostError, GraphValidationError } from '../../protocol/errors.js';
import { toWireError } from '../../protocol/wire-errors.js';
import { waitUntil } from '../helpers/wait.js';

type Session = grpc.ServerDuplexStream<kubedask.v1.ClientRequest, kubedask.v1.ClientEvent.$Properties>;

/** What the fake does with a graph sent on the session: answer it (two at a time, the later first), refuse it, or end the session. */
type Answer = 'accept-pairs-reversed' | 'refuse' | 'hang-up';

describe('graphs sent on the session', () => {
  let server: grpc.Server;
  let address: string;
  let unaryCalls = 0;
  const onSession: kubedask.v1.SubmitGraphRequest[] = [];
  /** Graphs not yet answered in 'accept-pairs-reversed'. */
  const held: kubedask.v1.SubmitGraphRequest[] = [];
  let answer: Answer = 'accept-pairs-reversed';
  /** Whether the fake's welcome says it takes graphs on the session (an older scheduler does not). */
  let takesGraphs = true;

  before(async () => {
    server = new grpc.Server(channelOptions); // the real scheduler's message limits
    server.addService(SchedulerService, {
      session(call: Session) {
        call.on('data', (req: kubedask.v1.ClientRequest) => {
          if (req.kind === 'hello') call.write({ events: [], welcome: 'fake', graphsOnSession: takesGraphs });
          if (req.kind !== 'submit') return;
          const submit = req.submit as kubedask.v1.SubmitGraphRequest;
          onSession.push(submit);
          if (answer === 'accept-pairs-reversed') {
            held.push(submit);
            if (held.length < 2) return;
            call.write({ acks: held.splice(0).reverse().map((g) => ({ seq: g.seq, accepted: g.tasks.length })) });
          }
          else if (answer === 'refuse') call.write({ acks: [{ seq: submit.seq, error: toWireError(new GraphValidationError('task "b" depends on "zz", which is not known', { key: 'b', reason: 'missing-dependency' })) }] });
          else call.end();
        });
        call.on('error', () => undefined);
      },
      submitGraph(call: grpc.ServerUnaryCall<kubedask.v1.SubmitGraphRequest, kubedask.v1.SubmitGraphReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.SubmitGraphReply.$Properties>) {
        unaryCalls++;
        cb(null, { accepted: call.request.tasks.length });
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  const graph = (keys: string[]): GraphSubmission => ({
    clientId: 'c', functions: [], wanted: keys,
    tasks: keys.map((key) => ({ key, functionId: 'f', args: [], dependencies: [], resources: {}, retries: 0, priority: 0, group: 'g' })),
  });

  it('goes on the session with its own seq, answered by its ack; no SubmitGraph call', async () => {
    answer = 'accept-pairs-reversed';
    const rpc = new SchedulerRpc(address);
    try {
      await rpc.openSession('c1', 10_000, () => undefined, () => undefined);
      const before = onSession.length;
      const [two, one] = await Promise.all([rpc.submitGraph(graph(['a', 'b'])), rpc.submitGraph(graph(['c']))]);
      assert.deepEqual([two, one], [2, 1]);
      const sent = onSession.slice(before);
      assert.deepEqual(sent.map((s) => s.tasks.map((t) => t.key)), [['a', 'b'], ['c']]);
      assert.notEqual(sent[0]!.seq, sent[1]!.seq);
      assert.equal(unaryCalls, 0);
    } finally {
      rpc.close();
    }
  });

  it('rejects with the error the scheduler sent, as its class with its fields', async () => {
    answer = 'refuse';
    const rpc = new SchedulerRpc(address);
    try {
      await rpc.openSession('c2', 10_000, () => undefined, () => undefined);
      await assert.rejects(rpc.submitGraph(graph(['b'])), (e: unknown) => e instanceof GraphValidationError && e.key === 'b' && e.reason === 'missing-dependency');
    } finally {
      rpc.close();
    }
  });

  it('fails a graph still unanswered when the session is lost, at once and not at its deadline', async () => {
    answer = 'hang-up';
    const rpc = new SchedulerRpc(address);
    let lost: Error | undefined;
    try {
      await rpc.openSession('c3', 10_000, () => undefined, (err) => { lost = err; });
      await assert.rejects(rpc.submitGraph(graph(['d'])), ConnectionLostError);
      await waitUntil(() => lost, 'the session reported lost');
      // The next graph cannot go on a dead session: it is sent as a call.
      answer = 'accept-pairs-reversed';
      const calls = unaryCalls;
      assert.equal(await rpc.submitGraph(graph(['e'])), 1);
      assert.equal(unaryCalls, calls + 1);
    } finally {
      rpc.close();
    }
  });

  it('sends a graph as a call to a scheduler that does not take graphs on the session, and a big graph always', async () => {
    const rpc = new SchedulerRpc(address);
    const older = new SchedulerRpc(address);
    try {
      takesGraphs = false;
      await older.openSession('c4', 10_000, () => undefined, () => undefined);
      const [calls, sent] = [unaryCalls, onSession.length];
      assert.equal(await older.submitGraph(graph(['h'])), 1);
      assert.equal(unaryCalls, calls + 1);
      takesGraphs = true;
      await rpc.openSession('c5', 10_000, () => undefined, () => undefined);
      const big = graph(['i']);
      big.tasks[0]!.args = [{ value: { encoding: 2, data: new Uint8Array(SESSION_GRAPH_BYTES + 1) } }];
      assert.equal(await rpc.submitGraph(big), 1);
      assert.equal(unaryCalls, calls + 2);
      assert.equal(onSession.length, sent, 'nothing went on the sessions');
    } finally {
      takesGraphs = true;
      older.close();
      rpc.close();
    }
  });

  it('sends a graph as a call before the session is open', async () => {
    const rpc = new SchedulerRpc(address);
    try {
      const calls = unaryCalls;
      assert.equal(await rpc.submitGraph(graph(['f', 'g'])), 2);
      assert.equal(unaryCalls, calls + 1);
    } finally {
      rpc.close();
    }
  });
});
