// Kernel dispatch and the thread count: the AVX2 build of the kernels where the CPU has it.
#include "kernels.h"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <unordered_map>
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

// RoPE's cos/sin rows, here in the generic unit rather than in kernels_impl.h: the standard
// containers' code must not be compiled with AVX2 flags, where the linker could keep that copy
// for the generic kernels too. One table per calling thread and head dimension, grown as
// positions reach further; each row is made in double and rounded to float, the same bits on
// every instruction set.
static void rope_row(int p, int hd, float* cs, float* sn) {
  for (int i = 0; i < hd / 2; i++) {
    const double angle = p * std::pow(10000.0, -(2.0 * i) / hd);
    cs[i] = (float)std::cos(angle);
    sn[i] = (float)std::sin(angle);
  }
}

const float* rope_rows(int hd, int64_t n) {
  thread_local std::unordered_map<int, std::vector<float>> tables;
  std::vector<float>& table = tables[hd];
  const int64_t have = (int64_t)table.size() / hd;
  if (have < n) {
    table.resize((size_t)(n * hd));
    for (int64_t p = have; p < n; p++) rope_row((int)p, hd, &table[p * hd], &table[p * hd + hd / 2]);
  }
  return table.data();
}

void set_threads(int n) { nthreads = n < 1 ? 1 : n; }
int threads() { return nthreads; }

}  // namespace sl
