// Standalone correctness check for sl::sgemm against a double-precision triple loop.
//
// Build (from the repo root; the ISA files, both instantiating gemm_tile.h, need their own flags,
// exactly as in binding.gyp):
//   g++ -O3 -std=c++17 -fopenmp -c native/src/gemm_avx2.cc   -mavx2 -mfma -o /tmp/gemm_avx2.o
//   g++ -O3 -std=c++17 -fopenmp -c native/src/gemm_avx512.cc -mavx512f -mavx512dq -mfma -o /tmp/gemm_avx512.o
//   g++ -O3 -std=c++17 -fopenmp -Inative/src native/src/gemm.cc native/test/gemm_check.cc
//       /tmp/gemm_avx2.o /tmp/gemm_avx512.o -o /tmp/gemm_check
//   /tmp/gemm_check     # prints the first failures and a summary; exit status 1 on any failure
//
// Covers: every kernel this CPU can run, all four transpose combinations, sizes around the
// register/cache tiles (1, 3, 17, 255, ...), K == 0, alpha/beta values, leading dimensions wider
// than the matrix, beta == 0 with NaN-filled C, C padding left untouched, bit-identical results
// for nthreads 1/2/3/4, and concurrent nthreads == 1 calls from inside an OpenMP region.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gemm.h"
#include "gemm_internal.h"

namespace {

int g_failures = 0;
long g_cases = 0;

struct Case {
  bool ta, tb;
  int M, N, K;
  float alpha, beta;
  int pad_a, pad_b, pad_c;  // extra leading-dimension width
};

struct Mats {
  std::vector<float> A, B, C0;
  int lda, ldb, ldc;
};

Mats make(const Case& c, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  Mats m;
  const int arows = c.ta ? c.K : c.M, acols = c.ta ? c.M : c.K;
  const int brows = c.tb ? c.N : c.K, bcols = c.tb ? c.K : c.N;
  m.lda = acols + c.pad_a;
  m.ldb = bcols + c.pad_b;
  m.ldc = c.N + c.pad_c;
  // Exact sizes (no slack after the last row) so an over-read shows up under ASan.
  m.A.resize(arows > 0 ? (size_t)(arows - 1) * m.lda + acols : 0);
  m.B.resize(brows > 0 ? (size_t)(brows - 1) * m.ldb + bcols : 0);
  for (auto& x : m.A) x = d(rng);
  for (auto& x : m.B) x = d(rng);
  m.C0.resize((size_t)(c.M - 1) * m.ldc + c.N + c.pad_c);
  for (auto& x : m.C0) x = d(rng);
  return m;
}

float at_a(const Case& c, const Mats& m, int i, int k) {
  return c.ta ? m.A[(size_t)k * m.lda + i] : m.A[(size_t)i * m.lda + k];
}
float at_b(const Case& c, const Mats& m, int k, int j) {
  return c.tb ? m.B[(size_t)j * m.ldb + k] : m.B[(size_t)k * m.ldb + j];
}

// Runs one case; returns the C it produced (for bit comparisons). beta == 0 cases start from a
// NaN-filled C to prove C is not read.
std::vector<float> run(const Case& c, const Mats& m, int nthreads) {
  std::vector<float> C = m.C0;
  if (c.beta == 0.0f)
    for (int i = 0; i < c.M; ++i)
      for (int j = 0; j < c.N; ++j) C[(size_t)i * m.ldc + j] = std::numeric_limits<float>::quiet_NaN();
  sl::sgemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, m.A.data(), m.lda, m.B.data(), m.ldb, c.beta,
            C.data(), m.ldc, nthreads);
  return C;
}

void fail(const Case& c, const char* what, const std::string& detail) {
  if (++g_failures <= 20)
    std::printf("FAIL [%s] %s%s M=%d N=%d K=%d alpha=%g beta=%g pads=%d/%d/%d: %s: %s\n",
                sl::gemm_kernel(), c.ta ? "T" : "N", c.tb ? "T" : "N", c.M, c.N, c.K, c.alpha,
                c.beta, c.pad_a, c.pad_b, c.pad_c, what, detail.c_str());
}

bool verify(const Case& c, const Mats& m, const std::vector<float>& C) {
  for (int i = 0; i < c.M; ++i) {
    for (int j = 0; j < c.N; ++j) {
      double s = 0, abs_s = 0;
      for (int k = 0; k < c.K; ++k) {
        const double p = (double)at_a(c, m, i, k) * at_b(c, m, k, j);
        s += p;
        abs_s += std::fabs(p);
      }
      const double c0 = m.C0[(size_t)i * m.ldc + j];
      const double ref = c.alpha * s + (c.beta == 0.0f ? 0.0 : c.beta * c0);
      const double scale = std::fabs(c.alpha) * abs_s + std::fabs(c.beta * c0);
      const double tol = 2.0 * (c.K + 3) * 6e-8 * scale + 1e-30;
      const double got = C[(size_t)i * m.ldc + j];
      if (!(std::fabs(got - ref) <= tol)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "C[%d,%d] = %.9g, want %.9g (tol %.3g)", i, j, got, ref, tol);
        fail(c, "wrong value", buf);
        return false;
      }
    }
    // Padding columns beyond N must be untouched.
    for (int j = c.N; j < m.ldc && i < c.M - 1; ++j)
      if (std::memcmp(&C[(size_t)i * m.ldc + j], &m.C0[(size_t)i * m.ldc + j], 4) != 0) {
        fail(c, "wrote outside C", "padding column " + std::to_string(j));
        return false;
      }
  }
  for (size_t t = (size_t)(c.M - 1) * m.ldc + c.N; t < C.size(); ++t)
    if (std::memcmp(&C[t], &m.C0[t], 4) != 0) {
      fail(c, "wrote outside C", "tail");
      return false;
    }
  return true;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

void check_case(const Case& c, std::mt19937& rng, bool threads_too) {
  ++g_cases;
  const Mats m = make(c, rng);
  const std::vector<float> c1 = run(c, m, 1);
  if (!verify(c, m, c1)) return;
  if (!threads_too) return;
  for (int t : {2, 3, 4}) {
    const std::vector<float> ct = run(c, m, t);
    if (!same_bits(c1, ct)) fail(c, "nthreads changes bits", "nthreads=" + std::to_string(t));
  }
  // Same inputs, same call: same bits (no uninitialised state leaking in).
  if (!same_bits(c1, run(c, m, 1))) fail(c, "not repeatable", "");
}

void check_kernel(const char* name) {
  if (!sl::gemm_set_kernel(name)) {
    std::printf("kernel %-8s not supported on this CPU, skipped\n", name);
    return;
  }
  const int before = g_failures;
  const long cases_before = g_cases;
  std::mt19937 rng(1234);

  // Sizes straddling every tile size in use: MR 4/6/12, NR 8/16/32, KC 256, MC 120/128/384.
  const int sizes[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 63, 97};
  const int ksizes[] = {0, 1, 3, 8, 17, 64, 255, 256, 257, 300, 513};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      for (int M : sizes)
        for (int N : {1, 3, 16, 17, 33, 50})
          for (int K : {1, 3, 17, 255})
            check_case({bool(ta), bool(tb), M, N, K, 1.0f, 0.0f, 0, 0, 0}, rng, true);
      for (int K : ksizes)
        check_case({bool(ta), bool(tb), 29, 37, K, 1.5f, -0.5f, 3, 5, 7}, rng, true);
      for (float alpha : {1.0f, -1.0f, 0.5f, 0.0f})
        for (float beta : {0.0f, 1.0f, -2.0f, 0.25f})
          check_case({bool(ta), bool(tb), 23, 41, 19, alpha, beta, 1, 2, 3}, rng, true);
      // Blocks bigger than MC / NC / KC, with strides like the model's (768) and odd ones.
      check_case({bool(ta), bool(tb), 255, 255, 255, 1.0f, 1.0f, 0, 0, 0}, rng, true);
      check_case({bool(ta), bool(tb), 401, 130, 600, -0.75f, 0.5f, 768 - 130, 11, 768 - 130}, rng, true);
      check_case({bool(ta), bool(tb), 130, 3100, 40, 1.0f, 0.0f, 1, 0, 0}, rng, true);
      check_case({bool(ta), bool(tb), 3, 3201, 70, 1.0f, 1.0f, 0, 1, 1}, rng, true);
      check_case({bool(ta), bool(tb), 1000, 5, 33, 2.0f, 0.0f, 0, 0, 0}, rng, true);
    }
  // K == 0 with beta == 0 must zero C (even a NaN-filled one); nthreads 1 and 2.
  for (int t : {1, 2}) {
    std::vector<float> C(12, std::numeric_limits<float>::quiet_NaN());
    sl::sgemm(false, false, 3, 4, 0, 1.0f, nullptr, 1, nullptr, 4, 0.0f, C.data(), 4, t);
    for (float x : C)
      if (x != 0.0f) {
        ++g_failures;
        std::printf("FAIL [%s] K=0 beta=0 did not zero C\n", name);
        break;
      }
  }

  // Concurrent nthreads == 1 calls from inside a parallel region share nothing but inputs.
  {
    const Case c{false, true, 70, 90, 300, 1.0f, 0.0f, 0, 0, 0};
    const Mats m = make(c, rng);
    const std::vector<float> want = run(c, m, 1);
    int bad = 0;
#pragma omp parallel num_threads(4) reduction(+ : bad)
    for (int rep = 0; rep < 20; ++rep) {
      std::vector<float> got = run(c, m, 1);
      if (!same_bits(got, want)) ++bad;
    }
    if (bad) {
      ++g_failures;
      std::printf("FAIL [%s] concurrent nthreads=1 calls differ (%d)\n", name, bad);
    }
    // nthreads > 1 from inside a parallel region (nested teams get one thread): still correct.
#pragma omp parallel num_threads(2) reduction(+ : bad)
    {
      std::vector<float> got = run(c, m, 2);
      if (!same_bits(got, want)) ++bad;
    }
    if (bad) {
      ++g_failures;
      std::printf("FAIL [%s] nested nthreads=2 calls differ (%d)\n", name, bad);
    }
  }
  std::printf("kernel %-8s %ld cases, %d failures\n", name, g_cases - cases_before, g_failures - before);
}

}  // namespace

int main() {
  // Let even tiny cases take the multi-threaded path, so the split code is exercised.
  sl::gemm_detail::set_min_flops_per_thread(0);
  std::printf("default kernel: %s\n", sl::gemm_kernel());
  const std::string def = sl::gemm_kernel();
  for (const char* k : {"generic", "avx2", "avx512"}) check_kernel(k);
  if (sl::gemm_set_kernel("bogus")) {
    ++g_failures;
    std::printf("FAIL gemm_set_kernel accepted a bogus name\n");
  }
  sl::gemm_set_kernel(def.c_str());
  std::printf(g_failures ? "FAILED (%d)\n" : "ALL OK\n", g_failures);
  return g_failures ? 1 : 0;
}
