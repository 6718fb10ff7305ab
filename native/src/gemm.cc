// SGEMM driver: runtime kernel dispatch, BLIS-style blocking, per-thread packing buffers and a
// deterministic static OpenMP split. Compiled without ISA flags; the AVX2 / AVX-512 code lives in
// gemm_avx2.cc / gemm_avx512.cc and is only reached after a CPU feature check.
#include "gemm.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "gemm_internal.h"

namespace sl {
namespace gemm_detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Generic kernel: plain C++ for CPUs without AVX2 (and as a reference in tests). 4x8 keeps the
// 8 SSE accumulators plus operands inside the 16 xmm registers baseline x86-64 has.
// ---------------------------------------------------------------------------------------------
constexpr int GMR = 4;
constexpr int GNR = 8;

template <int W>
void pack_panel_generic(const float* src, long row_stride, long col_stride, int n, int kc,
                        float* dst) {
  // dst[k*W + r] = src[r*row_stride + k*col_stride] for r < n, zero beyond.
  for (int k = 0; k < kc; ++k, dst += W) {
    for (int r = 0; r < n; ++r) dst[r] = src[r * row_stride + k * col_stride];
    for (int r = n; r < W; ++r) dst[r] = 0.0f;
  }
}

void pack_a_generic(bool trans, const float* A, long lda, int mc, int kc, float* dst) {
  for (int i = 0; i < mc; i += GMR, dst += (long)kc * GMR) {
    const int mr = mc - i < GMR ? mc - i : GMR;
    if (trans)
      pack_panel_generic<GMR>(A + i, 1, lda, mr, kc, dst);
    else
      pack_panel_generic<GMR>(A + (long)i * lda, lda, 1, mr, kc, dst);
  }
}

void pack_b_generic(bool trans, const float* B, long ldb, int kc, int nc, float* dst) {
  for (int j = 0; j < nc; j += GNR, dst += (long)kc * GNR) {
    const int nr = nc - j < GNR ? nc - j : GNR;
    if (trans)
      pack_panel_generic<GNR>(B + (long)j * ldb, ldb, 1, nr, kc, dst);
    else
      pack_panel_generic<GNR>(B + j, 1, ldb, nr, kc, dst);
  }
}

void macro_generic(int kc, const float* Ap, const float* Bp, float* C, long ldc, int mc, int nc,
                   float alpha, float beta) {
  for (int j = 0; j < nc; j += GNR, Bp += (long)kc * GNR) {
    const int nr = nc - j < GNR ? nc - j : GNR;
    const float* a = Ap;
    for (int i = 0; i < mc; i += GMR, a += (long)kc * GMR) {
      const int mr = mc - i < GMR ? mc - i : GMR;
      float acc[GMR][GNR] = {};
      const float* b = Bp;
      const float* ak = a;
      for (int k = 0; k < kc; ++k, ak += GMR, b += GNR)
        for (int r = 0; r < GMR; ++r)
          for (int c = 0; c < GNR; ++c) acc[r][c] += ak[r] * b[c];
      float* cp = C + i * ldc + j;
      for (int r = 0; r < mr; ++r)
        for (int c = 0; c < nr; ++c)
          cp[r * ldc + c] = beta == 0.0f ? alpha * acc[r][c] : alpha * acc[r][c] + beta * cp[r * ldc + c];
    }
  }
}

constexpr KernelSet kGeneric = {"generic", GMR, GNR, 128, 256, 2048,
                                pack_a_generic, pack_b_generic, macro_generic};

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool cpu_has_avx512() { return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
                               __builtin_cpu_supports("avx512dq"); }

const KernelSet* best_kernels() {
  if (cpu_has_avx512()) return avx512_kernels();
  if (cpu_has_avx2()) return avx2_kernels();
  return &kGeneric;
}

std::atomic<const KernelSet*> g_active{nullptr};

const KernelSet* active() {
  const KernelSet* ks = g_active.load(std::memory_order_acquire);
  if (!ks) {
    ks = best_kernels();
    g_active.store(ks, std::memory_order_release);
  }
  return ks;
}

// ---------------------------------------------------------------------------------------------
// Per-thread packing buffers: allocated at first use, grown only if a kernel with bigger blocks is
// forced, freed at thread exit. Heap (not thread_local arrays) because several MB of static TLS
// would be reserved in every thread of the host process and can make dlopen of the addon fail.
// ---------------------------------------------------------------------------------------------
constexpr long kSlackFloats = 64;  // packers may write a few junk floats past the last panel

struct PackBuffers {
  float* a = nullptr;
  float* b = nullptr;
  long a_cap = 0, b_cap = 0;
  ~PackBuffers() {
    std::free(a);
    std::free(b);
  }
  static float* ensure(float*& p, long& cap, long need) {
    if (need > cap) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, ((need * sizeof(float) + 63) / 64) * 64));
      if (!p) std::abort();
      cap = need;
    }
    return p;
  }
};

thread_local PackBuffers tl_buffers;

inline long round_up(long x, long m) { return (x + m - 1) / m * m; }

// One thread's rectangle of C, computed with the classic five loops. Block sizes depend only on
// the kernel and on K, never on the rectangle, so the per-element summation order is the same
// for every thread split: K is walked in the same KC chunks, and within a chunk the micro-kernel
// accumulates k in order.
void gemm_rect(const KernelSet& ks, bool transA, bool transB, int m0, int m1, int n0, int n1,
               int K, float alpha, const float* A, long lda, const float* B, long ldb, float beta,
               float* C, long ldc) {
  if (m0 >= m1 || n0 >= n1) return;
  // Near-even KC chunks (K=300 -> 152+148, not 256+44) so no chunk is too short to amortise its
  // pass over C. Depends on K only, never on the thread split.
  const int kblocks = (K + ks.KC - 1) / ks.KC;
  const int KC = (int)round_up((K + kblocks - 1) / kblocks, 8);

  const int NC = ks.NC;
  const int MC = ks.MC;
  PackBuffers& buf = tl_buffers;
  float* Ab = PackBuffers::ensure(buf.a, buf.a_cap, round_up(MC, ks.MR) * ks.KC + kSlackFloats);
  float* Bb = PackBuffers::ensure(buf.b, buf.b_cap, round_up(NC, ks.NR) * ks.KC + kSlackFloats);

  for (int jc = n0; jc < n1; jc += NC) {
    const int nc = n1 - jc < NC ? n1 - jc : NC;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = K - pc < KC ? K - pc : KC;
      const float beta_eff = pc == 0 ? beta : 1.0f;
      ks.packB(transB, transB ? B + (long)jc * ldb + pc : B + (long)pc * ldb + jc, ldb, kc, nc, Bb);
      for (int ic = m0; ic < m1; ic += MC) {
        const int mc = m1 - ic < MC ? m1 - ic : MC;
        ks.packA(transA, transA ? A + (long)pc * lda + ic : A + (long)ic * lda + pc, lda, mc, kc, Ab);
        ks.macro(kc, Ab, Bb, C + (long)ic * ldc + jc, ldc, mc, nc, alpha, beta_eff);
      }
    }
  }
}

// C = beta*C, for K == 0 or alpha == 0 (the product is skipped entirely, as BLAS does).
void scale_c(int M, int N, float beta, float* C, long ldc) {
  for (int i = 0; i < M; ++i) {
    float* c = C + (long)i * ldc;
    if (beta == 0.0f)
      std::memset(c, 0, sizeof(float) * N);
    else if (beta != 1.0f)
      for (int j = 0; j < N; ++j) c[j] *= beta;
  }
}

struct Split {
  int tm, tn;
};

// Chooses the tm x tn thread grid with the smallest estimated per-thread time: multiply-adds on
// the (tile-rounded) rectangle plus packing traffic, where each packed float is charged like a
// few dozen flops. In practice this splits the long dimension of skinny shapes.
Split choose_split(const KernelSet& ks, int M, int N, int K, int T) {
  const long mp = (M + ks.MR - 1) / ks.MR, np = (N + ks.NR - 1) / ks.NR;
  Split best{1, T};
  double best_cost = -1;
  for (int tm = 1; tm <= T; ++tm) {
    if (T % tm) continue;
    const int tn = T / tm;
    if (tm > mp || tn > np) continue;
    const double m = double((mp + tm - 1) / tm) * ks.MR;
    const double n = double((np + tn - 1) / tn) * ks.NR;
    const double nblocks = double((long(n) + ks.NC - 1) / ks.NC);
    const double cost = 2.0 * m * n * K + 32.0 * K * (m * nblocks + n);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = {tm, tn};
    }
  }
  if (best_cost < 0) best = mp >= np ? Split{T, 1} : Split{1, T};
  return best;
}

// A libgomp fork/join costs about a microsecond when its threads are warm (more when they have
// gone to sleep), which is what ~0.1 MFLOP takes; below ~0.5 MFLOP per thread the split stops
// paying. Results never depend on the split, so capping the thread count is safe.
std::atomic<double> g_min_flops_per_thread{5e5};

// Panels [0, panels) split as evenly as possible; part t of parts gets [lo, hi) in elements.
inline void part_range(int panels, int width, int extent, int t, int parts, int& lo, int& hi) {
  const long p0 = (long)panels * t / parts, p1 = (long)panels * (t + 1) / parts;
  lo = (int)(p0 * width);
  hi = (int)(p1 * width);
  if (lo > extent) lo = extent;
  if (hi > extent) hi = extent;
}

}  // namespace

void set_min_flops_per_thread(double flops) { g_min_flops_per_thread.store(flops); }

}  // namespace gemm_detail

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, int nthreads) {
  using namespace gemm_detail;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const KernelSet& ks = *active();

  const double flops = 2.0 * M * N * K;
  int T = nthreads < 1 ? 1 : nthreads;
  const double min_flops_per_thread = g_min_flops_per_thread.load(std::memory_order_relaxed);
  if (T > 1 && flops < min_flops_per_thread * T) {
    T = (int)(flops / min_flops_per_thread);
    if (T < 1) T = 1;
  }

  if (T == 1) {
    gemm_rect(ks, transA, transB, 0, M, 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }

#pragma omp parallel num_threads(T)
  {
    // The team may be smaller than asked (nested regions, thread limits): split over what we got.
    const int team = omp_get_num_threads();
    const int tid = omp_get_thread_num();
    const Split s = choose_split(ks, M, N, K, team);
    const int ti = tid / s.tn, tj = tid % s.tn;
    int m0, m1, n0, n1;
    part_range((M + ks.MR - 1) / ks.MR, ks.MR, M, ti, s.tm, m0, m1);
    part_range((N + ks.NR - 1) / ks.NR, ks.NR, N, tj, s.tn, n0, n1);
    gemm_rect(ks, transA, transB, m0, m1, n0, n1, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}

const char* gemm_kernel() { return gemm_detail::active()->name; }

bool gemm_set_kernel(const char* name) {
  using namespace gemm_detail;
  if (!name) return false;
  const KernelSet* ks = nullptr;
  if (std::strcmp(name, "auto") == 0)
    ks = best_kernels();
  else if (std::strcmp(name, "generic") == 0)
    ks = &kGeneric;
  else if (std::strcmp(name, "avx2") == 0 && cpu_has_avx2())
    ks = avx2_kernels();
  else if (std::strcmp(name, "avx512") == 0 && cpu_has_avx512())
    ks = avx512_kernels();
  if (!ks) return false;
  g_active.store(ks, std::memory_order_release);
  return true;
}

}  // namespace sl
