// Which pending parts a task of their own makes: what reads such a part whole (a split, a
// kernel, a cut into slices) has it made first, as a key, instead of taking over its work.
import type { Part } from './lower.js';

/** A take's, a join's or a kernel's part (a read or a concatenation fuses into its reader). */
export function madeByTask(part: Part): boolean {
  return part.take !== undefined || part.join !== undefined || part.kernel !== undefined;
}
