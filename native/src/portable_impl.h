// Portable decode kernels: the forward ops of a decode step (layernorm, RMSNorm, GELU, SwiGLU,
// rope and batched decode attention) written so that every instruction set computes the same
// bits. A file compressed on one CPU must decompress on any other (src/compress/), so the
// arithmetic of these kernels is defined here, once, as a sequence of IEEE float32 operations:
//
//   - every multiply-add that is fused is written as one (fma8 / fma1), and nothing else is:
//     the files including this one are compiled with -ffp-contract=off, so the compiler never
//     fuses a product into a sum on its own (that is what makes GCC's AVX2 build differ from its
//     generic one elsewhere);
//   - every reduction has one order: 8 lanes, lane l summing elements i ≡ l (mod 8) of the
//     whole blocks of 8, then the lanes combined as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then
//     the elements past the last whole block one by one (attention's scores sum the lanes by
//     another fixed tree, tree8, below);
//   - exp is Cephes' polynomial, the same operations as the training kernels' exp8, and an
//     elementwise loop's last partial block goes through the same 8-lane code (padded), so a
//     value's bits never depend on where it sits in its row.
//
// The AVX2 build runs the lanes as one __m256 (AVX-512 CPUs run the AVX2 build of these
// kernels); the generic build runs them as 8 floats with std::fmaf, which glibc computes
// correctly rounded on every x86-64 CPU (with the FMA instruction where there is one, in
// software where not). Both are compiled from this one source, so there is one order to keep.
//
// Threads split rows only; a row's result never depends on the split.
#include <omp.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels.h"

#if !defined(__FP_FAST_FMAF) && defined(__AVX2__)
#error "portable_impl.h: the AVX2 build needs -mfma"
#endif

namespace sl {
namespace SL_ISA {
namespace {

#ifdef __AVX2__
struct V8 {
  __m256 v;
};
inline V8 load8(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void store8(float* p, V8 a) { _mm256_storeu_ps(p, a.v); }
inline V8 set8(float x) { return {_mm256_set1_ps(x)}; }
inline V8 add8(V8 a, V8 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V8 sub8(V8 a, V8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V8 mul8(V8 a, V8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline V8 div8(V8 a, V8 b) { return {_mm256_div_ps(a.v, b.v)}; }
inline V8 min8(V8 a, V8 b) { return {_mm256_min_ps(a.v, b.v)}; }
inline V8 max8(V8 a, V8 b) { return {_mm256_max_ps(a.v, b.v)}; }
inline V8 floor8(V8 a) { return {_mm256_floor_ps(a.v)}; }
// a·b + c, rounded once.
inline V8 fma8(V8 a, V8 b, V8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
// 2^k for integral k in [−127, 128] (from exp's clamped range).
inline V8 pow2i8(V8 k) {
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k.v), _mm256_set1_epi32(127)), 23))};
}
inline float hsum8(V8 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));  // l_i + l_{i+4}
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                              // (0+4)+(2+6), (1+5)+(3+7)
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#else
struct V8 {
  float v[8];
};
inline V8 load8(const float* p) {
  V8 r;
  std::memcpy(r.v, p, sizeof r.v);
  return r;
}
inline void store8(float* p, V8 a) { std::memcpy(p, a.v, sizeof a.v); }
inline V8 set8(float x) {
  V8 r;
  for (int i = 0; i < 8; i++) r.v[i] = x;
  return r;
}
#define SL_LANES(expr)                   \
  V8 r;                                  \
  for (int i = 0; i < 8; i++) r.v[i] = expr; \
  return r;
inline V8 add8(V8 a, V8 b) { SL_LANES(a.v[i] + b.v[i]) }
inline V8 sub8(V8 a, V8 b) { SL_LANES(a.v[i] - b.v[i]) }
inline V8 mul8(V8 a, V8 b) { SL_LANES(a.v[i] * b.v[i]) }
inline V8 div8(V8 a, V8 b) { SL_LANES(a.v[i] / b.v[i]) }
// _mm256_min_ps / max_ps return the second operand when either is NaN; so do these.
inline V8 min8(V8 a, V8 b) { SL_LANES(a.v[i] < b.v[i] ? a.v[i] : b.v[i]) }
inline V8 max8(V8 a, V8 b) { SL_LANES(a.v[i] > b.v[i] ? a.v[i] : b.v[i]) }
inline V8 floor8(V8 a) { SL_LANES(std::floor(a.v[i])) }
inline V8 fma8(V8 a, V8 b, V8 c) { SL_LANES(std::fmaf(a.v[i], b.v[i], c.v[i])) }
inline V8 pow2i8(V8 k) {
  V8 r;
  for (int i = 0; i < 8; i++) {
    // cvtps2dq of an integral float in range is exact; NaN becomes INT32_MIN there, and here.
    const float f = k.v[i];
    const int32_t n = (f == f) ? (int32_t)f : INT32_MIN;
    const int32_t bits = (int32_t)((uint32_t)(n + 127) << 23);
    std::memcpy(&r.v[i], &bits, 4);
  }
  return r;
}
#undef SL_LANES
inline float hsum8(V8 a) {
  const float* l = a.v;
  const float s0 = l[0] + l[4], s1 = l[1] + l[5], s2 = l[2] + l[6], s3 = l[3] + l[7];
  const float t0 = s0 + s2, t1 = s1 + s3;
  return t0 + t1;
}
#endif

inline float fma1(float a, float b, float c) { return std::fmaf(a, b, c); }

// e^x, eight lanes: the operations of the training kernels' exp8, in this file's order.
inline V8 exp8p(V8 x) {
  x = min8(max8(x, set8(-87.0f)), set8(88.0f));
  const V8 k = floor8(fma8(x, set8(1.44269504088896341f), set8(0.5f)));
  V8 r = fma8(sub8(set8(0.0f), k), set8(0.693359375f), x);
  r = fma8(k, set8(2.12194440e-4f), r);
  V8 p = set8(1.9875691500e-4f);
  p = fma8(p, r, set8(1.3981999507e-3f));
  p = fma8(p, r, set8(8.3334519073e-3f));
  p = fma8(p, r, set8(4.1665795894e-2f));
  p = fma8(p, r, set8(1.6666665459e-1f));
  p = fma8(p, r, set8(5.0000001201e-1f));
  p = fma8(p, mul8(r, r), add8(r, set8(1.0f)));
  return mul8(p, pow2i8(k));
}

// Apply f (V8 → V8) to y[i] = f(x[i]) for i < n; the last partial block is padded with zeros,
// so every element goes through the same lane arithmetic.
template <class F>
inline void map8(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) store8(y + i, f(load8(x + i)));
  if (i < n) {
    float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(t, x + i, sizeof(float) * (size_t)(n - i));
    store8(t, f(load8(t)));
    std::memcpy(y + i, t, sizeof(float) * (size_t)(n - i));
  }
}

// Σ x[i]·y[i] (y null: Σ x[i]) in the reduction order above.
inline float dot(const float* x, const float* y, int n) {
  V8 acc = set8(0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) acc = y ? fma8(load8(x + i), load8(y + i), acc) : add8(acc, load8(x + i));
  float s = hsum8(acc);
  for (; i < n; i++) s = y ? fma1(x[i], y[i], s) : s + x[i];
  return s;
}

// Attention's scores use a second fixed order, the pairwise tree
// ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)) over the 8 lanes of each dot product, because eight
// such reductions go together in a few horizontal adds (tree8x8), where hsum8's order would
// cost a shuffle sequence per score.
#ifdef __AVX2__
inline float tree8(V8 a) {
  const __m256 h = _mm256_hadd_ps(a.v, a.v);  // l0+l1, l2+l3, ., ., l4+l5, l6+l7, ., .
  const __m256 h2 = _mm256_hadd_ps(h, h);     // (l0+l1)+(l2+l3), ., ., ., (l4+l5)+(l6+l7), ...
  return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(h2), _mm256_extractf128_ps(h2, 1)));
}
// Lane i of the result is tree8(a[i]).
inline V8 tree8x8(const V8* a) {
  const __m256 h01 = _mm256_hadd_ps(a[0].v, a[1].v), h23 = _mm256_hadd_ps(a[2].v, a[3].v);
  const __m256 h45 = _mm256_hadd_ps(a[4].v, a[5].v), h67 = _mm256_hadd_ps(a[6].v, a[7].v);
  const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
  return {_mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31))};
}
#else
inline float tree8(V8 a) {
  const float* l = a.v;
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}
inline V8 tree8x8(const V8* a) {
  V8 r;
  for (int i = 0; i < 8; i++) r.v[i] = tree8(a[i]);
  return r;
}
#endif

template <class F>
inline void rows_for(int64_t n, int64_t min_per_thread, F f) {
  int nt = threads();
  if (nt > 1 && n >= 2 * min_per_thread) {
    nt = (int)(n / min_per_thread < nt ? n / min_per_thread : nt);
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num(), k = omp_get_num_threads();
      f(n * t / k, n * (t + 1) / k);
    }
  } else if (n > 0) {
    f(0, n);
  }
}

constexpr float GELU_S = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float GELU_C = 0.044715f;

}  // namespace

// y = ((x − μ)·r)·g + b with μ = Σx / D, r = 1/√(Σ(x − μ)² / D + eps).
void layer_norm_forward_portable(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd,
                                 int N, int D, float eps) {
  rows_for(N, 64, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* xr = x + n * D;
      float* yr = y + n * D;
      const float mu = dot(xr, nullptr, D) / (float)D;
      V8 acc = set8(0.0f);
      int i = 0;
      for (; i + 8 <= D; i += 8) {
        const V8 d = sub8(load8(xr + i), set8(mu));
        acc = fma8(d, d, acc);
      }
      float v = hsum8(acc);
      for (; i < D; i++) {
        const float d = xr[i] - mu;
        v = fma1(d, d, v);
      }
      const float r = 1.0f / std::sqrt(v / (float)D + eps);
      for (i = 0; i + 8 <= D; i += 8) store8(yr + i, fma8(mul8(sub8(load8(xr + i), set8(mu)), set8(r)), load8(g + i), load8(b + i)));
      for (; i < D; i++) yr[i] = fma1((xr[i] - mu) * r, g[i], b[i]);
      mean[n] = mu;
      rstd[n] = r;
    }
  });
}

// y = (x·r)·g with r = 1/√(Σx² / D + eps).
void rms_norm_forward_portable(const float* x, const float* g, float* y, float* rstd, int N, int D, float eps) {
  rows_for(N, 64, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* xr = x + n * D;
      float* yr = y + n * D;
      const float r = 1.0f / std::sqrt(dot(xr, xr, D) / (float)D + eps);
      int i = 0;
      for (; i + 8 <= D; i += 8) store8(yr + i, mul8(mul8(load8(xr + i), set8(r)), load8(g + i)));
      for (; i < D; i++) yr[i] = (xr[i] * r) * g[i];
      rstd[n] = r;
    }
  });
}

// gelu(v) = (0.5·v)·(1 + t), t = 1 − 2/(e^(2u) + 1), u = S·fma(C·v, v·v, v).
void gelu_forward_portable(const float* x, float* y, int64_t n) {
  const int64_t blocks = (n + 7) / 8;
  rows_for(blocks, 2048, [&](int64_t b0, int64_t b1) {
    const int64_t i0 = 8 * b0, i1 = 8 * b1 < n ? 8 * b1 : n;
    map8(x + i0, y + i0, i1 - i0, [](V8 v) {
      const V8 u = mul8(set8(GELU_S), fma8(mul8(set8(GELU_C), v), mul8(v, v), v));
      const V8 e = exp8p(add8(u, u));
      const V8 t = sub8(set8(1.0f), div8(set8(2.0f), add8(e, set8(1.0f))));
      return mul8(mul8(set8(0.5f), v), add8(set8(1.0f), t));
    });
  });
}

// x[N, 2H] → y[N, H]: y = (a·s)·b with s = 1/(1 + e^(0 − a)).
void swiglu_forward_portable(const float* x, float* y, int N, int H) {
  rows_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* a = x + n * 2 * H;
      // s·a first (the silu), into y; then times b.
      float* yr = y + n * H;
      map8(a, yr, H, [](V8 v) { return mul8(v, div8(set8(1.0f), add8(set8(1.0f), exp8p(sub8(set8(0.0f), v))))); });
      const float* bv = a + H;
      int j = 0;
      for (; j + 8 <= H; j += 8) store8(yr + j, mul8(load8(yr + j), load8(bv + j)));
      for (; j < H; j++) yr[j] = yr[j] * bv[j];
    }
  });
}

// Rope at each row's position pos[t] (B = 1 decode layout, or row t at position t when pos is
// null): r1 = x1·c − x2·s, r2 = x2·c + x1·s, products rounded before the sum.
void rope_forward_portable(const float* qkv, float* out, int B, int T, int C, int H, const int32_t* pos) {
  const int hd = C / H, half = hd / 2;
  const int64_t C3 = 3 * (int64_t)C;
  int64_t positions = T;
  if (pos) {
    positions = 0;
    for (int t = 0; t < T; t++) positions = positions > (int64_t)pos[t] + 1 ? positions : (int64_t)pos[t] + 1;
  }
  const float* rows = rope_rows(hd, positions);
  rows_for(T, 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const float* cs = rows + (int64_t)(pos ? pos[t] : t) * hd;
      const float* sn = cs + half;
      for (int b = 0; b < B; b++) {
        const float* xr = qkv + ((int64_t)b * T + t) * C3;
        float* yr = out + ((int64_t)b * T + t) * C3;
        for (int h = 0; h < 2 * H; h++) {
          const float* x1 = xr + h * hd;
          const float* x2 = x1 + half;
          float* y1 = yr + h * hd;
          float* y2 = y1 + half;
          for (int i = 0; i < half; i++) {
            const float a = x1[i] * cs[i], bb = x2[i] * sn[i], c = x2[i] * cs[i], d = x1[i] * sn[i];
            y1[i] = a - bb;
            y2[i] = c + d;
          }
        }
        std::memcpy(yr + 2 * C, xr + 2 * C, sizeof(float) * C);
      }
    }
  });
}

namespace {

// One query row against len cached positions: scores q·k (the reduction order above) times
// 1/√hd, softmax with exp8p over each head's row (padded blocks), Σ_j (e_j · (1/Σe)) · v_j by
// fused multiply-adds in position order.
void attend_row_portable(const float* qi, const float* kc, const float* vc, float* o, int len, int C, int H, float* s) {
  const int hd = C / H;
  const float scale = 1.0f / std::sqrt((float)hd);
  // Scores q·k_j: per lane an FMA chain over the whole blocks of 8, the lanes summed by tree8,
  // then the rest of the head one FMA at a time; eight positions at a time where there are eight.
  const int hd8 = hd & ~7;
  int j = 0;
  for (; j + 8 <= len; j += 8) {
    for (int h = 0; h < H; h++) {
      const float* qh = qi + h * hd;
      V8 acc[8];
      for (int i = 0; i < 8; i++) acc[i] = set8(0.0f);
      for (int c = 0; c < hd8; c += 8) {
        const V8 qv = load8(qh + c);
        for (int i = 0; i < 8; i++) acc[i] = fma8(qv, load8(kc + (int64_t)(j + i) * C + h * hd + c), acc[i]);
      }
      float d[8];
      store8(d, tree8x8(acc));
      for (int i = 0; i < 8; i++) {
        const float* kh = kc + (int64_t)(j + i) * C + h * hd;
        for (int c = hd8; c < hd; c++) d[i] = fma1(qh[c], kh[c], d[i]);
        s[h * len + j + i] = d[i] * scale;
      }
    }
  }
  for (; j < len; j++) {
    const float* kj = kc + (int64_t)j * C;
    for (int h = 0; h < H; h++) {
      const float* qh = qi + h * hd;
      const float* kh = kj + h * hd;
      V8 acc = set8(0.0f);
      for (int c = 0; c < hd8; c += 8) acc = fma8(load8(qh + c), load8(kh + c), acc);
      float d = tree8(acc);
      for (int c = hd8; c < hd; c++) d = fma1(qh[c], kh[c], d);
      s[h * len + j] = d * scale;
    }
  }
  float* inv = s + (int64_t)H * len;
  for (int h = 0; h < H; h++) {
    float* sh = s + h * len;
    float mx = sh[0];
    for (int j = 1; j < len; j++) mx = sh[j] > mx ? sh[j] : mx;
    map8(sh, sh, len, [mx](V8 v) { return exp8p(sub8(v, set8(mx))); });
    inv[h] = 1.0f / dot(sh, nullptr, len);
  }
  std::memset(o, 0, sizeof(float) * C);
  for (int j = 0; j < len; j++) {
    const float* vj = vc + (int64_t)j * C;
    for (int h = 0; h < H; h++) {
      const float pj = s[h * len + j] * inv[h];
      float* oh = o + h * hd;
      const float* vh = vj + h * hd;
      int c = 0;
      for (; c + 8 <= hd; c += 8) store8(oh + c, fma8(set8(pj), load8(vh + c), load8(oh + c)));
      for (; c < hd; c++) oh[c] = fma1(pj, vh[c], oh[c]);
    }
  }
}

}  // namespace

// attentionDecodeBatch with attend_row_portable (see ops.js for the layout).
void attention_decode_batch_portable(const float* qkv, float* const* caches, const int32_t* p0s, const int32_t* ns,
                                     float* out, int layer, int ctx, int C, int H, int B) {
  const int64_t C3 = 3 * (int64_t)C, plane = (int64_t)ctx * C;
  int64_t R = 0;
  for (int b = 0; b < B; b++) {
    float* kc = caches[b] + 2 * layer * plane;
    float* vc = kc + plane;
    for (int i = 0; i < ns[b]; i++) {
      const float* row = qkv + (R + i) * C3;
      std::memcpy(kc + (int64_t)(p0s[b] + i) * C, row + C, sizeof(float) * C);
      std::memcpy(vc + (int64_t)(p0s[b] + i) * C, row + 2 * C, sizeof(float) * C);
    }
    R += ns[b];
  }
  rows_for(R, 4, [&](int64_t r0, int64_t r1) {
    int b = 0;
    int64_t first = 0;
    while (first + ns[b] <= r0) first += ns[b++];
    float* s = thread_scratch((int64_t)H * ctx + H + 8);
    for (int64_t r = r0; r < r1; r++) {
      while (r >= first + ns[b]) first += ns[b++];
      const float* kc = caches[b] + 2 * layer * plane;
      const int i = (int)(r - first);
      attend_row_portable(qkv + r * C3, kc, kc + plane, out + r * C, p0s[b] + i + 1, C, H, s);
    }
  });
}

}  // namespace SL_ISA
}  // namespace sl
