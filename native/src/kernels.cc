// Kernel dispatch and the thread count: the AVX2 build of the kernels where the CPU has it.
#include "kernels.h"

#include <omp.h>

#include <cstring>
#include <vector>

namespace sl {

static bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

static const KernelTable* current = cpu_has_avx2() ? &avx2::table : &generic::table;
static int nthreads = omp_get_num_procs();

const KernelTable& kernels() { return *current; }

const char* kernels_name() { return current == &avx2::table ? "avx2" : "generic"; }

bool kernels_set(const char* name) {
  if (std::strcmp(name, "generic") == 0) {
    current = &generic::table;
    return true;
  }
  if (std::strcmp(name, "avx2") == 0 || std::strcmp(name, "avx512") == 0) {
    if (!cpu_has_avx2()) return false;
    current = &avx2::table;
    return true;
  }
  return false;
}

float* thread_scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if ((int64_t)buf.size() < n) buf.resize((size_t)n);
  return buf.data();
}

double* thread_scratch_f64(int64_t n) {
  thread_local std::vector<double> buf;
  if ((int64_t)buf.size() < n) buf.resize((size_t)n);
  return buf.data();
}

void set_threads(int n) { nthreads = n < 1 ? 1 : n; }
int threads() { return nthreads; }

}  // namespace sl
