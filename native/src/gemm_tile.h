// The SIMD SGEMM micro-kernel, written once over a vector type and compiled once per instruction
// set: gemm_avx2.cc instantiates it on 8-wide ymm vectors (a 6x16 tile), gemm_avx512.cc on
// 16-wide zmm vectors (12x32). Include only from a file compiled with that instruction set's
// flags. Everything is in an anonymous namespace, so each ISA file gets its own private copy
// (see the ODR note in gemm_internal.h).
//
// An Isa supplies: V, the vector; W, floats per vector; MR, rows per tile; and zero, load
// (aligned), loadu, storeu, set1, fmadd, mul. The tile is MR x 2W. The including file defines
// SL_GEMM_K_UNROLL, the k-loop unroll: GCC takes no template constant in `#pragma GCC unroll`.
#pragma once
#include <immintrin.h>

#ifndef SL_GEMM_K_UNROLL
#error "define SL_GEMM_K_UNROLL before including gemm_tile.h"
#endif
#define SL_GEMM_PRAGMA(x) _Pragma(#x)
#define SL_GEMM_UNROLL(n) SL_GEMM_PRAGMA(GCC unroll n)

#include "gemm_internal.h"

namespace sl {
namespace gemm_detail {
namespace {

// MR x 2W register tile: 2·MR accumulators, 2 vectors of the B row and 1 broadcast (15 of 16
// ymm registers for AVX2, 27 of 32 zmm for AVX-512, the BLIS SKX shape). Per k: 2 loads of B,
// MR broadcasts of A, 2·MR FMAs; every accumulator is one FMA chain over k in order.
// beta == 0: C = alpha*acc (C not read). Otherwise C = fma(alpha, acc, beta*C); beta == 1
// goes through the same formula (beta*C is exact) so later K blocks round like the first.
template <class Isa>
__attribute__((always_inline)) inline void tile(int kc, const float* __restrict A, const float* __restrict B,
                                                float* C, long ldc, float alpha, float beta) {
  using V = typename Isa::V;
  constexpr int MR = Isa::MR, W = Isa::W, NR = 2 * W;
  V c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    c0[r] = Isa::zero();
    c1[r] = Isa::zero();
  }

  // C is only touched after the whole K loop; start pulling it in now.
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NR - 1), _MM_HINT_T0);
  }

SL_GEMM_UNROLL(SL_GEMM_K_UNROLL)
  for (int k = 0; k < kc; ++k) {
    const V b0 = Isa::load(B);
    const V b1 = Isa::load(B + W);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const V a = Isa::set1(A[r]);
      c0[r] = Isa::fmadd(a, b0, c0[r]);
      c1[r] = Isa::fmadd(a, b1, c1[r]);
    }
    A += MR;
    B += NR;
  }

  const V va = Isa::set1(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      Isa::storeu(C + r * ldc, Isa::mul(va, c0[r]));
      Isa::storeu(C + r * ldc + W, Isa::mul(va, c1[r]));
    }
  } else {
    const V vb = Isa::set1(beta);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      float* p = C + r * ldc;
      Isa::storeu(p, Isa::fmadd(va, c0[r], Isa::mul(vb, Isa::loadu(p))));
      Isa::storeu(p + W, Isa::fmadd(va, c1[r], Isa::mul(vb, Isa::loadu(p + W))));
    }
  }
}

// Ragged edge: run the identical full tile on a private copy so the arithmetic matches the
// interior (required for thread-count independence), then copy the valid part back.
template <class Isa>
__attribute__((noinline)) void tile_edge(int kc, const float* A, const float* B, float* C, long ldc, int mr, int nr,
                                         float alpha, float beta) {
  constexpr int MR = Isa::MR, NR = 2 * Isa::W;
  alignas(sizeof(typename Isa::V)) float t[MR * NR];
  if (beta != 0.0f)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) t[i * NR + j] = (i < mr && j < nr) ? C[i * ldc + j] : 0.0f;
  tile<Isa>(kc, A, B, t, NR, alpha, beta);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) C[i * ldc + j] = t[i * NR + j];
}

template <class Isa>
void macro(int kc, const float* Ap, const float* Bp, float* C, long ldc, int mc, int nc, float alpha, float beta) {
  constexpr int MR = Isa::MR, NR = 2 * Isa::W;
  for (int j = 0; j < nc; j += NR, Bp += (long)kc * NR) {
    const int nr = imin(NR, nc - j);
    const float* a = Ap;
    for (int i = 0; i < mc; i += MR, a += (long)kc * MR) {
      const int mr = imin(MR, mc - i);
      float* c = C + i * ldc + j;
      if (mr == MR && nr == NR)
        tile<Isa>(kc, a, Bp, c, ldc, alpha, beta);
      else
        tile_edge<Isa>(kc, a, Bp, c, ldc, mr, nr, alpha, beta);
    }
  }
}

// The KernelSet of an Isa, with its cache blocking (see KernelSet).
template <class Isa>
constexpr KernelSet kernel_set(const char* name, int MC, int KC, int NC) {
  return {name, Isa::MR, 2 * Isa::W, MC, KC, NC, pack_a_8wide<Isa::MR>, pack_b_8wide<2 * Isa::W>, macro<Isa>};
}

}  // namespace
}  // namespace gemm_detail
}  // namespace sl
