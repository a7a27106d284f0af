// Built-in kernels (DataFrame, ML): functions of the installed package that tasks name
// ("df/stage") instead of carrying source. They run in the worker's own process, so their
// results can stay native objects in the data store (Polars frames) and their heavy work runs
// on the native library's own threads, never crossing a thread boundary. Each family is
// loaded the first time one of its kernels runs: a worker that runs none loads none.
import type { EncodedValue } from '../../protocol/value-codec.js';
import type { NativeValue, StoredValue } from './data-store.js';

export interface KernelContext {
  /** The task's key, for messages. */
  key: string;
  /** The worker's threads (what a kernel may use at once). */
  nthreads: number;
}

/** A kernel gets its literal parameters and its input values, in the order of the task's key arguments. */
export type Kernel = (params: unknown, inputs: StoredValue[], context: KernelContext) => Promise<EncodedValue | NativeValue>;

export type KernelFamily = Readonly<Record<string, Kernel>>;

const families: Record<string, () => Promise<KernelFamily>> = {
  df: async () => (await import('../../dataframe/kernels/index.js')).kernels,
  onnx: async () => (await import('../../ml/onnx/kernels.js')).kernels,
};

const loaded = new Map<string, Promise<KernelFamily>>();

/** The kernel called `name` ("family/kernel"), or undefined when there is none. */
export async function resolveKernel(name: string): Promise<Kernel | undefined> {
  const family = name.slice(0, name.indexOf('/'));
  const load = families[family];
  if (!load) return undefined;
  let kernels = loaded.get(family);
  if (!kernels) loaded.set(family, (kernels = load()));
  const all = await kernels;
  return Object.hasOwn(all, name) ? all[name] : undefined;
}
