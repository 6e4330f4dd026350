/*
 * Single-core fp32 peak: 12 independent chains of fused multiply-adds on the widest vectors
 * the compiler targets (-march=native: AVX-512 here), kept in registers. Prints GFLOP/s. Used
 * by bench/throughput.ts to put the inference figures against what one core can do.
 */
#include <stdio.h>
#include <time.h>

#define LANES 16
typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

int main(void) {
  vec a, b, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
  for (int l = 0; l < LANES; l++) { a[l] = 0.999999f; b[l] = 1e-7f; }
  // Distinct starting values, so the compiler cannot merge the chains.
  c0 = b * 1; c1 = b * 2; c2 = b * 3; c3 = b * 4; c4 = b * 5; c5 = b * 6;
  c6 = b * 7; c7 = b * 8; c8 = b * 9; c9 = b * 10; c10 = b * 11; c11 = b * 12;
  const long iters = 100000000;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < iters; i++) {
#define STEP(c) c = c * a + b;
    STEP(c0) STEP(c1) STEP(c2) STEP(c3) STEP(c4) STEP(c5) STEP(c6) STEP(c7) STEP(c8) STEP(c9) STEP(c10) STEP(c11)
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
  vec sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  float sink = 0;
  for (int l = 0; l < LANES; l++) sink += sum[l];
  printf("%.1f %g\n", (double)iters * 12 * LANES * 2 / s / 1e9, sink);
  return 0;
}
