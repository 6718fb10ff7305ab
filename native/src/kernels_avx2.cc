// The kernels compiled for AVX2 + FMA (see kernels_impl.h).
#define SL_ISA avx2
#include "kernels_impl.h"
