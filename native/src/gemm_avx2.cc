// AVX2/FMA SGEMM kernels: the tile of gemm_tile.h on 8-wide ymm vectors. Compiled with -mavx2
// -mfma; only reached after the driver has checked __builtin_cpu_supports("avx2") && ("fma").
// Everything but the getter is in an anonymous namespace (see the ODR note in gemm_internal.h).
#define SL_GEMM_K_UNROLL 4
#include "gemm_tile.h"

namespace sl {
namespace gemm_detail {
namespace {

// 6x16: 12 ymm accumulators keep both Zen 3 / Haswell FMA pipes busy without exceeding their
// load ports.
struct Avx2 {
  using V = __m256;
  static constexpr int W = 8, MR = 6;
  __attribute__((always_inline)) static V zero() { return _mm256_setzero_ps(); }
  __attribute__((always_inline)) static V load(const float* p) { return _mm256_load_ps(p); }
  __attribute__((always_inline)) static V loadu(const float* p) { return _mm256_loadu_ps(p); }
  __attribute__((always_inline)) static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  __attribute__((always_inline)) static V set1(float x) { return _mm256_set1_ps(x); }
  __attribute__((always_inline)) static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  __attribute__((always_inline)) static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};

// KC*NR*4 = 16 KB: one B micro-panel plus the streaming A micro-panel fit Zen 3's 32 KB L1.
// MC*KC*4 = 120 KB of packed A stays in the 512 KB L2 with plenty of room for the B panels
// passing through; measured on Zen 3, MC=120 beat 240 on 1024/2048 squares by ~5% and tied on
// the model shapes. NC*KC*4 = 3 MB of packed B per thread, well inside L3.
constexpr KernelSet kAvx2 = kernel_set<Avx2>("avx2", 120, 256, 3072);

}  // namespace

const KernelSet* avx2_kernels() { return &kAvx2; }

}  // namespace gemm_detail
}  // namespace sl
