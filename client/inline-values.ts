// Values that came with their keys' finish events (KeyEvent.value): small results a worker
// sent along because this client waits on them, so reading one needs no Gather. Kept until the
// key is released, lost or recomputed, within a byte budget: past it the oldest go, and
// reading those falls back to a Gather.
import type { EncodedValue } from '../protocol/values.js';

/** Bytes of inline values a client keeps at most. */
export const INLINE_VALUES_BUDGET_BYTES = 64 * 1024 * 1024;

export class InlineValues {
  private readonly values = new Map<string, EncodedValue>();
  private bytes = 0;

  constructor(private readonly budget = INLINE_VALUES_BUDGET_BYTES) {}

  put(key: string, value: EncodedValue): void {
    this.delete(key);
    if (value.data.byteLength > this.budget) return;
    this.values.set(key, value);
    this.bytes += value.data.byteLength;
    // Map iteration is insertion order: the first are the oldest.
    for (const [old, v] of this.values) {
      if (this.bytes <= this.budget) break;
      this.values.delete(old);
      this.bytes -= v.data.byteLength;
    }
  }

  get(key: string): EncodedValue | undefined {
    return this.values.get(key);
  }

  delete(key: string): void {
    const v = this.values.get(key);
    if (!v) return;
    this.values.delete(key);
    this.bytes -= v.data.byteLength;
  }

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }
}
