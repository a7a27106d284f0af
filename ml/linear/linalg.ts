// Small dense linear algebra for the client side of a fit: the systems are (features x classes)
// square, never the data, so plain loops are enough.

/** Cholesky factor L (row-major, lower) of the symmetric n x n matrix a; null when not positive definite. */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L L^T x = b. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) x[i]! -= l[i * n + k]! * x[k]!;
    x[i]! /= l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) x[i]! -= l[k * n + i]! * x[k]!;
    x[i]! /= l[i * n + i]!;
  }
  return x;
}

/**
 * The minimum-norm least-squares solution of the symmetric positive semi-definite system a x = b
 * (as numpy's lstsq gives for collinear features): Cholesky when a is well conditioned, else
 * the eigen-decomposition with eigenvalues below `rcond` times the largest treated as zero.
 */
export function solveSymmetric(a: ArrayLike<number>, n: number, b: ArrayLike<number>, rcond = 1e-12): Float64Array {
  const l = cholesky(a, n);
  if (l && conditionOk(l, n, rcond)) return choleskySolve(l, n, b);
  const { values, vectors } = symmetricEigen(a, n);
  const top = Math.max(0, ...values);
  const x = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (!(values[k]! > rcond * top)) continue;
    let proj = 0;
    for (let i = 0; i < n; i++) proj += vectors[i * n + k]! * b[i]!;
    proj /= values[k]!;
    for (let i = 0; i < n; i++) x[i]! += proj * vectors[i * n + k]!;
  }
  return x;
}

/** Diagonal of L squared spans the pivots: a tiny ratio means a nearly singular system. */
function conditionOk(l: Float64Array, n: number, rcond: number): boolean {
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const d = l[i * n + i]! ** 2;
    lo = Math.min(lo, d);
    hi = Math.max(hi, d);
  }
  return n === 0 || lo > Math.sqrt(rcond) * hi;
}

/** Cyclic Jacobi: eigenvalues and eigenvectors (columns of `vectors`, row-major) of a symmetric matrix. */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: number[]; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => m[i * n + i]!), vectors: v };
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
