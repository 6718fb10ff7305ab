// The kernels compiled for any x86-64 (see kernels_impl.h).
#define SL_ISA generic
#include "kernels_impl.h"
