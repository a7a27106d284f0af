// The losses of histogram gradient boosting, scikit-learn's "half" losses: their baseline (the
// raw prediction before any tree), per-row gradient and hessian, and the loss itself (early
// stopping reads it on the validation rows). The multinomial gradients' exponentials are
// fastExp's (they run for every row at every iteration), and so are the sigmoid's, which binary
// predictions use (score.ts); the binary gradients need none (binaryGradients); the loss and
// multinomial predictions keep Math.exp.
import { fastExp } from '../core/exp.js';

/** squared: regression; binary: log loss on one raw score; multinomial: softmax over k scores. */
export type LossKind = 'squared' | 'binary' | 'multinomial';
export const LOSS_CODES: Record<LossKind, number> = { squared: 0, binary: 1, multinomial: 2 };
export const LOSS_BY_CODE: readonly LossKind[] = ['squared', 'binary', 'multinomial'];

/** The raw scores per output that minimise the loss with no tree: from the training rows' target sums. */
export function baseline(loss: LossKind, sums: { n: number; sumY: number; classCounts: number[] }): number[] {
  if (loss === 'squared') return [sums.sumY / sums.n];
  const eps = Number.EPSILON;
  const p = sums.classCounts.map((c) => Math.min(1 - eps, Math.max(eps, c / sums.n)));
  if (loss === 'binary') return [Math.log(p[1]! / (1 - p[1]!))];
  // The symmetric multinomial link: log p_k minus their mean.
  const logs = p.map(Math.log);
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  return logs.map((l) => l - mean);
}

/**
 * Gradients and hessians of every output of the n rows, from the raw scores F (output c of row i
 * at c * n + i) and the targets y (class indices for classifiers). Binary: binaryGradients.
 */
export function gradients(loss: LossKind, k: number, n: number, F: Float64Array, y: Float64Array, g: Float64Array, h: Float64Array): void {
  if (loss === 'binary') throw new Error('internal: the binary gradients are binaryGradients\'s, from e^-F');
  if (loss === 'squared') {
    for (let i = 0; i < n; i++) {
      g[i] = F[i]! - y[i]!;
      h[i] = 1;
    }
  } else {
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, F[c * n + i]!);
      // Each class's exponential, kept in its hessian's slot until the sum is known.
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const e = fastExp(F[c * n + i]! - max);
        h[c * n + i] = e;
        sum += e;
      }
      for (let c = 0; c < k; c++) {
        const p = h[c * n + i]! / sum;
        g[c * n + i] = p - (y[i] === c ? 1 : 0);
        h[c * n + i] = p * (1 - p);
      }
    }
  }
}

/**
 * The binary log loss's gradients and hessians of the n rows from E = e^-F (state.ts keeps it):
 * p = 1 / (1 + E), which is the sigmoid of F, and its limits where E is 0 or infinite. An
 * exponential per row per iteration was most of a binary tree's first round.
 */
export function binaryGradients(n: number, E: Float64Array, y: Float64Array, g: Float64Array, h: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const p = 1 / (1 + E[i]!);
    g[i] = p - y[i]!;
    h[i] = p * (1 - p);
  }
}

/** The summed loss over `rows` (indices into the n rows). */
export function lossSum(loss: LossKind, k: number, n: number, F: Float64Array, y: Float64Array, rows: Uint32Array): number {
  let sum = 0;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j]!;
    if (loss === 'squared') {
      const d = F[i]! - y[i]!;
      sum += 0.5 * d * d;
    } else if (loss === 'binary') {
      const z = F[i]!;
      // log(1 + e^z) - y z, without overflow
      sum += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z;
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, F[c * n + i]!);
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(F[c * n + i]! - max);
      sum += max + Math.log(s) - F[y[i]! * n + i]!;
    }
  }
  return sum;
}

export function sigmoid(z: number): number {
  const e = fastExp(-Math.abs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}
