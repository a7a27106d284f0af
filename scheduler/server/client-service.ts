// The client-facing Scheduler service.
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { ChunkAssembler, missingChunk } from '../../protocol/chunks.js';
import { GraphValidationError, NoWorkersError, ProtocolError } from '../../protocol/errors.js';
import { toServiceError, toWireError } from '../../protocol/wire-errors.js';
import { validateGraph } from '../state/validate.js';
import type { TaskDef } from '../state/types.js';
import type { SchedulerCore } from './core.js';
import type { PeerClients } from '../../protocol/data-client.js';
import { ClientLink, type WorkerLink } from './links.js';
import type { EncodedValue } from '../../protocol/values.js';
import type { Logger } from '../../protocol/log.js';
import { workerLogsHandler } from './worker-logs.js';
import { historyHandler } from './history-service.js';
import { rebalance } from './balance.js';

type TaskSpec = kubedask.v1.TaskSpec.$Properties;
type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

/** Arguments travel inside the graph; bigger values belong in scatter. */
export const MAX_INLINE_ARG_BYTES = 16 * 1024 * 1024;

export function clientServiceHandlers(core: SchedulerCore, peers: PeerClients, log: Logger, address: () => string, dashboard: () => string) {
  /** Validates a client's graph whole and adds it; returns the tasks added, or throws why none were. */
  const acceptGraph = (req: kubedask.v1.SubmitGraphRequest, clientId: string): number => {
    if (!core.clients.has(clientId)) throw unknownClient(clientId);
    const tasks = req.tasks.map(toTaskDef);
    const newFunctions = new Set(req.functions.map((f) => f.id ?? ''));
    for (const f of req.functions) checkFunction(core, f);
    validateGraph(tasks, (k: string) => core.state.knownKey(k), (id: string) => core.functions.has(id) || newFunctions.has(id));
    for (const f of req.functions) core.functions.set(f.id ?? '', f);
    const submitted = new Set(tasks.map((t) => t.key));
    const wanted = req.wanted.filter((k) => submitted.has(k) || core.state.knownKey(k));
    core.handle({ type: 'update-graph', clientId, tasks, wanted });
    return tasks.length;
  };

  const submitGraph: Unary<kubedask.v1.SubmitGraphRequest, kubedask.v1.SubmitGraphReply.$Properties> = (call, cb) => {
    try {
      cb(null, { accepted: acceptGraph(call.request, call.request.clientId) });
    } catch (err) {
      cb(toServiceError(err));
    }
  };

  /** A graph sent on a session: answered on it, in order with the key events. */
  const submitOnSession = (req: kubedask.v1.SubmitGraphRequest, clientId: string): void => {
    const link = core.clients.get(clientId);
    if (!link) return; // the session's own client: it has a link while its stream delivers
    try {
      link.ack({ seq: req.seq, accepted: acceptGraph(req, clientId) });
    } catch (err) {
      link.ack({ seq: req.seq, error: toWireError(err) });
    }
  };

  return {
    session(call: grpc.ServerDuplexStream<kubedask.v1.ClientRequest, kubedask.v1.ClientEvent.$Properties>): void {
      let clientId: string | undefined;
      const leave = () => {
        if (!clientId || !core.clients.has(clientId)) return;
        core.clients.get(clientId)?.end();
        core.clients.delete(clientId);
        core.handle({ type: 'client-disconnected', clientId });
        log.info('client left', { client: clientId });
      };
      call.on('data', (req: kubedask.v1.ClientRequest) => {
        if (!clientId) {
          if (req.kind !== 'hello' || !req.hello?.clientId) return refuse(call, 'the first message of a session must be hello with a client id');
          if (core.clients.has(req.hello.clientId)) return refuse(call, `client ${req.hello.clientId} is already connected`);
          clientId = req.hello.clientId;
          core.clients.set(clientId, new ClientLink(clientId, call));
          core.handle({ type: 'client-connected', clientId });
          call.write({ events: [], welcome: core.id, graphsOnSession: true });
          return;
        }
        if (req.kind === 'submit') submitOnSession(req.submit as kubedask.v1.SubmitGraphRequest, clientId); // decoded: every field set
        else if (req.kind === 'release') core.handle({ type: 'client-releases-keys', clientId, keys: req.release?.keys ?? [] });
        else if (req.kind === 'want') core.handle({ type: 'client-wants-keys', clientId, keys: req.want?.keys ?? [] });
      });
      call.on('end', leave);
      call.on('error', leave);
      call.on('cancelled', leave);
      call.on('close', leave);
    },

    submitGraph,

    gather(call: grpc.ServerWritableStream<kubedask.v1.GatherRequest, kubedask.v1.DataChunks.$Properties>): void {
      gather(core, peers, call.request.keys, call).then(() => call.end(), (err: unknown) => call.emit('error', toServiceError(err)));
    },

    scatter(call: grpc.ServerReadableStream<kubedask.v1.DataChunk, kubedask.v1.ScatterReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.ScatterReply.$Properties>): void {
      const clientId = String(call.metadata.get('kubedask-client')[0] ?? '');
      scatter(core, peers, clientId, call).then((keys) => cb(null, { keys }), (err) => cb(toServiceError(err)));
    },

    uploadModule(call: grpc.ServerUnaryCall<kubedask.v1.UploadModuleRequest, kubedask.v1.UploadModuleReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.UploadModuleReply.$Properties>): void {
      const { name, source } = call.request;
      if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
        return cb(toServiceError(new GraphValidationError(`module name "${name}" must be 1-100 letters, digits, '.', '_' or '-'`, { key: '', reason: 'invalid-module-name' })));
      }
      core.broadcastModule(name, source);
      log.info('module uploaded', { module: name, bytes: source.length });
      cb(null, {});
    },

    cancel(call: grpc.ServerUnaryCall<kubedask.v1.CancelRequest, kubedask.v1.CancelReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.CancelReply.$Properties>): void {
      const { clientId, keys } = call.request;
      const known = keys.filter((k) => core.state.knownKey(k));
      core.handle({ type: 'cancel', clientId, keys: known });
      cb(null, { cancelled: known.length });
    },

    workerLogs: workerLogsHandler(core, peers),
    history: historyHandler(core),

    progress(call: grpc.ServerUnaryCall<kubedask.v1.ProgressRequest, kubedask.v1.ProgressReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.ProgressReply.$Properties>): void {
      cb(null, core.state.progress(call.request.keys));
    },

    rebalance(call: grpc.ServerUnaryCall<kubedask.v1.RebalanceRequest, kubedask.v1.RebalanceReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.RebalanceReply.$Properties>): void {
      rebalance(core, call.request.keys, call.request.timeoutMs).then((r) => cb(null, r), (err: unknown) => cb(toServiceError(err)));
    },

    clusterInfo(_call: grpc.ServerUnaryCall<kubedask.v1.ClusterInfoRequest, kubedask.v1.ClusterInfoReply.$Properties>, cb: grpc.sendUnaryData<kubedask.v1.ClusterInfoReply.$Properties>): void {
      const counts = core.state.counts();
      cb(null, {
        schedulerId: core.id,
        address: address(),
        dashboard: dashboard(),
        tasks: counts.waiting + counts.queued + counts.noWorker + counts.processing + counts.memory + counts.erred + counts.released,
        workers: [...core.workers.values()].map((w) => {
          const summary = core.state.workerSummary(w.def.workerId);
          return {
            id: w.def.workerId, name: w.def.name, address: w.def.address, nthreads: w.def.nthreads,
            memoryLimit: w.def.memoryLimit, resources: w.def.resources, memoryUsed: w.memoryUsed, spilledBytes: w.spilledBytes,
            processing: summary?.processing ?? 0, inMemory: summary?.inMemory ?? 0, group: w.def.group,
          };
        }),
      });
    },
  };
}

/** Ends a streaming call with a status the peer can read (destroy() would send none). */
function refuse(call: grpc.ServerDuplexStream<unknown, unknown>, why: string): void {
  call.emit('error', toServiceError(new ProtocolError(why)));
}

function toTaskDef(spec: TaskSpec): TaskDef {
  if (!spec.key) throw new GraphValidationError('a task has an empty key', { key: '', reason: 'invalid-key' });
  const key = spec.key;
  const args = spec.args ?? [];
  const dependencies = spec.dependencies ?? [];
  args.forEach((arg, i) => {
    const size = arg.value?.data?.byteLength ?? 0;
    if (size > MAX_INLINE_ARG_BYTES) {
      throw new GraphValidationError(
        `argument ${i} of task "${key}" is ${size} bytes, over the ${MAX_INLINE_ARG_BYTES}-byte limit for inline arguments: scatter it first`,
        { key, reason: 'argument-too-large' });
    }
    if (arg.key && !dependencies.includes(arg.key)) {
      throw new GraphValidationError(`task "${key}" uses key "${arg.key}" without listing it as a dependency`, { key, reason: 'undeclared-dependency' });
    }
  });
  return {
    key,
    functionId: spec.functionId ?? '',
    dependencies: [...new Set(dependencies)],
    resources: { ...spec.resources },
    retries: spec.retries ?? 0,
    priority: spec.priority ?? 0,
    group: spec.group || key.replace(/-[^-]*$/, ''),
    barrier: spec.barrier === true,
    stayWithData: spec.stayWithData === true,
    spec,
  };
}

function checkFunction(core: SchedulerCore, f: kubedask.v1.FunctionDef.$Properties): void {
  if (!f.id) throw new GraphValidationError('a function definition has no id', { key: '', reason: 'invalid-function' });
  if (f.module && !core.modules.has(f.module)) {
    throw new GraphValidationError(`function ${f.module}#${f.export} comes from module "${f.module}", which was never uploaded`, { key: '', reason: 'unknown-module' });
  }
  if (!f.module && !f.source && !f.builtin) throw new GraphValidationError(`function ${f.id} has neither source, module nor builtin`, { key: '', reason: 'invalid-function' });
}

function unknownClient(clientId: string): GraphValidationError {
  return new GraphValidationError(`unknown client ${clientId}: open a session first`, { key: '', reason: 'unknown-client' });
}

async function gather(core: SchedulerCore, peers: PeerClients, keys: string[], out: grpc.ServerWritableStream<unknown, kubedask.v1.DataChunks.$Properties>): Promise<void> {
  // Group keys by a holder so each worker is asked once; relay its batches unopened.
  const byAddress = new Map<string, string[]>();
  const missing: kubedask.v1.DataChunk.$Properties[] = [];
  for (const key of keys) {
    const holder = core.state.whoHas(key).map((id: string) => core.workers.get(id)).find((w: unknown) => w !== undefined);
    if (!holder || core.state.taskState(key) !== 'memory') {
      missing.push(missingChunk(key, `key ${key} is not in memory (state: ${core.state.taskState(key) ?? 'unknown'})`));
      continue;
    }
    const list = byAddress.get(holder.def.address) ?? [];
    list.push(key);
    byAddress.set(holder.def.address, list);
  }
  if (missing.length) out.write({ chunks: missing });
  for (const [address, group] of byAddress) {
    const delivered = new Set<string>();
    try {
      for await (const batch of peers.fetchBatches(address, group) as AsyncIterable<kubedask.v1.DataChunks>) {
        for (const chunk of batch.chunks) if (chunk.last) delivered.add(chunk.key ?? '');
        if (!out.write(batch)) await new Promise((r) => out.once('drain', r));
      }
    } catch (err) {
      // The holder went away mid-stream: what it did not deliver is missing, and the client
      // asks again once the scheduler has recomputed it. A half-sent value is never mixed in:
      // chunks of one key are contiguous, and the cut key is reported missing after them.
      const left = group.filter((k) => !delivered.has(k));
      out.write({ chunks: left.map((k) => missingChunk(k, `worker ${address} failed while sending it: ${(err as Error).message}`)) });
    }
  }
}

async function scatter(core: SchedulerCore, peers: PeerClients, clientId: string, call: AsyncIterable<kubedask.v1.DataChunk>): Promise<string[]> {
  if (!core.clients.has(clientId)) throw unknownClient(clientId);
  const assembler = new ChunkAssembler();
  // Values are spread over the workers in turn; each worker gets one Put with its share.
  const byWorker = new Map<WorkerLink, { key: string; value: EncodedValue }[]>();
  const keys: string[] = [];
  for await (const chunk of call) {
    const whole = assembler.push(chunk);
    if (!whole || !('value' in whole)) continue;
    if (core.state.knownKey(whole.key) || keys.includes(whole.key)) throw new GraphValidationError(`scatter key "${whole.key}" already exists`, { key: whole.key, reason: 'duplicate-key' });
    const worker = pickWorker(core);
    if (!worker) throw new NoWorkersError(`no workers to scatter ${whole.key} to`);
    byWorker.set(worker, [...(byWorker.get(worker) ?? []), { key: whole.key, value: whole.value }]);
    keys.push(whole.key);
  }
  await Promise.all([...byWorker].map(async ([worker, values]) => {
    await peers.put(worker.def.address, values);
    core.handle({ type: 'scattered', clientId, workerId: worker.def.workerId, keys: values.map((v) => v.key), nbytes: values.map((v) => v.value.data.byteLength) });
  }));
  return keys;
}

let scatterTurn = 0;

/** Spreads scattered values over the workers that are not retiring, in turn. */
function pickWorker(core: SchedulerCore) {
  const candidates = [...core.workers.values()].filter((w) => !w.retiring && core.state.retiring(w.def.workerId) === false);
  return candidates.length ? candidates[scatterTurn++ % candidates.length] : undefined;
}
