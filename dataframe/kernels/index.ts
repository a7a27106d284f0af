// The DataFrame kernels workers run by name ("df/..."), see worker/runtime/builtins.ts.
import type { KernelFamily } from '../../worker/runtime/builtins.js';
import { collect } from './collect.js';
import { split, take } from './shuffle.js';
import { boundaries, sample } from './sort.js';
import { stage } from './stage.js';

export const kernels: KernelFamily = {
  'df/stage': stage,
  'df/collect': collect,
  'df/split': split,
  'df/take': take,
  'df/sample': sample,
  'df/boundaries': boundaries,
};
