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

// The binary log loss's gradient and hessian of row i (losses.ts binaryGradients): from
// E = e^-F, which add_leaf_binary keeps up to date, p = 1 / (1 + E) with no exponential at all.
// E = inf gives p = 0, E = 0 p = 1: the limits.
INLINE void logistic_row(int32_t i, const double *restrict E, const double *restrict y, double *restrict g, double *restrict h) {
  double p = 1 / (1 + E[i]);
  g[i] = p - y[i];
  h[i] = p * (1 - p);
}

// logistic_row for rows i and i + 1 at once, in the two lanes of a 128-bit vector: the same
// operations in the same order in each lane (wasm has no fused multiply-add), so the same bits.
INLINE void logistic_pair(int32_t i, const double *restrict E, const double *restrict y, double *restrict g, double *restrict h) {
  const v128_t one = wasm_f64x2_splat(1);
  const v128_t p = wasm_f64x2_div(one, wasm_f64x2_add(one, wasm_v128_load(E + i)));
  wasm_v128_store(g + i, wasm_f64x2_sub(p, wasm_v128_load(y + i)));
  wasm_v128_store(h + i, wasm_f64x2_mul(p, wasm_f64x2_sub(one, p)));
}

void logistic(const double *restrict E, const double *restrict y, double *restrict g, double *restrict h, int32_t n) {
  int32_t i = 0;
  for (; i + 1 < n; i += 2) logistic_pair(i, E, y, g, h);
  if (i < n) logistic_row(i, E, y, g, h);
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

INLINE void logistic_root_p(const double *restrict E, const double *restrict y, double *restrict g, double *restrict h, int32_t n,
                            const uint32_t *restrict valRows, int32_t nVal, uint32_t *restrict trainRows,
                            const uint8_t *restrict binned, const int32_t p, const int32_t *restrict offsets, double *restrict hist) {
  int32_t at[MAX_SPECIAL];
  for (int32_t f = 0; f < p; f++) at[f] = 3 * offsets[f];
  int32_t t = 0, v = 0, r = 0;
  // Two rows at a time: their gradients in one logistic_pair, then each row's histogram slots
  // (a fixed count of two: ~20 % faster than one loop that also takes the odd last row).
  for (; r + 1 < n; r += 2) {
    logistic_pair(r, E, y, g, h);
    for (int32_t j = r; j < r + 2; j++) root_row(j, g, h, valRows, nVal, &v, trainRows, &t, binned, p, at, hist);
  }
  if (r < n) {
    logistic_row(r, E, y, g, h);
    root_row(r, g, h, valRows, nVal, &v, trainRows, &t, binned, p, at, hist);
  }
}

// Returns 0 when p is past MAX_SPECIAL (nothing done: the caller runs the three loops).
int32_t logistic_root(const double *restrict E, const double *restrict y, double *restrict g, double *restrict h, int32_t n,
                      const uint32_t *restrict valRows, int32_t nVal, uint32_t *restrict trainRows,
                      const uint8_t *restrict binned, int32_t p, const int32_t *restrict offsets, double *restrict hist) {
  switch (p) {
#define CASE(P) case P: logistic_root_p(E, y, g, h, n, valRows, nVal, trainRows, binned, P, offsets, hist); return 1;
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

// add_leaf for a binary state, which also keeps each row's E = e^-F: times `factor`, e^-value.
// Returns how many rows' E left [2^-1000, 2^1000] (or is NaN): a product stuck at 0 or infinity
// would not come back, so the caller computes those from F again (rounds.ts: Math.exp is not
// this module's).
int32_t add_leaf_binary(double *restrict F, double *restrict E, const uint32_t *restrict rows, int32_t start, int32_t end, double value, double factor) {
  int32_t outside = 0;
  for (int32_t i = start; i < end; i++) {
    uint32_t r = rows[i];
    F[r] += value;
    double e = E[r] * factor;
    E[r] = e;
    outside += !(e >= 0x1p-1000 && e <= 0x1p1000);
  }
  return outside;
}
