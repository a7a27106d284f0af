// Built-in kernels (DataFrame, ML): functions of the installed package that tasks name
// ("df/stage") instead of carrying source. They run in the worker's own process, so their
// results can stay native objects in the data store (Polars frames) and their heavy work runs
// on the native library's own threads, never crossing a thread boundary. Pool kernels
// ("ml/map") are the exception: JavaScript number crunching that runs in a task thread, its
// inputs handed over as shared memory (threadInput) rather than copied. Each family is
// loaded the first time one of its kernels runs: a worker that runs none loads none.
import type { EncodedValue } from '../../protocol/value-codec.js';
import type { NativeValue, StoredValue } from './data-store.js';
import type { PartOf } from './parts.js';
import type { ValuePart } from './peer-server.js';
import type { ExchangePart } from './mailbox.js';
import type { SharedMemory } from './shared-memory.js';
import type { MessagePort } from 'node:worker_threads';
import type { LinkTls } from './peer-links.js';

export interface KernelContext {
  /** The task's key, for messages. */
  key: string;
  /** The worker's threads (what a kernel may use at once). */
  nthreads: number;
  /** The worker's memory limit in bytes (0 or absent: none). */
  memoryLimit?: number;
  /** A barrier's inputs and their holders' addresses, in argument order (it reads none of their data). */
  inputsAt?: Array<[string, string[]]>;
  /** Part `part` of each key: whole from this worker's store, else only that part from a holder (parts.ts). */
  readParts(holders: ReadonlyArray<readonly [string, readonly string[]]>, part: ValuePart): Promise<PartOf[]>;
  /** Aborted when the task is interrupted (released, cancelled): a long kernel stops at its next await. */
  signal?: AbortSignal;
  /** For kernels that run as one task on each of several workers and talk among themselves. */
  collective?: Collective;
}

/** What a collective kernel (ml/gbdt-grow) may do beyond a kernel's usual. */
export interface Collective {
  /** This worker's address, as its peers reach it. */
  address: string;
  /** Hands a part to the worker at `address`, whose task of part.group takes it (mailbox.ts). */
  send(address: string, part: ExchangePart): Promise<void>;
  /** Parts `ranks` of `step` (Mailbox.take), or the group's failure; `signal` stops the wait (as the task's interruption does). */
  take(group: string, step: number, ranks: readonly number[], timeoutMs: number, signal?: AbortSignal): Promise<Map<number, Uint8Array>>;
  /** Why the group has ended here (a peer failed), or undefined: a task that starts late stops at once. */
  ended(group: string): string | undefined;
  /** This worker's task of the group has ended: parts still held or coming are dropped. */
  close(group: string): void;
  /**
   * Runs pool kernel `name` in a task thread on `inputs`, as a task of its own would, and gives
   * its result (it runs to its end even if the task is interrupted). `port` goes to the kernel
   * as its last argument; `whole`: on a thread of its own (TaskPool's PoolTask).
   */
  runPool(name: string, params: unknown, inputs: StoredValue[], options?: { port?: MessagePort; whole?: boolean }): Promise<EncodedValue>;
  /** This worker's task threads with nothing to do now. */
  idleThreads(): number;
  /** Where this worker's task threads listen for their peers' links (peer-links.ts), and the worker's TLS material for them. */
  links: { host: string; tls?: LinkTls };
}

/** A kernel gets its literal parameters and its input values, in the order of the task's key arguments. */
export type Kernel = (params: unknown, inputs: StoredValue[], context: KernelContext) => Promise<EncodedValue | NativeValue>;

export type KernelFamily = Readonly<Record<string, Kernel>>;

/**
 * A kernel run in a task thread: the thread calls export `exportName` of `moduleUrl` (a module
 * of the installed package) with the task's parameters and its inputs, each as `threadInput`
 * makes it from the stored value (a view of a SharedArrayBuffer travels to the thread shared).
 */
export interface PoolKernel {
  moduleUrl: string;
  exportName: string;
  /** `memory`: the shared WebAssembly.Memory the bytes view, to go along (see shared-memory.ts). */
  threadInput(value: StoredValue): EncodedValue & { memory?: SharedMemory };
  /**
   * The native form of an input that arrived as bytes (fetched from a peer, read back from
   * disk): decoded once, and kept so in the store while in memory, so later tasks pass it on
   * without decoding again.
   */
  adopt?(value: EncodedValue): NativeValue;
}

export type PoolKernelFamily = Readonly<Record<string, PoolKernel>>;

interface Family {
  kernels: KernelFamily;
  poolKernels?: PoolKernelFamily;
}

const families: Record<string, () => Promise<Family>> = {
  df: () => import('../../dataframe/kernels/index.js'),
  ml: () => import('../../ml/core/worker-kernels.js'),
  onnx: () => import('../../ml/onnx/kernels.js'),
};

const loaded = new Map<string, Promise<Family>>();

/** Kernels a peer may ask to cut a value into parts (FetchRequest.part): nothing else runs on a peer's word. */
const PART_CUTTERS: ReadonlySet<string> = new Set(['df/bucket']);

export async function resolvePartCutter(name: string): Promise<Kernel | undefined> {
  return PART_CUTTERS.has(name) ? resolveKernel(name) : undefined;
}

/** The kernel called `name` ("family/kernel") that runs on the worker's main thread, or undefined when there is none. */
export async function resolveKernel(name: string): Promise<Kernel | undefined> {
  const kernels = (await loadFamily(name))?.kernels;
  return kernels && Object.hasOwn(kernels, name) ? kernels[name] : undefined;
}

/** The pool kernel called `name`, or undefined when there is none. */
export async function resolvePoolKernel(name: string): Promise<PoolKernel | undefined> {
  const kernels = (await loadFamily(name))?.poolKernels;
  return kernels && Object.hasOwn(kernels, name) ? kernels[name] : undefined;
}

function loadFamily(name: string): Promise<Family> | undefined {
  const family = name.slice(0, name.indexOf('/'));
  const load = Object.hasOwn(families, family) ? families[family] : undefined;
  if (!load) return undefined;
  let kernels = loaded.get(family);
  if (!kernels) loaded.set(family, (kernels = load()));
  return kernels;
}
