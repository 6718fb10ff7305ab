{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-O2", "-O3", "-std=gnu++17", "-std=gnu++14"],
    "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-fno-math-errno"],
    "cflags!": ["-O2"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "gemm_avx2",
      "type": "static_library",
      "sources": ["src/gemm_avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma"]
    },
    {
      "target_name": "gemm_avx512",
      "type": "static_library",
      "sources": ["src/gemm_avx512.cc"],
      "cflags_cc": ["-mavx512f", "-mavx512dq", "-mfma"]
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": ["src/kernels_avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma"]
    },
    {
      "target_name": "portable_avx2",
      "type": "static_library",
      "sources": ["src/portable_avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma", "-ffp-contract=off"]
    },
    {
      "target_name": "portable_generic",
      "type": "static_library",
      "sources": ["src/portable_generic.cc"],
      "cflags_cc": ["-ffp-contract=off"]
    },
    {
      "target_name": "scalelab_native",
      "dependencies": ["gemm_avx2", "gemm_avx512", "kernels_avx2", "portable_avx2", "portable_generic"],
      "sources": ["src/addon.cc", "src/bindings.gen.cc", "src/gemm.cc", "src/kernels.cc", "src/kernels_generic.cc"],
      "libraries": ["-fopenmp"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
