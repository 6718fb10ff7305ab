// SGEMM for scalelab: row-major, the transposes the model needs, no allocation per call.
#pragma once

namespace sl {

// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major.
//   op(A) is A[M,K] with row stride lda, or when transA, A is stored [K,M] (stride lda).
//   op(B) is B[K,N] with row stride ldb, or when transB, B is stored [N,K] (stride ldb).
// beta == 0 means C is written without being read (it may hold NaNs).
// nthreads > 1 splits the work over OpenMP threads with a fixed static split over M and N
// (never over K), so every element of C is summed in the same order whatever nthreads is.
// nthreads == 1 runs on the calling thread and is safe to call from inside an OpenMP
// parallel region (packing buffers are per thread).
void sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
           const float* A, int lda, const float* B, int ldb, float beta,
           float* C, int ldc, int nthreads);

// Which micro-kernel sgemm uses on this CPU: "avx512", "avx2" or "generic".
const char* gemm_kernel();

// Force a kernel by name (tests compare them); returns false if this CPU cannot run it.
bool gemm_set_kernel(const char* name);

}  // namespace sl
