// The kernels of scalelab, forward and backward (GEMM itself is gemm.h). Semantics are defined by the
// TypeScript reference kernels (src/engine/reference.ts); see src/engine/kernels.ts for the
// contract (forwards overwrite, backwards accumulate).
//
// kernels_impl.h is compiled twice, once for AVX2+FMA and once for generic x86-64, into the
// namespaces sl::avx2 and sl::generic; kernels.cc picks one at load time.
#pragma once
#include <cstdint>

#include "kernel_table.gen.h"  // struct KernelTable, from the declarations in native/ops.js

namespace sl {


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
// RoPE's rows [cos | sin] for positions 0 … n−1 at head dimension hd (hd floats each), made
// once and kept per calling thread; in kernels.cc for the same reason.
const float* rope_rows(int hd, int64_t n);

// Thread count used by every kernel; a fixed static split over this many OpenMP threads.
void set_threads(int n);
int threads();

}  // namespace sl
