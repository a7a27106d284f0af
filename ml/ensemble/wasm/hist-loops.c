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

void logistic(const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, int32_t n, const double *restrict fraction) {
  for (int32_t i = 0; i < n; i++) logistic_row(i, F, y, g, h, fraction);
}

// A binary fit's tree starts: every row's gradient and hessian (logistic), the training rows back
// in row order (state.ts naturalOrder: every row not in valRows, ascending) and the root's
// histogram (build over them), in one pass instead of three; the same results.
INLINE void logistic_root_p(const double *restrict F, const double *restrict y, double *restrict g, double *restrict h, int32_t n,
                            const double *restrict fraction, const uint32_t *restrict valRows, int32_t nVal, uint32_t *restrict trainRows,
                            const uint8_t *restrict binned, const int32_t p, const int32_t *restrict offsets, double *restrict hist) {
  int32_t at[MAX_SPECIAL];
  for (int32_t f = 0; f < p; f++) at[f] = 3 * offsets[f];
  int32_t t = 0, v = 0;
  for (int32_t r = 0; r < n; r++) {
    logistic_row(r, F, y, g, h, fraction);
    if (v < nVal && valRows[v] == (uint32_t)r) {
      v++;
      continue;
    }
    trainRows[t++] = (uint32_t)r;
    add_row(hist, at, binned + r * (uint32_t)p, p, g[r], h[r]);
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
