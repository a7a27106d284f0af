// What the client sends to and hears from the scheduler, as plain types. Only
// client/scheduler-rpc.ts (the client's RPC edge) sees the generated protobuf types; it
// converts to and from these.
import type { EncodedValue } from '../protocol/values.js';

/** How a task function travels: its source, or an export of an uploaded module. */
export interface FunctionDef {
  id: string;
  name: string;
  source?: string;
  module?: string;
  export?: string;
  /** A kernel of the installed package, run by name in the worker's own process. */
  builtin?: string;
  /** How the task thread hands values to the function (see FunctionAdapter). */
  adapter?: string;
}

/** A literal argument, or another key's result. */
export interface TaskArg {
  value?: EncodedValue;
  key?: string;
}

export interface TaskSpec {
  key: string;
  functionId: string;
  args: TaskArg[];
  dependencies: string[];
  resources: Record<string, number>;
  retries: number;
  priority: number;
  group: string;
}

/** About the bytes a task takes in a graph message: its arguments' values and a little for the rest. */
export function specBytes(spec: TaskSpec): number {
  let n = 256;
  for (const a of spec.args) n += a.value?.data.byteLength ?? 0;
  return n;
}

export interface GraphSubmission {
  clientId: string;
  functions: FunctionDef[];
  tasks: TaskSpec[];
  /** The keys the client holds futures for. */
  wanted: string[];
}

/** A value sent by Scatter, encoded (protocol/values.ts). */
export interface KeyValue {
  key: string;
  value: EncodedValue;
}

/** What Gather returns for one key: its value, or why it is gone (its worker died). */
export type GatheredValue = KeyValue | { key: string; missing: string };

/** What a task raised on its worker. */
export interface RemoteFailure {
  name: string;
  message: string;
  stack: string;
  worker: string;
}

/** A key's news from the scheduler's session stream. */
export type KeyEvent =
  /** value: the result itself, when the worker sent it along (small values this client waits on). */
  | { key: string; state: 'finished'; value?: EncodedValue }
  | { key: string; state: 'erred'; error: RemoteFailure }
  | { key: string; state: 'cancelled' }
  | { key: string; state: 'lost'; why: string };

// Client.clusterInfo()'s result is public API: its types live, importing nothing, in cluster-info.ts.
export type { ClusterInfo, WorkerInfo } from './cluster-info.js';
