// AVX-512 SGEMM kernels: the tile of gemm_tile.h on 16-wide zmm vectors. Compiled with
// -mavx512f -mavx512dq -mfma; only reached after the driver has checked
// __builtin_cpu_supports("avx512f") (and avx512dq, avx2, fma). Everything but the getter is in an
// anonymous namespace (see the ODR note in gemm_internal.h). Nothing here may run at
// static-initialisation time.
#define SL_GEMM_K_UNROLL 2
#include "gemm_tile.h"

namespace sl {
namespace gemm_detail {
namespace {

// 12x32: 24 zmm accumulators; the broadcasts fold into the FMAs as {1to16} memory operands.
struct Avx512 {
  using V = __m512;
  static constexpr int W = 16, MR = 12;
  __attribute__((always_inline)) static V zero() { return _mm512_setzero_ps(); }
  __attribute__((always_inline)) static V load(const float* p) { return _mm512_load_ps(p); }
  __attribute__((always_inline)) static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  __attribute__((always_inline)) static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  __attribute__((always_inline)) static V set1(float x) { return _mm512_set1_ps(x); }
  __attribute__((always_inline)) static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  __attribute__((always_inline)) static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};

// KC*NR*4 = 32 KB B micro-panel for a 48 KB L1 (Ice Lake / Sapphire Rapids; on Skylake-X's 32 KB
// L1 it streams partly from L2, as BLIS's SKX setting does). MC*KC*4 = 384 KB of packed A for the
// 1-2 MB L2 of AVX-512 parts. NC*KC*4 = 3 MB of packed B per thread.
constexpr KernelSet kAvx512 = kernel_set<Avx512>("avx512", 384, 256, 3072);

}  // namespace

const KernelSet* avx512_kernels() { return &kAvx512; }

}  // namespace gemm_detail
}  // namespace sl
