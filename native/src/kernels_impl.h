// Kernel bodies, included once per instruction set with SL_ISA naming the namespace
// (kernels_avx2.cc, kernels_generic.cc). Loops are written so the compiler vectorises them
// (`omp simd` for reductions); what is hand-written is exp and the loops built on it (GELU and
// SwiGLU forward and backward, softmax), with AVX2 intrinsics: libm's exp is neither vectorisable
// nor cheap, GCC does not vectorise a hand-made one reliably, and these loops run hundreds of
// millions of times per step.
//
// Threading: every kernel splits its outer loop statically over threads(). Reductions that
// cross rows (dW of layernorm, bias gradients, the embedding scatter) are split over COLUMNS
// instead, so each output element is summed by one thread in row order: the bits do not
// depend on the thread count.
#include <omp.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "gemm.h"
#include "kernels.h"
#include "portable.h"  // the *_portable entries of the table

namespace sl {
namespace SL_ISA {

// Local min/max rather than std::min/std::max: template instantiations are shared between the
// AVX2 and generic builds of this file by the linker, and must not be.
template <class T> static inline T lo(T a, T b) { return b < a ? b : a; }
template <class T> static inline T hi(T a, T b) { return a < b ? b : a; }

// Elements per thread below which the forward kernels a decode step uses stay on one thread:
// threads sleep between kernels (OMP_WAIT_POLICY=passive), and waking one costs tens of
// microseconds, more than a few thousand elements take. Training's tensors are far larger.
static constexpr int64_t SMALL_WORK = 16384;

// Run f(begin, end) over [0, n) split into contiguous equal ranges, one per thread.
template <class F>
static void parallel_for(int64_t n, int64_t min_per_thread, F f) {
  int nt = threads();
  if (nt > 1 && n >= 2 * min_per_thread) {
    nt = (int)lo<int64_t>(nt, n / min_per_thread);
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num(), k = omp_get_num_threads();
      int64_t b = n * t / k, e = n * (t + 1) / k;
      f(b, e);
    }
  } else if (n > 0) {
    f(0, n);
  }
}

// e^x, Cephes' polynomial on x − k·ln2 after clamping to [−87, 88]: about 1 ulp.
static inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float k = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)k + 127) << 23;  // 2^k, written into the exponent field
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

static inline float fast_tanh(float u) { return 1.0f - 2.0f / (fast_exp(2.0f * u) + 1.0f); }

#ifdef __AVX2__
// The same polynomial, eight lanes at a time.
static inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  __m256 k = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 tanh8(__m256 u) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 e = exp8(_mm256_add_ps(u, u));
  return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
}

// Lanes summed pairwise in a fixed order.
static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

// y[i] = e^(x[i] − shift) for i < n; returns Σ y.
static inline float exp_shifted(const float* x, float* y, int64_t n, float shift) {
  int64_t i = 0;
  float z = 0;
#ifdef __AVX2__
  __m256 acc = _mm256_setzero_ps(), sh = _mm256_set1_ps(shift);
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  z = hsum8(acc);
#endif
  for (; i < n; i++) {
    y[i] = fast_exp(x[i] - shift);
    z += y[i];
  }
  return z;
}

static constexpr float GELU_S = 0.7978845608028654f;  // sqrt(2/pi)
static constexpr float GELU_C = 0.044715f;

// Sum over rows of m[N, D] into out[D] (+=), split over columns so every thread sums in row order.
static void column_sums(const float* m, float* out, int N, int D) {
  parallel_for(D, 16, [&](int64_t c0, int64_t c1) {
    for (int n = 0; n < N; n++) {
      const float* row = m + (int64_t)n * D;
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) out[c] += row[c];
    }
  });
}

// The GEMM as a kernel: sgemm picks its own micro-kernel for the CPU (gemm.cc).
static void gemm(bool tA, bool tB, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                 float beta, float* C, int ldc) {
  sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads());
}

// Rows at or below which linear_forward skips the packed GEMM: with a handful of rows (a decode
// step: one per sequence) packing the weights costs more than the products, so each weight row
// is instead read once, straight from w, and dotted with every row of x.
static constexpr int FEW_ROWS = 8;

// y[n, o] = b[o] + x[n, :] · w[o, :] for few rows n. Outputs split over threads by o; each is a
// fixed-order sum (8 lanes over k, then the lanes, then the tail), whatever the split.
static void linear_forward_few_rows(const float* x, const float* w, const float* b, float* y, int N, int K, int O) {
  // Blocks of 4 outputs at fixed offsets, so which outputs take the 4-wide path never depends
  // on how the blocks were split over threads.
  const int64_t blocks = (O + 3) / 4;
  // At least 2^18 multiply-adds per thread: waking a sleeping thread costs more than less.
  parallel_for(blocks, hi<int64_t>(4, (int64_t)(1 << 16) / hi<int64_t>((int64_t)N * K, 1)), [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; blk++) {
      const int64_t o = 4 * blk;
#ifdef __AVX2__
      if (o + 4 <= O) {
        // Two rows of x against four rows of w: eight independent FMA chains keep both FMA
        // units busy; the four weight rows stay in L1 while every row of x passes them.
        const int K8 = K & ~7;
        const float* wr[4] = {w + o * K, w + (o + 1) * K, w + (o + 2) * K, w + (o + 3) * K};
        int n = 0;
        for (; n + 2 <= N; n += 2) {
          const float* x0 = x + (int64_t)n * K;
          const float* x1 = x0 + K;
          __m256 a[8];
          for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
          for (int k = 0; k < K8; k += 8) {
            const __m256 u = _mm256_loadu_ps(x0 + k), v = _mm256_loadu_ps(x1 + k);
            for (int j = 0; j < 4; j++) {
              const __m256 wv = _mm256_loadu_ps(wr[j] + k);
              a[j] = _mm256_fmadd_ps(u, wv, a[j]);
              a[4 + j] = _mm256_fmadd_ps(v, wv, a[4 + j]);
            }
          }
          for (int j = 0; j < 4; j++) {
            float s0 = hsum8(a[j]), s1 = hsum8(a[4 + j]);
            for (int k = K8; k < K; k++) {
              s0 += x0[k] * wr[j][k];
              s1 += x1[k] * wr[j][k];
            }
            const float bias = b ? b[o + j] : 0.0f;
            y[(int64_t)n * O + o + j] = bias + s0;
            y[(int64_t)(n + 1) * O + o + j] = bias + s1;
          }
        }
        for (; n < N; n++) {
          const float* x0 = x + (int64_t)n * K;
          __m256 a[4];
          for (int j = 0; j < 4; j++) a[j] = _mm256_setzero_ps();
          for (int k = 0; k < K8; k += 8) {
            const __m256 u = _mm256_loadu_ps(x0 + k);
            for (int j = 0; j < 4; j++) a[j] = _mm256_fmadd_ps(u, _mm256_loadu_ps(wr[j] + k), a[j]);
          }
          for (int j = 0; j < 4; j++) {
            float s0 = hsum8(a[j]);
            for (int k = K8; k < K; k++) s0 += x0[k] * wr[j][k];
            y[(int64_t)n * O + o + j] = (b ? b[o + j] : 0.0f) + s0;
          }
        }
        continue;
      }
#endif
      for (int64_t oo = o; oo < lo<int64_t>(o + 4, O); oo++) {
        const float* wr = w + oo * K;
        for (int n = 0; n < N; n++) {
          const float* xr = x + (int64_t)n * K;
          float s = 0;
          for (int k = 0; k < K; k++) s += xr[k] * wr[k];
          y[(int64_t)n * O + oo] = (b ? b[oo] : 0.0f) + s;
        }
      }
    }
  });
}

static void linear_forward(const float* x, const float* w, const float* b, float* y, int N, int K, int O) {
  if (N <= FEW_ROWS) return linear_forward_few_rows(x, w, b, y, N, K, O);
  if (b) {
    parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; n++) std::memcpy(y + n * O, b, sizeof(float) * O);
    });
  }
  sgemm(false, true, N, O, K, 1.0f, x, K, w, K, b ? 1.0f : 0.0f, y, O, threads());
}

// Decoding's linear layer, on weights packed once when a model is loaded: panels of PANEL
// outputs, wp[(p·K + k)·PANEL + j] = w[p·PANEL + j, k], zero past O. Each output element is one
// fused multiply-add chain over k in order, then the bias: the same arithmetic whatever the
// number of rows, the tile that holds the row and the thread split, so a sequence's logits do
// not depend on which other sequences share its step (batch invariance), and a packed weight
// is read once per step for all of them.
static constexpr int PANEL = 16;

static void pack_linear(const float* w, float* wp, int K, int O) {
  const int64_t P = (O + PANEL - 1) / PANEL;
  parallel_for(P, 8, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      float* dst = wp + p * K * PANEL;
      for (int j = 0; j < PANEL; j++) {
        const int64_t o = p * PANEL + j;
        for (int k = 0; k < K; k++) dst[(int64_t)k * PANEL + j] = o < O ? w[o * K + k] : 0.0f;
      }
    }
  });
}

// Panels a thread keeps hot in L2 while every row of x passes them: up to 6, at most about
// 256 KB (6 at K = 256, 4 at K = 1024, 1 at K = 3072). Each weight is then read from memory
// once per call whatever the number of rows; were a group bigger than L2, every 6-row tile
// would stream it from memory again.
static inline int64_t panel_group(int K) { return hi<int64_t>(1, lo<int64_t>(6, (int64_t)(1 << 16) / ((int64_t)K * PANEL))); }

// y[r, o0 + 0 … PANEL·NP) for R rows, from x rows r0 … (stride K) and NP consecutive panels.
#ifdef __AVX2__
template <int R, int NP>
static inline void packed_tile(const float* x, int K, const float* wp, const float* b, float* y, int O, int o0) {
  __m256 c[R][2 * NP];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++)
#pragma GCC unroll 12
    for (int j = 0; j < 2 * NP; j++) c[r][j] = _mm256_setzero_ps();
  const int64_t pstride = (int64_t)K * PANEL;
  for (int k = 0; k < K; k++) {
    __m256 wv[2 * NP];
#pragma GCC unroll 12
    for (int p = 0; p < NP; p++) {
      wv[2 * p] = _mm256_loadu_ps(wp + p * pstride + (int64_t)k * PANEL);
      wv[2 * p + 1] = _mm256_loadu_ps(wp + p * pstride + (int64_t)k * PANEL + 8);
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
      const __m256 xb = _mm256_broadcast_ss(x + (int64_t)r * K + k);
#pragma GCC unroll 12
      for (int j = 0; j < 2 * NP; j++) c[r][j] = _mm256_fmadd_ps(xb, wv[j], c[r][j]);
    }
  }
  // Every index into c is a constant once unrolled, so the accumulators stay in registers
  // (an index known only at run time makes the compiler keep c on the stack, and store it
  // every k).
#pragma GCC unroll 12
  for (int j = 0; j < 2 * NP; j++) {
    const int o = o0 + 8 * j;
    if (o + 8 <= O) {
      const __m256 bias = b ? _mm256_loadu_ps(b + o) : _mm256_setzero_ps();
#pragma GCC unroll 12
      for (int r = 0; r < R; r++) _mm256_storeu_ps(y + (int64_t)r * O + o, _mm256_add_ps(c[r][j], bias));
    } else if (o < O) {
#pragma GCC unroll 12
      for (int r = 0; r < R; r++) {
        alignas(32) float t[8];
        _mm256_store_ps(t, c[r][j]);
        for (int i = 0; o + i < O; i++) y[(int64_t)r * O + o + i] = t[i] + (b ? b[o + i] : 0.0f);
      }
    }
  }
}
#else
template <int R, int NP>
static inline void packed_tile(const float* x, int K, const float* wp, const float* b, float* y, int O, int o0) {
  const int64_t pstride = (int64_t)K * PANEL;
  for (int r = 0; r < R; r++)
    for (int p = 0; p < NP; p++)
      for (int j = 0; j < PANEL; j++) {
        const int o = o0 + p * PANEL + j;
        if (o >= O) break;
        // Fused multiply-adds, as the AVX2 tile does: the same bits on every instruction set,
        // which compressed files rely on (src/compress/). glibc's fmaf is exact everywhere.
        float acc = 0;
        for (int k = 0; k < K; k++) acc = std::fmaf(x[(int64_t)r * K + k], wp[p * pstride + (int64_t)k * PANEL + j], acc);
        y[(int64_t)r * O + o] = acc + (b ? b[o] : 0.0f);
      }
}
#endif

// Rows [r, r + R) against panels [pa, pb), NP panels per tile while they last, then one.
template <int R, int NP>
static inline void packed_rows(const float* x, int K, const float* wp, const float* b, float* y, int O, int64_t pa,
                               int64_t pb) {
  int64_t p = pa;
  for (; p + NP <= pb; p += NP) packed_tile<R, NP>(x, K, wp + p * K * PANEL, b, y, O, (int)(p * PANEL));
  for (; p < pb; p++) packed_tile<R, 1>(x, K, wp + p * K * PANEL, b, y, O, (int)(p * PANEL));
}

static void linear_packed_forward(const float* x, const float* wp, const float* b, float* y, int N, int K, int O) {
  const int64_t P = (O + PANEL - 1) / PANEL;
  const int64_t panel_work = (int64_t)N * K * PANEL;
  // Panels split evenly over threads (which thread computes an output never changes its bits).
  parallel_for(P, hi<int64_t>(1, (int64_t)(1 << 18) / hi<int64_t>(panel_work, 1)), [&](int64_t p0, int64_t p1) {
    const int64_t group = panel_group(K);
    for (int64_t pa = p0; pa < p1; pa += group) {
      const int64_t pb = lo(p1, pa + group);
      int r = 0;
      for (; r + 6 <= N; r += 6) packed_rows<6, 1>(x + (int64_t)r * K, K, wp, b, y + (int64_t)r * O, O, pa, pb);
      const float* xr = x + (int64_t)r * K;
      float* yr = y + (int64_t)r * O;
      switch (N - r) {
        case 1: packed_rows<1, 6>(xr, K, wp, b, yr, O, pa, pb); break;
        case 2: packed_rows<2, 3>(xr, K, wp, b, yr, O, pa, pb); break;
        case 3: packed_rows<3, 2>(xr, K, wp, b, yr, O, pa, pb); break;
        case 4: packed_rows<4, 1>(xr, K, wp, b, yr, O, pa, pb); break;
        case 5: packed_rows<5, 1>(xr, K, wp, b, yr, O, pa, pb); break;
        default: break;
      }
    }
  });
}

static void linear_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                            int N, int K, int O) {
  if (dx) sgemm(false, false, N, K, O, 1.0f, dy, O, w, K, 1.0f, dx, K, threads());
  sgemm(true, false, O, K, N, 1.0f, dy, O, x, K, 1.0f, dw, K, threads());
  if (db) column_sums(dy, db, N, O);
}

static void layer_norm_forward(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd,
                              int N, int D, float eps) {
  // The few rows of a decode step stay on one thread (see SMALL_WORK).
  parallel_for(N, hi<int64_t>(16, SMALL_WORK / hi(D, 1)), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* xr = x + n * D;
      float* yr = y + n * D;
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int i = 0; i < D; i++) s += xr[i];
      float mu = s / D;
      float v = 0;
#pragma omp simd reduction(+ : v)
      for (int i = 0; i < D; i++) v += (xr[i] - mu) * (xr[i] - mu);
      float r = 1.0f / std::sqrt(v / D + eps);
      if (g && b) {
#pragma omp simd
        for (int i = 0; i < D; i++) yr[i] = (xr[i] - mu) * r * g[i] + b[i];
      } else {  // no affine part, or half of one (DiT's norms: adaLN modulates them instead)
#pragma omp simd
        for (int i = 0; i < D; i++) yr[i] = (xr[i] - mu) * r * (g ? g[i] : 1.0f) + (b ? b[i] : 0.0f);
      }
      mean[n] = mu;
      rstd[n] = r;
    }
  });
}

static void layer_norm_backward(const float* x, const float* g, const float* mean, const float* rstd,
                               const float* dy, float* dx, float* dg, float* db, int N, int D) {
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* xr = x + n * D;
      const float* dyr = dy + n * D;
      float* dxr = dx + n * D;
      const float mu = mean[n], r = rstd[n];
      float sd = 0, sdx = 0;
      if (g) {
#pragma omp simd reduction(+ : sd, sdx)
        for (int i = 0; i < D; i++) {
          float dxhat = dyr[i] * g[i];
          sd += dxhat;
          sdx += dxhat * (xr[i] - mu) * r;
        }
        sd /= D;
        sdx /= D;
#pragma omp simd
        for (int i = 0; i < D; i++) dxr[i] += r * (dyr[i] * g[i] - sd - (xr[i] - mu) * r * sdx);
      } else {
#pragma omp simd reduction(+ : sd, sdx)
        for (int i = 0; i < D; i++) {
          sd += dyr[i];
          sdx += dyr[i] * (xr[i] - mu) * r;
        }
        sd /= D;
        sdx /= D;
#pragma omp simd
        for (int i = 0; i < D; i++) dxr[i] += r * (dyr[i] - sd - (xr[i] - mu) * r * sdx);
      }
    }
  });
  if (!dg && !db) return;
  parallel_for(D, 16, [&](int64_t c0, int64_t c1) {
    for (int n = 0; n < N; n++) {
      const float* xr = x + (int64_t)n * D;
      const float* dyr = dy + (int64_t)n * D;
      const float mu = mean[n], r = rstd[n];
      if (dg) {
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) dg[c] += dyr[c] * (xr[c] - mu) * r;
      }
      if (db) {
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) db[c] += dyr[c];
      }
    }
  });
}

static void rms_norm_forward(const float* x, const float* g, float* y, float* rstd, int N, int D, float eps) {
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* xr = x + n * D;
      float* yr = y + n * D;
      float ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int i = 0; i < D; i++) ss += xr[i] * xr[i];
      float r = 1.0f / std::sqrt(ss / D + eps);
#pragma omp simd
      for (int i = 0; i < D; i++) yr[i] = xr[i] * r * g[i];
      rstd[n] = r;
    }
  });
}

static void rms_norm_backward(const float* x, const float* g, const float* rstd, const float* dy, float* dx, float* dg,
                             int N, int D) {
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* xr = x + n * D;
      const float* dyr = dy + n * D;
      float* dxr = dx + n * D;
      const float r = rstd[n];
      float sdx = 0;
#pragma omp simd reduction(+ : sdx)
      for (int i = 0; i < D; i++) sdx += dyr[i] * g[i] * xr[i] * r;
      sdx /= D;
#pragma omp simd
      for (int i = 0; i < D; i++) dxr[i] += r * (dyr[i] * g[i] - xr[i] * r * sdx);
    }
  });
  parallel_for(D, 16, [&](int64_t c0, int64_t c1) {
    for (int n = 0; n < N; n++) {
      const float* xr = x + (int64_t)n * D;
      const float* dyr = dy + (int64_t)n * D;
      const float r = rstd[n];
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) dg[c] += dyr[c] * xr[c] * r;
    }
  });
}

static void gelu_forward(const float* x, float* y, int64_t n) {
  parallel_for(n, SMALL_WORK, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
#ifdef __AVX2__
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 s = _mm256_set1_ps(GELU_S), c = _mm256_set1_ps(GELU_C);
    for (; i + 8 <= i1; i += 8) {
      __m256 v = _mm256_loadu_ps(x + i);
      __m256 inner = _mm256_mul_ps(s, _mm256_fmadd_ps(_mm256_mul_ps(c, v), _mm256_mul_ps(v, v), v));
      __m256 t = tanh8(inner);
      _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, t)));
    }
#endif
    for (; i < i1; i++) {
      float v = x[i];
      y[i] = 0.5f * v * (1.0f + fast_tanh(GELU_S * (v + GELU_C * v * v * v)));
    }
  });
}

static void gelu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
#ifdef __AVX2__
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 s = _mm256_set1_ps(GELU_S), c = _mm256_set1_ps(GELU_C), c3 = _mm256_set1_ps(3.0f * GELU_C);
    for (; i + 8 <= i1; i += 8) {
      __m256 v = _mm256_loadu_ps(x + i), v2 = _mm256_mul_ps(v, v);
      __m256 t = tanh8(_mm256_mul_ps(s, _mm256_fmadd_ps(_mm256_mul_ps(c, v), v2, v)));
      __m256 dt = _mm256_mul_ps(_mm256_mul_ps(_mm256_fnmadd_ps(t, t, one), s), _mm256_fmadd_ps(c3, v2, one));
      __m256 local = _mm256_fmadd_ps(_mm256_mul_ps(half, v), dt, _mm256_mul_ps(half, _mm256_add_ps(one, t)));
      _mm256_storeu_ps(dx + i, _mm256_fmadd_ps(_mm256_loadu_ps(dy + i), local, _mm256_loadu_ps(dx + i)));
    }
#endif
    for (; i < i1; i++) {
      float v = x[i];
      float t = fast_tanh(GELU_S * (v + GELU_C * v * v * v));
      float dt = (1.0f - t * t) * GELU_S * (1.0f + 3.0f * GELU_C * v * v);
      dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * v * dt);
    }
  });
}

// SwiGLU over rows of x[N, 2H]: gate a = x[n, j], value b = x[n, H + j], y[n, j] = a·σ(a)·b.
static void swiglu_forward(const float* x, float* y, int N, int H) {
  parallel_for(N, hi<int64_t>(1, 4096 / hi(H, 1)), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* a = x + n * 2 * H;
      const float* b = a + H;
      float* yr = y + n * H;
      int j = 0;
#ifdef __AVX2__
      const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
      for (; j + 8 <= H; j += 8) {
        __m256 va = _mm256_loadu_ps(a + j);
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, va))));
        _mm256_storeu_ps(yr + j, _mm256_mul_ps(_mm256_mul_ps(va, s), _mm256_loadu_ps(b + j)));
      }
#endif
      for (; j < H; j++) {
        const float s = 1.0f / (1.0f + fast_exp(-a[j]));
        yr[j] = a[j] * s * b[j];
      }
    }
  });
}

static void swiglu_backward(const float* x, const float* dy, float* dx, int N, int H) {
  parallel_for(N, hi<int64_t>(1, 4096 / hi(H, 1)), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* a = x + n * 2 * H;
      const float* b = a + H;
      const float* d = dy + n * H;
      float* da = dx + n * 2 * H;
      float* db = da + H;
      int j = 0;
#ifdef __AVX2__
      const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
      for (; j + 8 <= H; j += 8) {
        __m256 va = _mm256_loadu_ps(a + j), vb = _mm256_loadu_ps(b + j), vd = _mm256_loadu_ps(d + j);
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, va))));
        __m256 silu = _mm256_mul_ps(va, s);
        // silu'(a) = σ(a)·(1 + a·(1 − σ(a))) = σ(a) + silu(a)·(1 − σ(a))
        __m256 dsilu = _mm256_fmadd_ps(silu, _mm256_sub_ps(one, s), s);
        _mm256_storeu_ps(da + j, _mm256_fmadd_ps(_mm256_mul_ps(vd, vb), dsilu, _mm256_loadu_ps(da + j)));
        _mm256_storeu_ps(db + j, _mm256_fmadd_ps(vd, silu, _mm256_loadu_ps(db + j)));
      }
#endif
      for (; j < H; j++) {
        const float s = 1.0f / (1.0f + fast_exp(-a[j]));
        const float silu = a[j] * s;
        da[j] += d[j] * b[j] * (s + silu * (1.0f - s));
        db[j] += d[j] * silu;
      }
    }
  });
}

static void add_forward(const float* a, const float* b, float* out, int64_t n, int64_t m) {
  // Split over whole periods of b so the inner loop is a plain vector add.
  int64_t periods = n / m;
  parallel_for(periods, hi<int64_t>(1, SMALL_WORK / m), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      const float* ap = a + p * m;
      float* op = out + p * m;
#pragma omp simd
      for (int64_t i = 0; i < m; i++) op[i] = ap[i] + b[i];
    }
  });
}

static void add_backward(const float* dout, float* da, float* db, int64_t n, int64_t m) {
  if (da) {
    parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
#pragma omp simd
      for (int64_t i = i0; i < i1; i++) da[i] += dout[i];
    });
  }
  if (db) {
    // db[j] += Σ_p dout[p·m + j]: split over j, sum periods in order.
    int64_t periods = n / m;
    parallel_for(m, 16, [&](int64_t j0, int64_t j1) {
      for (int64_t p = 0; p < periods; p++) {
        const float* dp = dout + p * m;
#pragma omp simd
        for (int64_t j = j0; j < j1; j++) db[j] += dp[j];
      }
    });
  }
}

static void embedding_forward(const int32_t* ids, const float* table, float* out, int N, int D) {
  parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) std::memcpy(out + n * D, table + (int64_t)ids[n] * D, sizeof(float) * D);
  });
}

static void embedding_backward(const int32_t* ids, const float* dout, float* dtable, int N, int D) {
  // Rows of dtable repeat (the same token many times), so split over columns: no races, row order kept.
  parallel_for(D, 16, [&](int64_t c0, int64_t c1) {
    for (int n = 0; n < N; n++) {
      float* tr = dtable + (int64_t)ids[n] * D;
      const float* dr = dout + (int64_t)n * D;
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) tr[c] += dr[c];
    }
  });
}

// Rotary position embedding, half-split pairs (i, i + d/2) of every q and k head, turned by p·θ_i
// with θ_i = 10000^(−2i/d), p the row's position: t, or pos[t] when given (a decode step, whose
// rows sit at their own positions in their sequences). The cos/sin rows come from rope_rows
// (kernels.cc), made once per position and kept, so decoding costs no trigonometry per step.

// Rotate the q and k halves of every head by p·θ (forward, writing out) or by −p·θ (backward,
// accumulating into the gradient, since the transpose of a rotation is its inverse); v passes
// through unchanged.
template <bool Backward>
static void rope_apply(const float* src, float* dst, int B, int T, int C, int H, const int32_t* pos) {
  const int hd = C / H, half = hd / 2;
  const int64_t C3 = 3 * (int64_t)C;
  const float sign = Backward ? -1.0f : 1.0f;
  int64_t positions = T;
  if (pos) {
    positions = 0;
    for (int t = 0; t < T; t++) positions = hi<int64_t>(positions, (int64_t)pos[t] + 1);
  }
  const float* rows = rope_rows(hd, positions);
  parallel_for(T, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const float* cs = rows + (int64_t)(pos ? pos[t] : t) * hd;
      const float* sn = cs + half;
      for (int b = 0; b < B; b++) {
        const float* x = src + ((int64_t)b * T + t) * C3;
        float* y = dst + ((int64_t)b * T + t) * C3;
        for (int h = 0; h < 2 * H; h++) {  // the H heads of q, then the H heads of k
          const float* x1 = x + h * hd;
          const float* x2 = x1 + half;
          float* y1 = y + h * hd;
          float* y2 = y1 + half;
#pragma omp simd
          for (int i = 0; i < half; i++) {
            const float r1 = x1[i] * cs[i] - sign * x2[i] * sn[i];
            const float r2 = x2[i] * cs[i] + sign * x1[i] * sn[i];
            y1[i] = Backward ? y1[i] + r1 : r1;
            y2[i] = Backward ? y2[i] + r2 : r2;
          }
        }
        if (Backward) {
#pragma omp simd
          for (int c = 2 * C; c < 3 * C; c++) y[c] += x[c];
        } else {
          std::memcpy(y + 2 * C, x + 2 * C, sizeof(float) * C);
        }
      }
    }
  });
}

static void rope_forward(const float* qkv, float* out, int B, int T, int C, int H, const int32_t* pos) {
  rope_apply<false>(qkv, out, B, T, C, H, pos);
}

static void rope_backward(const float* dout, float* dqkv, int B, int T, int C, int H, const int32_t* pos) {
  rope_apply<true>(dout, dqkv, B, T, C, H, pos);
}

// Attention works one (batch, head) pair at a time, pairs split over threads; inside a pair the
// products are small GEMMs on strided views of qkv. Causality is used in blocks of ATT_BLOCK
// rows: row block [i0, i1) only ever touches keys [0, i1). Without the mask (Causal false: the
// DiT's naive full attention, kept to measure what recomputing saves) every row sees all T keys.
static constexpr int ATT_BLOCK = 64;

template <bool Causal>
static void attention_probs_forward(const float* qkv, float* out, float* att, int B, int T, int C, int H) {
  const int hd = C / H, C3 = 3 * C;
  const float scale = 1.0f / std::sqrt((float)hd);
  parallel_for((int64_t)B * H, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      const int b = (int)(p / H), h = (int)(p % H);
      const float* q = qkv + (int64_t)b * T * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* P = att + p * T * T;
      float* o = out + (int64_t)b * T * C + h * hd;
      for (int i0 = 0; i0 < T; i0 += ATT_BLOCK) {
        const int i1 = lo(T, i0 + ATT_BLOCK), rows = i1 - i0, keys = Causal ? i1 : T;
        float* S = P + (int64_t)i0 * T;
        sgemm(false, true, rows, keys, hd, scale, q + (int64_t)i0 * C3, C3, k, C3, 0.0f, S, T, 1);
        for (int i = i0; i < i1; i++) {
          float* s = P + (int64_t)i * T;
          const int len = Causal ? i + 1 : T;
          float mx = s[0];
          for (int j = 1; j < len; j++) mx = hi(mx, s[j]);
          const float z = exp_shifted(s, s, len, mx);
          const float inv = 1.0f / z;
#pragma omp simd
          for (int j = 0; j < len; j++) s[j] *= inv;
          if (Causal) std::memset(s + len, 0, sizeof(float) * (T - len));
        }
        sgemm(false, false, rows, hd, keys, 1.0f, S, T, v, C3, 0.0f, o + (int64_t)i0 * C, C, 1);
      }
    }
  });
}

template <bool Causal>
static void attention_probs_backward(const float* qkv, float* att, const float* dout, float* dqkv, int B, int T, int C,
                                     int H) {
  const int hd = C / H, C3 = 3 * C;
  const float scale = 1.0f / std::sqrt((float)hd);
  parallel_for((int64_t)B * H, 1, [&](int64_t p0, int64_t p1) {
    float* dP = thread_scratch((int64_t)ATT_BLOCK * T);  // dP for one row block
    for (int64_t p = p0; p < p1; p++) {
      const int b = (int)(p / H), h = (int)(p % H);
      const float* q = qkv + (int64_t)b * T * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* dq = dqkv + (int64_t)b * T * C3 + h * hd;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      float* P = att + p * T * T;
      const float* dO = dout + (int64_t)b * T * C + h * hd;
      // Block by block, using only keys [0, i1) of row block [i0, i1):
      //   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P∘(dP − rowsum(P∘dP)) (overwriting P),
      //   dQ += scale·dS·K,  dK += scale·dSᵀ·Q.
      for (int i0 = 0; i0 < T; i0 += ATT_BLOCK) {
        const int i1 = lo(T, i0 + ATT_BLOCK), rows = i1 - i0, keys = Causal ? i1 : T;
        float* Pb = P + (int64_t)i0 * T;
        const float* dOb = dO + (int64_t)i0 * C;
        sgemm(true, false, keys, hd, rows, 1.0f, Pb, T, dOb, C, 1.0f, dv, C3, 1);
        sgemm(false, true, rows, keys, hd, 1.0f, dOb, C, v, C3, 0.0f, dP, T, 1);
        for (int i = i0; i < i1; i++) {
          float* s = P + (int64_t)i * T;
          const float* d = dP + (int64_t)(i - i0) * T;
          const int len = Causal ? i + 1 : T;
          float dot = 0;
#pragma omp simd reduction(+ : dot)
          for (int j = 0; j < len; j++) dot += s[j] * d[j];
#pragma omp simd
          for (int j = 0; j < len; j++) s[j] = s[j] * (d[j] - dot);
        }
        sgemm(false, false, rows, hd, keys, scale, Pb, T, k, C3, 1.0f, dq + (int64_t)i0 * C3, C3, 1);
        sgemm(true, false, keys, hd, rows, scale, Pb, T, q + (int64_t)i0 * C3, C3, 1.0f, dk, C3, 1);
      }
    }
  });
}

static void attention_forward(const float* qkv, float* out, float* att, int B, int T, int C, int H) {
  attention_probs_forward<true>(qkv, out, att, B, T, C, H);
}

static void attention_backward(const float* qkv, float* att, const float* dout, float* dqkv, int B, int T, int C,
                               int H) {
  attention_probs_backward<true>(qkv, att, dout, dqkv, B, T, C, H);
}

static void naive_full_attention_forward(const float* qkv, float* out, float* att, int B, int N, int C, int H) {
  attention_probs_forward<false>(qkv, out, att, B, N, C, H);
}

static void naive_full_attention_backward(const float* qkv, float* att, const float* dout, float* dqkv, int B, int N,
                                          int C, int H) {
  attention_probs_backward<false>(qkv, att, dout, dqkv, B, N, C, H);
}

// Decoding attention for one query row qi (C wide, every head) against positions [0, len) of
// a KV cache (K and V [*, C]); s is scratch for H·len + H floats. The cache is walked position by
// position, each K and V row read whole and once (all heads at a time): a decode step's caches
// come from memory, and a sequential stream is what the prefetchers serve best. A row's result
// depends only on its own inputs, whatever batch or thread it is computed in.
static void attend_row(const float* qi, const float* kc, const float* vc, float* o, int len, int C, int H, float* s) {
  const int hd = C / H;
  const float scale = 1.0f / std::sqrt((float)hd);
  for (int j = 0; j < len; j++) {
    const float* kj = kc + (int64_t)j * C;
    for (int h = 0; h < H; h++) {
      const float* qh = qi + h * hd;
      const float* kh = kj + h * hd;
      float dot;
#ifdef __AVX2__
      if (hd % 8 == 0) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int c = 0;
        for (; c + 16 <= hd; c += 16) {
          a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + c), _mm256_loadu_ps(kh + c), a0);
          a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + c + 8), _mm256_loadu_ps(kh + c + 8), a1);
        }
        if (c < hd) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + c), _mm256_loadu_ps(kh + c), a0);
        dot = hsum8(_mm256_add_ps(a0, a1));
      } else
#endif
      {
        dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int c = 0; c < hd; c++) dot += qh[c] * kh[c];
      }
      s[h * len + j] = dot * scale;
    }
  }
  float* inv = s + (int64_t)H * len;
  for (int h = 0; h < H; h++) {
    float* sh = s + h * len;
    float mx = sh[0];
    for (int j = 1; j < len; j++) mx = hi(mx, sh[j]);
    inv[h] = 1.0f / exp_shifted(sh, sh, len, mx);
  }
  std::memset(o, 0, sizeof(float) * C);
  for (int j = 0; j < len; j++) {
    const float* vj = vc + (int64_t)j * C;
    for (int h = 0; h < H; h++) {
      const float pj = s[h * len + j] * inv[h];
      float* oh = o + h * hd;
      const float* vh = vj + h * hd;
#pragma omp simd
      for (int c = 0; c < hd; c++) oh[c] += pj * vh[c];
    }
  }
}

// Incremental attention for one sequence: n new query rows against its KV cache, whose
// positions [0, p0 + n) are filled; row i sees positions [0, p0 + i]. Rows are split over
// threads only for a long prompt.
static void attention_decode(const float* q, int q_stride, const float* kc, const float* vc, float* out, int n,
                             int p0, int C, int H) {
  const int T = p0 + n;
  parallel_for(n, lo<int64_t>(n, 1 + (1 << 16) / ((int64_t)T * C + 1)), [&](int64_t i0, int64_t i1) {
    float* s = thread_scratch((int64_t)H * T + H);
    for (int64_t i = i0; i < i1; i++) attend_row(q + i * q_stride, kc, vc, out + i * C, p0 + (int)i + 1, C, H, s);
  });
}

// A decode step's attention for a batch of sequences in one call: sequence b owns the next
// ns[b] rows of qkv [R, 3C] and a cache (per layer K [ctx, C] then V [ctx, C]) at caches[b]
// holding p0s[b] positions. Appends each new row's k and v to its cache, then attends every row
// (row i of sequence b sees positions [0, p0s[b] + i]). Rows split over threads.
static void attention_decode_batch(const float* qkv, float* const* caches, const int32_t* p0s, const int32_t* ns,
                                   float* out, int layer, int ctx, int C, int H, int B) {
  const int64_t C3 = 3 * (int64_t)C, plane = (int64_t)ctx * C;
  int64_t R = 0, work = 0;
  for (int b = 0; b < B; b++) {
    float* kc = caches[b] + 2 * layer * plane;
    float* vc = kc + plane;
    for (int i = 0; i < ns[b]; i++) {
      const float* row = qkv + (R + i) * C3;
      std::memcpy(kc + (int64_t)(p0s[b] + i) * C, row + C, sizeof(float) * C);
      std::memcpy(vc + (int64_t)(p0s[b] + i) * C, row + 2 * C, sizeof(float) * C);
      work += (int64_t)(p0s[b] + i + 1) * C;
    }
    R += ns[b];
  }
  const int64_t per_row = work / hi<int64_t>(R, 1) + 1;
  parallel_for(R, hi<int64_t>(1, (int64_t)(1 << 16) / per_row), [&](int64_t r0, int64_t r1) {
    // Find the sequence of row r0, then walk on.
    int b = 0;
    int64_t first = 0;
    while (first + ns[b] <= r0) first += ns[b++];
    float* s = thread_scratch((int64_t)H * ctx + H);
    for (int64_t r = r0; r < r1; r++) {
      while (r >= first + ns[b]) first += ns[b++];
      const float* kc = caches[b] + 2 * layer * plane;
      const int i = (int)(r - first);
      attend_row(qkv + r * C3, kc, kc + plane, out + r * C, p0s[b] + i + 1, C, H, s);
    }
  });
}

static double cross_entropy(const float* logits, const int32_t* targets, float* losses, float* dlogits, int N, int V,
                            float scale) {
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* l = logits + n * V;
      float* d = dlogits + n * V;
      float mx = l[0];
      for (int i = 1; i < V; i++) mx = hi(mx, l[i]);
      const float z = exp_shifted(l, d, V, mx);
      const float inv = 1.0f / z;
      const int t = targets[n];
      losses[n] = std::log(z) + mx - l[t];
#pragma omp simd
      for (int i = 0; i < V; i++) d[i] = d[i] * inv * scale;
      d[t] -= scale;
    }
  });
  double total = 0;
  for (int n = 0; n < N; n++) total += losses[n];
  return total;
}

static double sum_squares(const float* x, int64_t n) {
  // Fixed blocks, each summed in float over short runs and in float64 across them, then the
  // block sums added in order: the same bits for any thread count.
  constexpr int64_t BLOCK = 1 << 14, RUN = 256;
  const int64_t nb = (n + BLOCK - 1) / BLOCK;
  double* pp = thread_scratch_f64(nb);
  parallel_for(nb, 4, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; blk++) {
      const int64_t i0 = blk * BLOCK, i1 = lo(n, i0 + BLOCK);
      double s = 0;
      for (int64_t r0 = i0; r0 < i1; r0 += RUN) {
        const int64_t r1 = lo(i1, r0 + RUN);
        float acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = r0; i < r1; i++) acc += x[i] * x[i];
        s += acc;
      }
      pp[blk] = s;
    }
  });
  double total = 0;
  for (int64_t b = 0; b < nb; b++) total += pp[b];
  return total;
}

static void adamw(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                  float eps, float wd, double t, float grad_scale) {
  // Bias corrections in float64 from the float32 betas the update itself uses.
  const float bc1 = (float)(1.0 - std::pow((double)beta1, t));
  const float bc2 = (float)(1.0 - std::pow((double)beta2, t));
  const float decay = 1.0f - lr * wd, step = lr / bc1, rbc2 = 1.0f / bc2;
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) {
      float gi = g[i] * grad_scale;
      float mi = beta1 * m[i] + (1.0f - beta1) * gi;
      float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - step * mi / (std::sqrt(vi * rbc2) + eps);
    }
  });
}

static void axpy(float alpha, const float* src, float* dst, int64_t n) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) dst[i] += alpha * src[i];
  });
}

// ---- The diffusion transformer's kernels (src/models/dit.ts) ----

// Bidirectional attention, flash-style (Dao 2022; FlashAttention-2's loop order, Dao 2023):
// queries and keys in blocks of FA_BLOCK, scores of one block pair at a time in per-thread
// scratch, an online softmax in forward, and the probabilities recomputed in backward from q, k
// and the saved log-sum-exp. Memory per thread is two FA_BLOCK² blocks and one row per query;
// nothing N×N is ever held.
static constexpr int FA_BLOCK = 64;

// Forward: work units are (batch, head, query block), split statically over threads; each unit
// is computed the same way whichever thread takes it, so the bits do not depend on the count.
static void flash_attention_forward(const float* qkv, float* out, float* lse, int B, int N, int C, int H) {
  const int hd = C / H;
  const int64_t C3 = 3 * (int64_t)C;
  const float scale = 1.0f / std::sqrt((float)hd);
  const int64_t nq = (N + FA_BLOCK - 1) / FA_BLOCK;
  parallel_for((int64_t)B * H * nq, 1, [&](int64_t u0, int64_t u1) {
    float* S = thread_scratch((int64_t)FA_BLOCK * FA_BLOCK + 2 * FA_BLOCK);
    float* m = S + FA_BLOCK * FA_BLOCK;  // running row maxima
    float* l = m + FA_BLOCK;             // running row sums of e^(s − m)
    for (int64_t u = u0; u < u1; u++) {
      const int64_t pair = u / nq;
      const int b = (int)(pair / H), h = (int)(pair % H);
      const int i0 = (int)(u % nq) * FA_BLOCK, rows = lo(N, i0 + FA_BLOCK) - i0;
      const float* q = qkv + (int64_t)b * N * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* o = out + ((int64_t)b * N + i0) * C + h * hd;  // the block's rows, accumulated unnormalised
      for (int j0 = 0; j0 < N; j0 += FA_BLOCK) {
        const int cols = lo(N, j0 + FA_BLOCK) - j0;
        sgemm(false, true, rows, cols, hd, scale, q + (int64_t)i0 * C3, (int)C3, k + (int64_t)j0 * C3, (int)C3, 0.0f, S,
              FA_BLOCK, 1);
        for (int r = 0; r < rows; r++) {
          float* s = S + (int64_t)r * FA_BLOCK;
          float mx = j0 == 0 ? s[0] : m[r];
          for (int j = 0; j < cols; j++) mx = hi(mx, s[j]);
          const float z = exp_shifted(s, s, cols, mx);
          if (j0 == 0) {
            l[r] = z;
          } else {
            // Rescale what earlier key blocks added to this row to the new maximum.
            const float corr = fast_exp(m[r] - mx);
            l[r] = l[r] * corr + z;
            float* orow = o + (int64_t)r * C;
#pragma omp simd
            for (int c = 0; c < hd; c++) orow[c] *= corr;
          }
          m[r] = mx;
        }
        sgemm(false, false, rows, hd, cols, 1.0f, S, FA_BLOCK, v + (int64_t)j0 * C3, (int)C3, j0 == 0 ? 0.0f : 1.0f, o,
              C, 1);
      }
      float* L = lse + pair * N + i0;
      for (int r = 0; r < rows; r++) {
        const float inv = 1.0f / l[r];
        float* orow = o + (int64_t)r * C;
#pragma omp simd
        for (int c = 0; c < hd; c++) orow[c] *= inv;
        L[r] = m[r] + std::log(l[r]);
      }
    }
  });
}

// Backward: (batch, head) pairs split over threads, each pair's key blocks in order and for each
// the query blocks in order, so dK and dV of a key block are finished in one visit and dQ adds
// up in a fixed order: the same bits for any thread count.
static void flash_attention_backward(const float* qkv, const float* out, const float* lse, const float* dout,
                                     float* dqkv, int B, int N, int C, int H) {
  const int hd = C / H;
  const int64_t C3 = 3 * (int64_t)C;
  const float scale = 1.0f / std::sqrt((float)hd);
  parallel_for((int64_t)B * H, 1, [&](int64_t p0, int64_t p1) {
    float* P = thread_scratch(2 * (int64_t)FA_BLOCK * FA_BLOCK + N);
    float* dP = P + FA_BLOCK * FA_BLOCK;
    float* D = dP + FA_BLOCK * FA_BLOCK;  // rowsum(dout∘out) = Σ_j P_ij·dP_ij, per query
    for (int64_t pair = p0; pair < p1; pair++) {
      const int b = (int)(pair / H), h = (int)(pair % H);
      const float* q = qkv + (int64_t)b * N * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* dq = dqkv + (int64_t)b * N * C3 + h * hd;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      const float* o = out + (int64_t)b * N * C + h * hd;
      const float* dO = dout + (int64_t)b * N * C + h * hd;
      const float* L = lse + pair * N;
      for (int i = 0; i < N; i++) {
        const float* oi = o + (int64_t)i * C;
        const float* di = dO + (int64_t)i * C;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int c = 0; c < hd; c++) dot += oi[c] * di[c];
        D[i] = dot;
      }
      for (int j0 = 0; j0 < N; j0 += FA_BLOCK) {
        const int cols = lo(N, j0 + FA_BLOCK) - j0;
        const float* kj = k + (int64_t)j0 * C3;
        const float* vj = v + (int64_t)j0 * C3;
        for (int i0 = 0; i0 < N; i0 += FA_BLOCK) {
          const int rows = lo(N, i0 + FA_BLOCK) - i0;
          const float* qi = q + (int64_t)i0 * C3;
          const float* dOi = dO + (int64_t)i0 * C;
          sgemm(false, true, rows, cols, hd, scale, qi, (int)C3, kj, (int)C3, 0.0f, P, FA_BLOCK, 1);
          for (int r = 0; r < rows; r++) {
            float* s = P + (int64_t)r * FA_BLOCK;
            exp_shifted(s, s, cols, L[i0 + r]);
          }
          sgemm(true, false, cols, hd, rows, 1.0f, P, FA_BLOCK, dOi, C, 1.0f, dv + (int64_t)j0 * C3, (int)C3, 1);
          sgemm(false, true, rows, cols, hd, 1.0f, dOi, C, vj, (int)C3, 0.0f, dP, FA_BLOCK, 1);
          for (int r = 0; r < rows; r++) {
            float* s = P + (int64_t)r * FA_BLOCK;
            const float* d = dP + (int64_t)r * FA_BLOCK;
            const float Di = D[i0 + r];
#pragma omp simd
            for (int j = 0; j < cols; j++) s[j] = s[j] * (d[j] - Di);
          }
          sgemm(false, false, rows, hd, cols, scale, P, FA_BLOCK, kj, (int)C3, 1.0f, dq + (int64_t)i0 * C3, (int)C3, 1);
          sgemm(true, false, cols, hd, rows, scale, P, FA_BLOCK, qi, (int)C3, 1.0f, dk + (int64_t)j0 * C3, (int)C3, 1);
        }
      }
    }
  });
}

// adaLN: rows of x[B,N,C] against their batch's shift and scale rows.
static void modulate_forward(const float* x, const float* shift, const float* scale, float* y, int B, int N, int C) {
  parallel_for((int64_t)B * N, hi<int64_t>(1, SMALL_WORK / hi(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t b = r / N;
      const float* sh = shift + b * C;
      const float* sc = scale + b * C;
      const float* xr = x + r * C;
      float* yr = y + r * C;
#pragma omp simd
      for (int c = 0; c < C; c++) yr[c] = xr[c] * (1.0f + sc[c]) + sh[c];
    }
  });
}

// Run f(b, c0, c1) for the columns [c0, c1) of batch b that units [u0, u1) of B·C cover: the
// backward kernels below sum over tokens per (batch, column), so they split over those.
template <class F>
static inline void batch_columns(int64_t u0, int64_t u1, int C, F f) {
  for (int64_t b = u0 / C; b * C < u1; b++) {
    const int64_t c0 = hi<int64_t>(u0 - b * C, 0), c1 = lo<int64_t>(u1 - b * C, C);
    if (c0 < c1) f(b, c0, c1);
  }
}

static void modulate_backward(const float* x, const float* scale, const float* dy, float* dx, float* dshift,
                              float* dscale, int B, int N, int C) {
  parallel_for((int64_t)B * C, 16, [&](int64_t u0, int64_t u1) {
    batch_columns(u0, u1, C, [&](int64_t b, int64_t c0, int64_t c1) {
      const float* sc = scale + b * C;
      for (int n = 0; n < N; n++) {
        const int64_t row = (b * N + n) * C;
        const float* dyr = dy + row;
        const float* xr = x + row;
        if (dx) {
          float* dxr = dx + row;
#pragma omp simd
          for (int64_t c = c0; c < c1; c++) dxr[c] += dyr[c] * (1.0f + sc[c]);
        }
        if (dshift) {
          float* d = dshift + b * C;
#pragma omp simd
          for (int64_t c = c0; c < c1; c++) d[c] += dyr[c];
        }
        if (dscale) {
          float* d = dscale + b * C;
#pragma omp simd
          for (int64_t c = c0; c < c1; c++) d[c] += dyr[c] * xr[c];
        }
      }
    });
  });
}

static void gate_forward(const float* x, const float* gate, float* y, int B, int N, int C) {
  parallel_for((int64_t)B * N, hi<int64_t>(1, SMALL_WORK / hi(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* gr = gate + (r / N) * C;
      const float* xr = x + r * C;
      float* yr = y + r * C;
#pragma omp simd
      for (int c = 0; c < C; c++) yr[c] = xr[c] * gr[c];
    }
  });
}

static void gate_backward(const float* x, const float* gate, const float* dy, float* dx, float* dgate, int B, int N,
                          int C) {
  parallel_for((int64_t)B * C, 16, [&](int64_t u0, int64_t u1) {
    batch_columns(u0, u1, C, [&](int64_t b, int64_t c0, int64_t c1) {
      const float* gr = gate + b * C;
      for (int n = 0; n < N; n++) {
        const int64_t row = (b * N + n) * C;
        const float* dyr = dy + row;
        if (dx) {
          float* dxr = dx + row;
#pragma omp simd
          for (int64_t c = c0; c < c1; c++) dxr[c] += dyr[c] * gr[c];
        }
        if (dgate) {
          const float* xr = x + row;
          float* d = dgate + b * C;
#pragma omp simd
          for (int64_t c = c0; c < c1; c++) d[c] += dyr[c] * xr[c];
        }
      }
    });
  });
}

// SiLU, σ from the same exp as SwiGLU's gate.
static void silu_forward(const float* x, float* y, int64_t n) {
  parallel_for(n, SMALL_WORK, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
#ifdef __AVX2__
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    for (; i + 8 <= i1; i += 8) {
      __m256 v = _mm256_loadu_ps(x + i);
      __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, v))));
      _mm256_storeu_ps(y + i, _mm256_mul_ps(v, s));
    }
#endif
    for (; i < i1; i++) y[i] = x[i] / (1.0f + fast_exp(-x[i]));
  });
}

static void silu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
#ifdef __AVX2__
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    for (; i + 8 <= i1; i += 8) {
      __m256 v = _mm256_loadu_ps(x + i);
      __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, v))));
      // silu'(x) = σ(x) + silu(x)·(1 − σ(x))
      __m256 d = _mm256_fmadd_ps(_mm256_mul_ps(v, s), _mm256_sub_ps(one, s), s);
      _mm256_storeu_ps(dx + i, _mm256_fmadd_ps(_mm256_loadu_ps(dy + i), d, _mm256_loadu_ps(dx + i)));
    }
#endif
    for (; i < i1; i++) {
      const float s = 1.0f / (1.0f + fast_exp(-x[i]));
      dx[i] += dy[i] * (s + x[i] * s * (1.0f - s));
    }
  });
}

// Squared error and its gradient in one pass, summed as sum_squares sums: fixed blocks, float
// runs, float64 across them, the blocks in order.
static double mse(const float* pred, const float* target, float* dpred, int64_t n, float scale) {
  constexpr int64_t BLOCK = 1 << 14, RUN = 256;
  const int64_t nb = (n + BLOCK - 1) / BLOCK;
  const float two_scale = 2.0f * scale;
  double* pp = thread_scratch_f64(nb);
  parallel_for(nb, 4, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; blk++) {
      const int64_t i0 = blk * BLOCK, i1 = lo(n, i0 + BLOCK);
      double s = 0;
      for (int64_t r0 = i0; r0 < i1; r0 += RUN) {
        const int64_t r1 = lo(i1, r0 + RUN);
        float acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = r0; i < r1; i++) {
          const float d = pred[i] - target[i];
          dpred[i] = two_scale * d;
          acc += d * d;
        }
        s += acc;
      }
      pp[blk] = s;
    }
  });
  double total = 0;
  for (int64_t b = 0; b < nb; b++) total += pp[b];
  return total;
}

// A handful of rows per step: one thread, double precision, rounded once to float.
static void time_embedding(const float* t, float* out, int B, int dim, double max_period) {
  const int half = dim / 2;
  const double logp = std::log(max_period);
  for (int b = 0; b < B; b++) {
    float* o = out + (int64_t)b * dim;
    for (int i = 0; i < half; i++) {
      const double a = (double)t[b] * std::exp(-logp * i / half);
      o[i] = (float)std::cos(a);
      o[half + i] = (float)std::sin(a);
    }
  }
}

// Patches are a permutation whose runs of p·Ch values are contiguous on both sides; rows of
// tubes (batch, frame block, row block) split over threads, every value written by one thread.
template <bool ToTokens>
static void patch_permute(const float* src, float* dst, int B, int T, int H, int W, int Ch, int pt, int p,
                          bool accumulate) {
  const int Tn = T / pt, Hn = H / p, Wn = W / p;
  const int64_t width = (int64_t)pt * p * p * Ch, run = (int64_t)p * Ch;
  parallel_for((int64_t)B * Tn * Hn, hi<int64_t>(1, SMALL_WORK / hi<int64_t>((int64_t)Wn * width, 1)),
               [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) {
      const int64_t b = u / ((int64_t)Tn * Hn), tt = (u / Hn) % Tn, hh = u % Hn;
      for (int ww = 0; ww < Wn; ww++) {
        const int64_t token = u * Wn + ww;
        for (int dt = 0; dt < pt; dt++)
          for (int dh = 0; dh < p; dh++) {
            const int64_t vid = (((b * T + tt * pt + dt) * H + hh * p + dh) * W + (int64_t)ww * p) * Ch;
            const int64_t tok = token * width + ((int64_t)dt * p + dh) * run;
            const float* s = src + (ToTokens ? vid : tok);
            float* d = dst + (ToTokens ? tok : vid);
            if (accumulate) {
#pragma omp simd
              for (int64_t i = 0; i < run; i++) d[i] += s[i];
            } else {
              std::memcpy(d, s, sizeof(float) * run);
            }
          }
      }
    }
  });
}

static void patchify(const float* video, float* tokens, int B, int T, int H, int W, int Ch, int pt, int p,
                     bool accumulate) {
  patch_permute<true>(video, tokens, B, T, H, W, Ch, pt, p, accumulate);
}

static void unpatchify(const float* tokens, float* video, int B, int T, int H, int W, int Ch, int pt, int p,
                       bool accumulate) {
  patch_permute<false>(tokens, video, B, T, H, W, Ch, pt, p, accumulate);
}

const KernelTable table = SL_KERNEL_TABLE;

}  // namespace SL_ISA
}  // namespace sl
