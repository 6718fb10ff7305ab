// Private interface between the SGEMM driver (gemm.cc) and its ISA-specific kernel files.
//
// The driver owns blocking, threading and buffers; a KernelSet supplies everything whose speed
// depends on the instruction set: the register-blocked micro-kernel and the two packers.
//
// ODR hazard: gemm_avx2.cc / gemm_avx512.cc (both instantiating gemm_tile.h) are compiled with
// -mavx2 / -mavx512f. Any inline function or template they instantiate that also exists in
// gemm.cc could be merged by the linker into the ISA-flagged copy and then run on a CPU without
// that ISA. So those files keep all their
// helpers in an anonymous namespace, avoid std:: templates, and export only the getters below.
#pragma once

namespace sl {
namespace gemm_detail {

// Packed layouts (MR/NR are the kernel's register tile):
//   A panel: for each k, MR consecutive floats = rows i0..i0+MR-1 of op(A) at column k.
//   B panel: for each k, NR consecutive floats = columns j0..j0+NR-1 of op(B) at row k.
// Rows/columns past the matrix edge are zero so the micro-kernel never needs a ragged path.
// Packers may write up to 8 junk floats just past the last panel (overlapping 8-wide stores),
// so pack buffers carry a little slack.

// Packs op(A)[0:mc, 0:kc] (A already offset to the block's first element) into ceil(mc/MR)
// consecutive panels of kc*MR floats. trans: A is stored [K,M], so op(A)[i][k] = A[k*lda + i].
using PackAFn = void (*)(bool trans, const float* A, long lda, int mc, int kc, float* dst);

// Packs op(B)[0:kc, 0:nc] into ceil(nc/NR) panels of kc*NR floats.
// trans: B is stored [N,K], so op(B)[k][j] = B[j*ldb + k].
using PackBFn = void (*)(bool trans, const float* B, long ldb, int kc, int nc, float* dst);

// C[0:mc, 0:nc] = alpha * Ap * Bp + beta * C for ceil(mc/MR) packed A panels against
// ceil(nc/NR) packed B panels (the BLIS macro-kernel: B panel outer so it stays in L1 while the
// A panels stream from L2). beta == 0 means C is not read.
// Every C element goes through the same arithmetic whether its tile is full or ragged, so the
// bits never depend on where a thread split put the tile boundaries.
using MacroFn = void (*)(int kc, const float* Ap, const float* Bp, float* C, long ldc,
                         int mc, int nc, float alpha, float beta);

struct KernelSet {
  const char* name;
  int MR, NR;      // register tile
  int MC, KC, NC;  // cache blocking: A block MC x KC (L2), B block KC x NC (L3), B panel KC x NR (L1)
  PackAFn packA;
  PackBFn packB;
  MacroFn macro;
};

// Problems below this many flops per thread use fewer threads (default 5e5). Tests set 0 so
// that the thread-split code paths run on small matrices too.
void set_min_flops_per_thread(double flops);

const KernelSet* avx2_kernels();    // gemm_avx2.cc
const KernelSet* avx512_kernels();  // gemm_avx512.cc

}  // namespace gemm_detail
}  // namespace sl

// ---------------------------------------------------------------------------------------------
// 8-wide packers shared by gemm_avx2.cc and gemm_avx512.cc (only those define __AVX2__ here).
// They live in an anonymous namespace so each ISA file gets its own private copy (see the ODR
// note at the top). Templated on the register tile so both the 6x16 and 12x32 kernels use them.
// ---------------------------------------------------------------------------------------------
#if defined(__AVX2__)
#include <immintrin.h>

namespace sl {
namespace gemm_detail {
namespace {

inline __m256i first_lanes_mask(int n) {  // lanes [0, n) all-ones, n in [0, 8]
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

inline int imin(int a, int b) { return a < b ? a : b; }

// In-place 8x8 transpose: r[i] lane j  ->  r[j] lane i.
inline void transpose8x8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Gathers `rows` (<= W) strided rows, 8 consecutive k each, into W-wide k-major packed output:
// dst[j*W + r] = src[r][k0 + j] for j in [0, 8). Rows are handled 8 at a time through an 8x8
// transpose; a group with fewer than 8 real rows writes its junk lanes past the row's W floats,
// into the next k's slot, which the next store (or the caller's next write) overwrites. So
// callers need a few floats of slack after the last panel of a buffer.
template <int W>
inline void transpose_rows_to_panel(const float* const* src, int rows, float* dst) {
  for (int g = 0; g < W; g += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i)
      r[i] = (g + i < rows) ? _mm256_loadu_ps(src[g + i]) : _mm256_setzero_ps();
    transpose8x8(r);
    for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + j * W + g, r[j]);
  }
}

// Same, but the groups are stored j-major so each group's junk lands in a slot written later.
// Used when W is not a multiple of 8 (MR = 6, 12, 14): groups for one j are stored in ascending
// g, and j ascends, so junk at (j+1)*W + [0, 8 - W%8) is always overwritten by group 0 of j+1.
template <int W>
inline void transpose_rows_to_panel_ragged(const float* const* src, int rows, float* dst) {
  constexpr int G = (W + 7) / 8;
  __m256 r[G][8];
  for (int g = 0; g < G; ++g) {
    for (int i = 0; i < 8; ++i)
      r[g][i] = (g * 8 + i < rows) ? _mm256_loadu_ps(src[g * 8 + i]) : _mm256_setzero_ps();
    transpose8x8(r[g]);
  }
  for (int j = 0; j < 8; ++j)
    for (int g = 0; g < G; ++g) _mm256_storeu_ps(dst + j * W + g * 8, r[g][j]);
}

// Packs `rows` (<= W) strided sequences of length kc (src[r][k]) into a k-major W-wide panel.
// This is op(A) for A not transposed and op(B) for B transposed: a transpose is unavoidable.
template <int W>
inline void pack_panel_transposing(const float* base, long stride, int rows, int kc, float* dst) {
  const float* src[W];
  for (int r = 0; r < W; ++r) src[r] = base + (r < rows ? r : 0) * stride;
  int k = 0;
  for (; k + 8 <= kc; k += 8) {
    const float* s[W];
    for (int r = 0; r < W; ++r) s[r] = src[r] + k;
    if (W % 8 == 0)
      transpose_rows_to_panel<W>(s, rows, dst + (long)k * W);
    else
      transpose_rows_to_panel_ragged<W>(s, rows, dst + (long)k * W);
  }
  for (; k < kc; ++k)
    for (int r = 0; r < W; ++r) dst[(long)k * W + r] = r < rows ? src[r][k] : 0.0f;
}

// Packs kc rows of `cols` (<= W) contiguous floats (src + k*stride) into a k-major W-wide panel.
// This is op(A) for A transposed and op(B) for B not transposed: a plain strided copy.
// Full-width panels with W % 8 == 0 use exact stores; otherwise the masked load zero-fills the
// edge and the last 8-wide store of each k may spill junk into the next k (overwritten next).
template <int W>
inline void pack_panel_copying(const float* src, long stride, int cols, int kc, float* dst) {
  constexpr int G = (W + 7) / 8;
  __m256i mask[G];
  bool full[G];
  for (int g = 0; g < G; ++g) {
    int n = cols - 8 * g;
    n = n < 0 ? 0 : (n > 8 ? 8 : n);
    mask[g] = first_lanes_mask(n);
    full[g] = (n == 8);
  }
  if (cols == W && W % 8 == 0) {
    for (int k = 0; k < kc; ++k, src += stride, dst += W)
      for (int g = 0; g < G; ++g) _mm256_store_ps(dst + 8 * g, _mm256_loadu_ps(src + 8 * g));
    return;
  }
  for (int k = 0; k < kc; ++k, src += stride, dst += W)
    for (int g = 0; g < G; ++g) {
      __m256 v = full[g] ? _mm256_loadu_ps(src + 8 * g) : _mm256_maskload_ps(src + 8 * g, mask[g]);
      _mm256_storeu_ps(dst + 8 * g, v);
    }
}

// Packer entry points with the PackAFn / PackBFn signatures.
template <int MR>
void pack_a_8wide(bool trans, const float* A, long lda, int mc, int kc, float* dst) {
  for (int i = 0; i < mc; i += MR, dst += (long)kc * MR) {
    const int mr = imin(MR, mc - i);
    if (trans)
      pack_panel_copying<MR>(A + i, lda, mr, kc, dst);
    else
      pack_panel_transposing<MR>(A + (long)i * lda, lda, mr, kc, dst);
  }
}

template <int NR>
void pack_b_8wide(bool trans, const float* B, long ldb, int kc, int nc, float* dst) {
  for (int j = 0; j < nc; j += NR, dst += (long)kc * NR) {
    const int nr = imin(NR, nc - j);
    if (trans)
      pack_panel_transposing<NR>(B + (long)j * ldb, ldb, nr, kc, dst);
    else
      pack_panel_copying<NR>(B + j, ldb, nr, kc, dst);
  }
}

}  // namespace
}  // namespace gemm_detail
}  // namespace sl
#endif  // __AVX2__
