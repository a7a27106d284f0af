// Runs a plan on a cluster: optimizes and lowers it to tasks, sends local partitions the
// cluster has not seen, and submits the tasks as one graph. Only the result's partitions are
// wanted; the intermediate keys are released by the scheduler once their dependents ran.
import pl from 'nodejs-polars';
import { Client } from '../client/client.js';
import { Delayed } from '../client/delayed.js';
import { Future } from '../client/future.js';
import { newKey } from '../client/graph-builder.js';
import { checkProgressOptions, progress, type ProgressOptions } from '../client/progress.js';
import { builtinFunction, type TaskFunction } from '../client/task-functions.js';
import { planTasks } from './plan/lower.js';
import type { PlanNode } from './plan/nodes.js';
import { optimize } from './plan/optimize.js';
import type { PlannedTask } from './plan/tasks.js';

/** What a plan's bound keys stand for: a Future on the cluster, a frame of this process, or
 *  bytes of this process a kernel reads (an ONNX model), sent once per client. */
export interface DataBinding {
  future?: Future;
  local?: pl.DataFrame;
  bytes?: Uint8Array;
}

export interface RunOptions {
  /** The client to run on; the default client (Client.current()) otherwise. */
  client?: Client;
  /**
   * Bars per task group while it runs (see progress()): true draws on stdout when it is a
   * terminal; options choose the stream and polling. Default false.
   */
  progress?: boolean | Omit<ProgressOptions, 'client'>;
}

/** Local partitions (and bytes) already sent, per client: computing a frame twice sends its data once. */
const sent = new WeakMap<Client, WeakMap<pl.DataFrame | Uint8Array, Future>>();

/** Submits the plan; a Future per result partition, in order, each the caller's to release (an
 *  output that is an input as it is, a persisted or sent partition, gets a Future of its own:
 *  releasing it must not drop the input's data). */
export function submitPlan(plan: PlanNode, bindings: ReadonlyMap<string, DataBinding>, functions: ReadonlyMap<string, TaskFunction>, client: Client): Future[] {
  const optimized = optimize(plan);
  const { tasks, outputs } = planTasks(optimized, newKey);
  const nodes = new Map<string, Delayed | Future>();
  for (const [key, binding] of bindings) nodes.set(key, binding.future ?? scatterOnce(client, (binding.local ?? binding.bytes)!));
  for (const task of tasks) nodes.set(task.key, delayedTask(task, nodes, functions));
  const results = outputs.map((key) => nodes.get(key)!);
  const delayedOutputs = results.filter((n): n is Delayed => n instanceof Delayed);
  const futures = client.compute(delayedOutputs);
  const byKey = new Map(delayedOutputs.map((d, i) => [d.key, futures[i]!]));
  return results.map((n) => (n instanceof Delayed ? byKey.get(n.key)! : new Future(n.key, client)));
}

/** The progress options the run asks for (checked, so a mistake fails before anything is sent), or undefined. */
export function progressOptions(options: RunOptions | undefined, client: Client): ProgressOptions | undefined {
  const asked = options?.progress;
  if (!asked) return undefined;
  const shown = { ...(asked === true ? {} : asked), client };
  checkProgressOptions(shown);
  return shown;
}

/** Draws the futures' progress when asked; resolves once they settled (at once when not asked). Never rejects. */
export async function showProgress(futures: Future[], options: ProgressOptions | undefined): Promise<void> {
  if (options) await progress(futures, options).catch(() => undefined); // drawing is never worth a failed query
}

export function resolveClient(options: RunOptions | undefined): Client {
  return options?.client ?? Client.current();
}

function delayedTask(task: PlannedTask, nodes: Map<string, Delayed | Future>, functions: ReadonlyMap<string, TaskFunction>): Delayed {
  const inputs = task.inputs.map((key) => nodes.get(key) ?? missing(key));
  const fn: TaskFunction = task.fn ? functions.get(task.fn.id) ?? missing(task.fn.id) : builtinFunction(task.kernel);
  const args = task.fn ? inputs : [task.params, ...inputs];
  return new Delayed(task.key, fn, args, {
    group: task.group, ...(task.barrier ? { barrier: true } : {}), ...(task.resources ? { resources: task.resources } : {}), ...(task.stayWithData ? { stayWithData: true } : {}),
  });
}

function missing(key: string): never {
  throw new Error(`internal: plan input ${key} has no task, binding or function`);
}

function scatterOnce(client: Client, value: pl.DataFrame | Uint8Array): Future {
  let perClient = sent.get(client);
  if (!perClient) sent.set(client, (perClient = new WeakMap()));
  let future = perClient.get(value);
  const bytes = (): Uint8Array => (value instanceof Uint8Array ? value : new Uint8Array(value.writeIPCStream({ compression: 'lz4' })));
  if (!future) perClient.set(value, (future = client.scatter(bytes())));
  return future;
}
