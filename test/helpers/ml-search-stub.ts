// A stand-in estimator for the searches' tests: its fit and score touch no data; it counts how
// many of its fits run at once.
import type { DataFrame } from '../../dataframe/frame.js';

export const fits = { running: 0, mostRunning: 0 };

/** Scores `quality`; its fit fails when `fail` is set, its score when `scoreFails` is. */
export class Stub {
  fitted = false;
  constructor(readonly params: Record<string, unknown> = { quality: 0, fail: false }) {}
  getParams() { return { ...this.params }; }
  withParams(p: Record<string, unknown>) { return new Stub({ ...this.params, ...p }) as this; }
  async fit(): Promise<this> {
    fits.running++;
    fits.mostRunning = Math.max(fits.mostRunning, fits.running);
    await new Promise((resolve) => setImmediate(resolve));
    fits.running--;
    if (this.params.fail) throw new Error(`stub told to fail (quality ${String(this.params.quality)})`);
    this.fitted = true;
    return this;
  }
  predict(X: DataFrame) { return X; }
  async score(): Promise<number> {
    if (this.params.scoreFails) throw new Error('stub scorer told to fail');
    return this.params.quality as number;
  }
}
