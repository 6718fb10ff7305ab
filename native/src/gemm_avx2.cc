// AVX2/FMA SGEMM kernels. Compiled with -mavx2 -mfma; only reached after the driver has checked
// __builtin_cpu_supports("avx2") && ("fma"). Everything but the getter is in an anonymous
// namespace (see the ODR note in gemm_internal.h).
#include <immintrin.h>

#include "gemm_internal.h"

namespace sl {
namespace gemm_detail {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;

// 6x16 register tile: 12 ymm accumulators + 2 for the B row + 1 broadcast = 15 of 16 registers.
// Per k: 2 loads of B, 6 broadcasts of A, 12 FMAs, which keeps both Zen 3 / Haswell FMA pipes
// busy without exceeding their load ports.
// beta == 0: C = alpha*acc (C not read). Otherwise C = fma(alpha, acc, beta*C); beta == 1
// goes through the same formula (beta*C is exact) so later K blocks round like the first.
__attribute__((always_inline)) inline void tile_6x16(int kc, const float* __restrict A,
                                                     const float* __restrict B, float* C, long ldc,
                                                     float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

  // C is only touched after the whole K loop; start pulling it in now.
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NR - 1), _MM_HINT_T0);
  }

#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(B);
    const __m256 b1 = _mm256_load_ps(B + 8);
    __m256 a;
    a = _mm256_broadcast_ss(A + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(A + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(A + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(A + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(A + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(A + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    A += MR;
    B += NR;
  }

  const __m256 va = _mm256_set1_ps(alpha);
  if (beta == 0.0f) {
    _mm256_storeu_ps(C + 0 * ldc, _mm256_mul_ps(va, c00)); _mm256_storeu_ps(C + 0 * ldc + 8, _mm256_mul_ps(va, c01));
    _mm256_storeu_ps(C + 1 * ldc, _mm256_mul_ps(va, c10)); _mm256_storeu_ps(C + 1 * ldc + 8, _mm256_mul_ps(va, c11));
    _mm256_storeu_ps(C + 2 * ldc, _mm256_mul_ps(va, c20)); _mm256_storeu_ps(C + 2 * ldc + 8, _mm256_mul_ps(va, c21));
    _mm256_storeu_ps(C + 3 * ldc, _mm256_mul_ps(va, c30)); _mm256_storeu_ps(C + 3 * ldc + 8, _mm256_mul_ps(va, c31));
    _mm256_storeu_ps(C + 4 * ldc, _mm256_mul_ps(va, c40)); _mm256_storeu_ps(C + 4 * ldc + 8, _mm256_mul_ps(va, c41));
    _mm256_storeu_ps(C + 5 * ldc, _mm256_mul_ps(va, c50)); _mm256_storeu_ps(C + 5 * ldc + 8, _mm256_mul_ps(va, c51));
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
    auto upd = [&](float* p, __m256 acc) {
      _mm256_storeu_ps(p, _mm256_fmadd_ps(va, acc, _mm256_mul_ps(vb, _mm256_loadu_ps(p))));
    };
    upd(C + 0 * ldc, c00); upd(C + 0 * ldc + 8, c01);
    upd(C + 1 * ldc, c10); upd(C + 1 * ldc + 8, c11);
    upd(C + 2 * ldc, c20); upd(C + 2 * ldc + 8, c21);
    upd(C + 3 * ldc, c30); upd(C + 3 * ldc + 8, c31);
    upd(C + 4 * ldc, c40); upd(C + 4 * ldc + 8, c41);
    upd(C + 5 * ldc, c50); upd(C + 5 * ldc + 8, c51);
  }
}

// Ragged edge: run the identical full tile on a private copy so the arithmetic matches the
// interior (required for thread-count independence), then copy the valid part back.
__attribute__((noinline)) void tile_edge(int kc, const float* A, const float* B, float* C, long ldc,
                                         int mr, int nr, float alpha, float beta) {
  alignas(32) float t[MR * NR];
  if (beta != 0.0f)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) t[i * NR + j] = (i < mr && j < nr) ? C[i * ldc + j] : 0.0f;
  tile_6x16(kc, A, B, t, NR, alpha, beta);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) C[i * ldc + j] = t[i * NR + j];
}

void macro_6x16(int kc, const float* Ap, const float* Bp, float* C, long ldc, int mc, int nc,
                float alpha, float beta) {
  for (int j = 0; j < nc; j += NR, Bp += (long)kc * NR) {
    const int nr = imin(NR, nc - j);
    const float* a = Ap;
    for (int i = 0; i < mc; i += MR, a += (long)kc * MR) {
      const int mr = imin(MR, mc - i);
      float* c = C + i * ldc + j;
      if (mr == MR && nr == NR)
        tile_6x16(kc, a, Bp, c, ldc, alpha, beta);
      else
        tile_edge(kc, a, Bp, c, ldc, mr, nr, alpha, beta);
    }
  }
}

// KC*NR*4 = 16 KB: one B micro-panel plus the streaming A micro-panel fit Zen 3's 32 KB L1.
// MC*KC*4 = 120 KB of packed A stays in the 512 KB L2 with plenty of room for the B panels
// passing through; measured on Zen 3, MC=120 beat 240 on 1024/2048 squares by ~5% and tied on
// the model shapes. NC*KC*4 = 3 MB of packed B per thread, well inside L3.
constexpr KernelSet kAvx2 = {"avx2", MR, NR, 120, 256, 3072,
                             pack_a_8wide<MR>, pack_b_8wide<NR>, macro_6x16};

}  // namespace

const KernelSet* avx2_kernels() { return &kAvx2; }

}  // namespace gemm_detail
}  // namespace sl
