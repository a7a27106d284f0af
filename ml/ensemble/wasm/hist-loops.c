// The two loops of a boosting round (ml/ensemble/hist-loops.ts) in C, compiled to WebAssembly by
// scripts/build-wasm.mjs into hist-loops-wasm.ts. They run on a state that lives in a shared
// WebAssembly.Memory (state.ts): the pointers are byte offsets into it. They must do exactly
// what the JavaScript loops do, in the same order (the models are the same to the bit either
// way), and touch no memory but what they are given: no stack, no globals, no data (the build
// checks), since the whole memory is the state.
#include <stdint.h>

// Adds the rows' gradients, hessians and counts to their bins' slots, feature by feature.
void build(const uint32_t *rows, int32_t start, int32_t end, const uint8_t *binned, int32_t p, const int32_t *offsets,
           const double *g, const double *h, double *hg, double *hh, double *hc) {
  for (int32_t i = start; i < end; i++) {
    uint32_t r = rows[i];
    double gr = g[r], hr = h[r];
    const uint8_t *b = binned + r * (uint32_t)p;
    for (int32_t f = 0; f < p; f++) {
      int32_t o = offsets[f] + b[f];
      hg[o] += gr;
      hh[o] += hr;
      hc[o] += 1;
    }
  }
}

// Splits rows[start, end) stably into those whose bin of `feature` goes left and the rest;
// returns where the right side starts.
int32_t partition(uint32_t *rows, int32_t start, int32_t end, const uint8_t *binned, int32_t p, int32_t feature, const uint8_t *goes,
                  uint32_t *scratch) {
  int32_t l = start, rn = 0;
  for (int32_t i = start; i < end; i++) {
    uint32_t r = rows[i];
    int32_t left = goes[binned[r * (uint32_t)p + feature]];
    rows[l] = r;
    scratch[rn] = r;
    l += left;
    rn += 1 - left;
  }
  for (int32_t j = 0; j < rn; j++) rows[l + j] = scratch[j];
  return l;
}
