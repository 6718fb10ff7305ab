// The portable decode kernels compiled for AVX2 + FMA, without contraction (see portable_impl.h).
#define SL_ISA avx2
#include "portable.h"
#include "portable_impl.h"
