// A KernelContext for running DataFrame kernels in the test's own process, as a worker would:
// values live in `store`; a barrier gets its inputs' "holders" (this process); a take reads
// whole splits from the store, as a worker reads those it holds itself.
import type { KernelContext } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import type { PlannedTask } from '../../dataframe/plan/tasks.js';

export const LOCAL = 'local:0';

export function kernelContext(key: string, store: ReadonlyMap<string, StoredValue> = new Map(), task?: PlannedTask): KernelContext {
  return {
    key,
    nthreads: 1,
    inputsAt: task?.barrier ? task.inputs.map((k) => [k, [LOCAL]]) : undefined,
    readParts: async (holders) => holders.map(([k]) => {
      const whole = store.get(k);
      if (!whole) throw new Error(`test store lacks ${k}`);
      return { key: k, whole };
    }),
  };
}
