// The portable decode kernels for any x86-64, without contraction (see portable_impl.h).
#define SL_ISA generic
#include "portable.h"
#include "portable_impl.h"
