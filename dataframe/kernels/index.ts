// The DataFrame kernels workers run by name ("df/..."), see worker/runtime/builtins.ts.
import type { KernelFamily } from '../../worker/runtime/builtins.js';
import { collect } from './collect.js';
import { join } from './join.js';
import { barrier, bucket, split, take } from './shuffle.js';
import { boundaries, sample } from './sort.js';
import { stage } from './stage.js';
import { writeParquet } from './write-parquet.js';

export const kernels: KernelFamily = {
  'df/stage': stage,
  'df/collect': collect,
  'df/split': split,
  'df/barrier': barrier,
  'df/bucket': bucket,
  'df/take': take,
  'df/join': join,
  'df/write-parquet': writeParquet,
  'df/sample': sample,
  'df/boundaries': boundaries,
};
