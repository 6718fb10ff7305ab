// AVX-512 SGEMM kernels. Compiled with -mavx512f -mavx512dq -mfma; only reached after the driver
// has checked __builtin_cpu_supports("avx512f") (and avx512dq, avx2, fma). Mirrors gemm_avx2.cc
// with a 12x32 zmm tile. Everything but the getter is in an anonymous namespace (see the ODR
// note in gemm_internal.h). Nothing here may run at static-initialisation time.
#include <immintrin.h>

#include "gemm_internal.h"

namespace sl {
namespace gemm_detail {
namespace {

constexpr int MR = 12;
constexpr int NR = 32;

// 12x32 register tile: 24 zmm accumulators + 2 for the B row + 1 broadcast = 27 of 32
// registers (the BLIS SKX shape). Per k: 2 loads of B, 12 broadcasts (folded into the FMAs as
// {1to16} memory operands), 24 FMAs.
// Same update formula as the AVX2 tile: beta == 0 -> alpha*acc (C not read), else
// fma(alpha, acc, beta*C).
__attribute__((always_inline)) inline void tile_12x32(int kc, const float* __restrict A,
                                                      const float* __restrict B, float* C, long ldc,
                                                      float alpha, float beta) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    c0[r] = _mm512_setzero_ps();
    c1[r] = _mm512_setzero_ps();
  }

  // C is only touched after the whole K loop; start pulling it in now (2 lines per row).
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NR - 1), _MM_HINT_T0);
  }

#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(B);
    const __m512 b1 = _mm512_load_ps(B + 16);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(A[r]);
      c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
    A += MR;
    B += NR;
  }

  const __m512 va = _mm512_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      _mm512_storeu_ps(C + r * ldc, _mm512_mul_ps(va, c0[r]));
      _mm512_storeu_ps(C + r * ldc + 16, _mm512_mul_ps(va, c1[r]));
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      float* p = C + r * ldc;
      _mm512_storeu_ps(p, _mm512_fmadd_ps(va, c0[r], _mm512_mul_ps(vb, _mm512_loadu_ps(p))));
      _mm512_storeu_ps(p + 16, _mm512_fmadd_ps(va, c1[r], _mm512_mul_ps(vb, _mm512_loadu_ps(p + 16))));
    }
  }
}

// Ragged edge: identical full tile on a private copy (bit-identical to the interior), then copy
// the valid part back.
__attribute__((noinline)) void tile_edge(int kc, const float* A, const float* B, float* C, long ldc,
                                         int mr, int nr, float alpha, float beta) {
  alignas(64) float t[MR * NR];
  if (beta != 0.0f)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) t[i * NR + j] = (i < mr && j < nr) ? C[i * ldc + j] : 0.0f;
  tile_12x32(kc, A, B, t, NR, alpha, beta);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) C[i * ldc + j] = t[i * NR + j];
}

void macro_12x32(int kc, const float* Ap, const float* Bp, float* C, long ldc, int mc, int nc,
                 float alpha, float beta) {
  for (int j = 0; j < nc; j += NR, Bp += (long)kc * NR) {
    const int nr = imin(NR, nc - j);
    const float* a = Ap;
    for (int i = 0; i < mc; i += MR, a += (long)kc * MR) {
      const int mr = imin(MR, mc - i);
      float* c = C + i * ldc + j;
      if (mr == MR && nr == NR)
        tile_12x32(kc, a, Bp, c, ldc, alpha, beta);
      else
        tile_edge(kc, a, Bp, c, ldc, mr, nr, alpha, beta);
    }
  }
}

// KC*NR*4 = 32 KB B micro-panel for a 48 KB L1 (Ice Lake / Sapphire Rapids; on Skylake-X's 32 KB
// L1 it streams partly from L2, as BLIS's SKX setting does). MC*KC*4 = 384 KB of packed A for the
// 1-2 MB L2 of AVX-512 parts. NC*KC*4 = 3 MB of packed B per thread.
constexpr KernelSet kAvx512 = {"avx512", MR, NR, 384, 256, 3072,
                               pack_a_8wide<MR>, pack_b_8wide<NR>, macro_12x32};

}  // namespace

const KernelSet* avx512_kernels() { return &kAvx512; }

}  // namespace gemm_detail
}  // namespace sl
