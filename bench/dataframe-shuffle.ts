// The shuffle's cost as partitions grow: one flights-3m file read in P partitions and hashed by
// origin into P, then counted, for growing P. The rows are the same each time, so the growth
// is the per-partition cost: tasks, dependency edges (P + Q with the barrier, where a take
// depending on every split would make P x Q) and wall time.
import pl from 'nodejs-polars';
import type { Client } from '../client/client.js';
import { planTasks } from '../dataframe/plan/lower.js';
import { optimize } from '../dataframe/plan/optimize.js';
import { readParquet } from '../dataframe/sources.js';
import { median } from './stats.js';

export const SHUFFLE_PARTITIONS = [16, 64, 256] as const;
const ROWS = 3_000_000;

export interface ShuffleScale {
  partitions: number;
  tasks: number;
  /** Dependency edges of the whole query's graph. */
  edges: number;
  /** What the shuffle alone would add with every take depending on every split. */
  edges_if_p_times_q: number;
  median_s: number;
  runs_s: number[];
}

export async function shuffleScaling(client: Client, file: string, runs: number): Promise<ShuffleScale[]> {
  const out: ShuffleScale[] = [];
  for (const p of SHUFFLE_PARTITIONS) {
    const query = () => readParquet(file, { columns: ['origin', 'delay'], partitionRows: Math.ceil(ROWS / p) })
      .repartition({ by: 'origin', partitions: p })
      .select(pl.len().alias('rows'));
    const { tasks } = planTasks(optimize(query().plan), (g) => g);
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      const rows = Number((await query().compute({ client })).getColumn('rows').get(0));
      if (rows !== ROWS) throw new Error(`shuffle of ${p}: counted ${rows} rows, not ${ROWS}`);
      times.push((performance.now() - start) / 1000);
    }
    out.push({
      partitions: p, tasks: tasks.length, edges: tasks.reduce((n, t) => n + t.inputs.length, 0), edges_if_p_times_q: p * p,
      median_s: Math.round(median(times) * 1000) / 1000, runs_s: times.map((t) => Math.round(t * 1000) / 1000),
    });
  }
  return out;
}
