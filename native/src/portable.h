// The portable decode kernels (portable_impl.h), declared for the kernel table of the including
// namespace (SL_ISA): each instruction set's build of them lives in its own translation unit,
// compiled with -ffp-contract=off (portable_avx2.cc, portable_generic.cc).
#pragma once
#include <cstdint>

namespace sl {
namespace SL_ISA {

void layer_norm_forward_portable(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd,
                                 int N, int D, float eps);
void rms_norm_forward_portable(const float* x, const float* g, float* y, float* rstd, int N, int D, float eps);
void gelu_forward_portable(const float* x, float* y, int64_t n);
void swiglu_forward_portable(const float* x, float* y, int N, int H);
void rope_forward_portable(const float* qkv, float* out, int B, int T, int C, int H, const int32_t* pos);
void attention_decode_batch_portable(const float* qkv, float* const* caches, const int32_t* starts,
                                     const int32_t* counts, float* out, int layer, int ctx, int C, int H, int B);

}  // namespace SL_ISA
}  // namespace sl
