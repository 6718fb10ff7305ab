// The non-GEMM kernels of scalelab, forward and backward. Semantics are defined by the
// TypeScript reference kernels (src/engine/reference.ts); see src/engine/kernels.ts for the
// contract (forwards overwrite, backwards accumulate).
//
// kernels_impl.h is compiled twice, once for AVX2+FMA and once for generic x86-64, into the
// namespaces sl::avx2 and sl::generic; kernels.cc picks one at load time.
#pragma once
#include <cstdint>

namespace sl {

struct KernelTable {
  void (*linear_forward)(const float* x, const float* w, const float* b, float* y, int N, int K, int O);
  void (*linear_backward)(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                          int N, int K, int O);
  void (*layernorm_forward)(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd,
                            int N, int D, float eps);
  void (*layernorm_backward)(const float* x, const float* g, const float* mean, const float* rstd,
                             const float* dy, float* dx, float* dg, float* db, int N, int D);
  void (*rmsnorm_forward)(const float* x, const float* g, float* y, float* rstd, int N, int D, float eps);
  void (*rmsnorm_backward)(const float* x, const float* g, const float* rstd, const float* dy, float* dx, float* dg,
                           int N, int D);
  void (*gelu_forward)(const float* x, float* y, int64_t n);
  void (*gelu_backward)(const float* x, const float* dy, float* dx, int64_t n);
  void (*swiglu_forward)(const float* x, float* y, int N, int H);
  void (*swiglu_backward)(const float* x, const float* dy, float* dx, int N, int H);
  void (*add_forward)(const float* a, const float* b, float* out, int64_t n, int64_t m);
  void (*add_backward)(const float* dout, float* da, float* db, int64_t n, int64_t m);
  void (*embedding_forward)(const int32_t* ids, const float* table, float* out, int N, int D);
  void (*embedding_backward)(const int32_t* ids, const float* dout, float* dtable, int N, int D);
  // pos: the position of each of the T rows (null: 0 … T−1).
  void (*rope_forward)(const float* qkv, float* out, int B, int T, int C, int H, const int32_t* pos);
  void (*rope_backward)(const float* dout, float* dqkv, int B, int T, int C, int H, const int32_t* pos);
  void (*attention_forward)(const float* qkv, float* out, float* att, int B, int T, int C, int H);
  void (*attention_backward)(const float* qkv, float* att, const float* dout, float* dqkv, int B, int T, int C, int H);
  void (*attention_decode)(const float* q, int q_stride, const float* kc, const float* vc, float* out, int n, int p0,
                           int C, int H);
  void (*attention_decode_batch)(const float* qkv, float* const* caches, const int32_t* p0s, const int32_t* ns, int B,
                                 float* out, int layer, int ctx, int C, int H);
  double (*cross_entropy)(const float* logits, const int32_t* targets, float* losses, float* dlogits, int N, int V,
                          float scale);
  void (*pack_linear)(const float* w, float* wp, int K, int O);
  void (*linear_packed_forward)(const float* x, const float* wp, const float* b, float* y, int N, int K, int O);
  double (*sum_squares)(const float* x, int64_t n);
  void (*adamw)(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                float eps, float wd, float bc1, float bc2, float grad_scale);
  void (*axpy)(float alpha, const float* src, float* dst, int64_t n);
};

namespace avx2 { extern const KernelTable table; }
namespace generic { extern const KernelTable table; }

// The table for this CPU (AVX2+FMA when available), or one chosen by name for tests.
const KernelTable& kernels();
bool kernels_set(const char* name);
const char* kernels_name();

// Scratch memory for the calling thread, grown on demand and kept (so kernels do not allocate
// per call). Defined in kernels.cc, which is compiled without ISA flags: the std::vector code
// behind it must not be an AVX2-compiled copy that a CPU without AVX2 could end up running.
float* thread_scratch(int64_t n);
double* thread_scratch_f64(int64_t n);

// Thread count used by every kernel; a fixed static split over this many OpenMP threads.
void set_threads(int n);
int threads();

}  // namespace sl
