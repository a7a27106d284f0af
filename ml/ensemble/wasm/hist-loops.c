// The loops of a boosting round (ml/ensemble/hist-loops.ts, and losses.ts's binary gradients)
// in C, compiled to WebAssembly by scripts/build-wasm.mjs into hist-loops-wasm.ts. They run on
// a state that lives in a shared WebAssembly.Memory (state.ts): the pointers are byte offsets
// into it. They must do exactly what the JavaScript loops do, in the same order (the models are
// the same to the bit either way), and touch no memory but what they are given: no stack, no
// globals, no data (the build checks), since the whole memory is the state.
//
// Each loop is written once and inlined for every feature count up to MAX_SPECIAL with p a
// constant: the row's bins are then at fixed strides and the features' offsets stay in
// registers (restrict: no store to the histogram can change them), ~1.5 times faster.
#include <stdint.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))
#define MAX_SPECIAL 8
// One case of a switch on p for each count up to MAX_SPECIAL, with CASE(P) defined around it.
#define SPECIAL_CASES CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)

// Adds the rows' gradients, hessians and counts to their bins' slots, feature by feature, row by
// row (the JavaScript loop's order, so every slot's sums are the same). A slot is three doubles
// side by side, gradient, hessian, count: one cache line where three arrays took three.
// One row: `at` holds each feature's first slot (times 3), `b` the row's bins.
INLINE void add_row(double *restrict hist, const int32_t *at, const uint8_t *restrict b, const int32_t p, double gr, double hr) {
  for (int32_t f = 0; f < p; f++) {
    double *slot = hist + at[f] + 3 * b[f];
    slot[0] += gr;
    slot[1] += hr;
    slot[2] += 1;
  }
}

// add_row with the gradient and hessian in one vector, added to the slot's first two doubles at once.
INLINE void add_row_pair(double *restrict hist, const int32_t *at, const uint8_t *restrict b, const int32_t p, v128_t gh) {
  for (int32_t f = 0; f < p; f++) {
    double *slot = hist + at[f] + 3 * b[f];
    wasm_v128_store(slot, wasm_f64x2_add(wasm_v128_load(slot), gh));
    slot[2] += 1;
  }
}

INLINE void build_p(const uint32_t *restrict rows, int32_t start, int32_t end, const uint8_t *restrict binned, const int32_t p,
                    const int32_t *restrict offsets, const double *restrict g, const double *restrict h, double *restrict hist) {
  int32_t at[MAX_SPECIAL];
  for (int32_t f = 0; f < p; f++) at[f] = 3 * offsets[f];
  for (int32_t i = start; i < end; i++) {
    uint32_t r = rows[i];
    add_row(hist, at, binned + r * (uint32_t)p, p, g[r], h[r]);
  }
}

void build(const uint32_t *restrict rows, int32_t start, int32_t end, const uint8_t *restrict binned, int32_t p, const int32_t *restrict offsets,
           const double *restrict g, const double *restrict h, double *restrict hist) {
  switch (p) {
#define CASE(P) case P: build_p(rows, start, end, binned, P, offsets, g, h, hist); return;
    SPECIAL_CASES
#undef CASE
  }
  // Wider: each feature's offset read as it comes (no room to keep them: this module has no stack).
  for (int32_t i = start; i < end; i++) {
    uint32_t r = rows[i];
    double gr = g[r], hr = h[r];
    const uint8_t *b = binned + r * (uint32_t)p;
    for (int32_t f = 0; f < p; f++) {
      double *slot = hist + 3 * (offsets[f] + b[f]);
      slot[0] += gr;
      slot[1] += hr;
      slot[2] += 1;
    }
  }
}

// Splits rows[start, end) stably into those whose bin of `feature` goes left and the rest;
// returns where the right side starts.
INLINE int32_t partition_p(uint32_t *restrict rows, int32_t start, int32_t end, const uint8_t *restrict binned, const int32_t p, int32_t feature,
                           const uint8_t *restrict goes, uint32_t *restrict scratch) {
  const uint8_t *column = binned + feature;
  int32_t l = start, rn = 0;
  for (int32_t i = start; i < end; i++) {
    uint32_t r = rows[i];
    int32_t left = goes[column[r * (uint32_t)p]];
    rows[l] = r;
    scratch[rn] = r;
    l += left;
    rn += 1 - left;
  }
  __builtin_memcpy(rows + l, scratch, 4 * (uint32_t)rn);
  return l;
}

int32_t partition(uint32_t *restrict rows, int32_t start, int32_t end, const uint8_t *restrict binned, int32_t p, int32_t feature,
                  const uint8_t *restrict goes, uint32_t *restrict scratch) {
  switch (p) {
#define CASE(P) case P: return partition_p(rows, start, end, binned, P, feature, goes, scratch);
    SPECIAL_CASES
#undef CASE
  }
  return partition_p(rows, start, end, binned, p, feature, goes, scratch);
}

// e^x as ml/core/exp.ts's fastExp computes it, operation for operation (the results are the same
// to the bit): 2^(k/64) from its table of 64 (`fraction`, in the state: this module has no data)
// and 2^(k >> 6) made from its exponent bits; outside fastExp's range, Math.exp (imported).
double js_exp(double x) __attribute__((import_module("env"), import_name("exp")));

INLINE double fast_exp(double x, const double *restrict fraction) {
  if (!(x > -708 && x < 709)) return js_exp(x);
  const double scale = 64 / 0.6931471805599453, round = 6755399441055744.0;
  const double ln2_hi = 6.93147180369123816490e-1 / 64, ln2_lo = 1.90821492927058770002e-10 / 64;
  // k from the low bits of x * scale + round (an integer there) rather than by truncating kf,
  // which V8 guards against overflow: the loop ~20% faster, k the same.
  union { double value; uint64_t bits; } shifted = { .value = x * scale + round };
  double kf = shifted.value - round;
  int32_t k = (int32_t)shifted.bits;
  double r = x - kf * ln2_hi - kf * ln2_lo;
  double r2 = r * r;
  double q = r + r2 * (0.5 + r * (1.0 / 6)) + r2 * r2 * (1.0 / 24 + r * (1.0 / 120) + r2 * (1.0 / 720));
  double t = fraction[k & 63];
  union { uint64_t bits; double value; } pow2 = { .bits = (uint64_t)((k >> 6) + 1023) << 52 };
  return (t + t * q) * pow2.value;
}

// The binary log loss's gradient and hessian of row i from its raw score (losses.ts).
INLINE void logistic_row(int32_t i, const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, const double *restrict fraction) {
  double z = F[i];
  double e = fast_exp(-__builtin_fabs(z), fraction);
  double p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
  g[i] = p - y[i];
  h[i] = p * (1 - p);
}

// logistic_row for rows i and i + 1 at once, in the two lanes of 128-bit vectors: the same
// operations in the same order in each lane (wasm has no fused multiply-add), so the same bits;
// 2.5 times faster. Where either row is outside fast_exp's range, both go row by row.
INLINE void logistic_pair(int32_t i, const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, const double *restrict fraction) {
  const v128_t z = wasm_v128_load(F + i);
  const v128_t x = wasm_f64x2_neg(wasm_f64x2_abs(z));
  if (!wasm_i64x2_all_true(wasm_f64x2_gt(x, wasm_f64x2_splat(-708)))) {
    logistic_row(i, F, y, g, h, fraction);
    logistic_row(i + 1, F, y, g, h, fraction);
    return;
  }
  // fast_exp, lane by lane (x <= 0 < 709).
  const v128_t round = wasm_f64x2_splat(6755399441055744.0);
  const v128_t shifted = wasm_f64x2_add(wasm_f64x2_mul(x, wasm_f64x2_splat(64 / 0.6931471805599453)), round);
  const v128_t kf = wasm_f64x2_sub(shifted, round);
  const int32_t k0 = (int32_t)wasm_i64x2_extract_lane(shifted, 0), k1 = (int32_t)wasm_i64x2_extract_lane(shifted, 1);
  const v128_t r = wasm_f64x2_sub(wasm_f64x2_sub(x, wasm_f64x2_mul(kf, wasm_f64x2_splat(6.93147180369123816490e-1 / 64))),
                                  wasm_f64x2_mul(kf, wasm_f64x2_splat(1.90821492927058770002e-10 / 64)));
  const v128_t r2 = wasm_f64x2_mul(r, r);
  const v128_t low = wasm_f64x2_mul(r2, wasm_f64x2_add(wasm_f64x2_splat(0.5), wasm_f64x2_mul(r, wasm_f64x2_splat(1.0 / 6))));
  const v128_t high = wasm_f64x2_mul(wasm_f64x2_mul(r2, r2), wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_splat(1.0 / 24), wasm_f64x2_mul(r, wasm_f64x2_splat(1.0 / 120))),
                                                                           wasm_f64x2_mul(r2, wasm_f64x2_splat(1.0 / 720))));
  const v128_t q = wasm_f64x2_add(wasm_f64x2_add(r, low), high);
  const v128_t t = wasm_f64x2_make(fraction[k0 & 63], fraction[k1 & 63]);
  const v128_t pow2 = wasm_i64x2_make((int64_t)((uint64_t)((k0 >> 6) + 1023) << 52), (int64_t)((uint64_t)((k1 >> 6) + 1023) << 52));
  const v128_t e = wasm_f64x2_mul(wasm_f64x2_add(t, wasm_f64x2_mul(t, q)), pow2);
  // p = z >= 0 ? 1 / (1 + e) : e / (1 + e)
  const v128_t p = wasm_f64x2_div(wasm_v128_bitselect(wasm_f64x2_splat(1), e, wasm_f64x2_ge(z, wasm_f64x2_splat(0))), wasm_f64x2_add(wasm_f64x2_splat(1), e));
  wasm_v128_store(g + i, wasm_f64x2_sub(p, wasm_v128_load(y + i)));
  wasm_v128_store(h + i, wasm_f64x2_mul(p, wasm_f64x2_sub(wasm_f64x2_splat(1), p)));
}

void logistic(const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, int32_t n, const double *restrict fraction) {
  int32_t i = 0;
  for (; i + 1 < n; i += 2) logistic_pair(i, F, y, g, h, fraction);
  if (i < n) logistic_row(i, F, y, g, h, fraction);
}

// A binary fit's tree starts: every row's gradient and hessian (logistic), the training rows back
// in row order (state.ts naturalOrder: every row not in valRows, ascending) and the root's
// histogram (build over them), in one pass instead of three; the same results.
// Row r of the root pass, its gradients made: a validation row is passed over, a training row
// goes into trainRows and the histogram.
INLINE void root_row(int32_t r, const double *restrict g, const double *restrict h, const uint32_t *restrict valRows, int32_t nVal, int32_t *v,
                     uint32_t *restrict trainRows, int32_t *t, const uint8_t *restrict binned, const int32_t p, const int32_t *at, double *restrict hist) {
  if (*v < nVal && valRows[*v] == (uint32_t)r) {
    ++*v;
    return;
  }
  trainRows[(*t)++] = (uint32_t)r;
  add_row_pair(hist, at, binned + r * (uint32_t)p, p, wasm_f64x2_make(g[r], h[r]));
}

INLINE void logistic_root_p(const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, int32_t n,
                            const double *restrict fraction, const uint32_t *restrict valRows, int32_t nVal, uint32_t *restrict trainRows,
                            const uint8_t *restrict binned, const int32_t p, const int32_t *restrict offsets, double *restrict hist) {
  int32_t at[MAX_SPECIAL];
  for (int32_t f = 0; f < p; f++) at[f] = 3 * offsets[f];
  int32_t t = 0, v = 0, r = 0;
  // Two rows at a time: their gradients in one logistic_pair, then each row's histogram slots
  // (a fixed count of two: ~20 % faster than one loop that also takes the odd last row).
  for (; r + 1 < n; r += 2) {
    logistic_pair(r, F, y, g, h, fraction);
    for (int32_t j = r; j < r + 2; j++) root_row(j, g, h, valRows, nVal, &v, trainRows, &t, binned, p, at, hist);
  }
  if (r < n) {
    logistic_row(r, F, y, g, h, fraction);
    root_row(r, g, h, valRows, nVal, &v, trainRows, &t, binned, p, at, hist);
  }
}

// Returns 0 when p is past MAX_SPECIAL (nothing done: the caller runs the three loops).
int32_t logistic_root(const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, int32_t n,
                      const double *restrict fraction, const uint32_t *restrict valRows, int32_t nVal, uint32_t *restrict trainRows,
                      const uint8_t *restrict binned, int32_t p, const int32_t *restrict offsets, double *restrict hist) {
  switch (p) {
#define CASE(P) case P: logistic_root_p(F, y, g, h, n, fraction, valRows, nVal, trainRows, binned, P, offsets, hist); return 1;
    SPECIAL_CASES
#undef CASE
  }
  return 0;
}

// Adds a leaf's value to the raw scores of its training rows, rows[start, end) (rounds.ts
// applyTree: each row is in one leaf, so each score gets one addition, as there).
void add_leaf(double *restrict F, const uint32_t *restrict rows, int32_t start, int32_t end, double value) {
  for (int32_t i = start; i < end; i++) F[rows[i]] += value;
}
