// The N-API module: every kernel's binding (generated from native/ops.js into bindings.gen.cc)
// and the few controls that are not kernels: threads, which instruction set runs, and which did.
#include <napi.h>

#include <string>

#include "args.h"
#include "gemm.h"
#include "kernels.h"

namespace {

using sl::Args;

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads");
  int64_t n = a.i(0);
  a.require(n >= 1 && n <= 1024, "thread count must be between 1 and 1024");
  if (!a.ok()) return info.Env().Undefined();
  sl::set_threads((int)n);
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), sl::threads()); }

Napi::Value KernelInfo(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("gemm", sl::gemm_kernel());
  o.Set("kernels", sl::kernels_name());
  return o;
}

// Force an instruction set for every kernel ("generic", "avx2", "avx512"); false if unsupported.
Napi::Value SetKernel(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "setKernel: argument 0 must be a string").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  bool ok = sl::gemm_set_kernel(name.c_str());
  if (ok) sl::kernels_set(name.c_str());
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sl::export_kernels(env, exports);
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo));
  exports.Set("setKernel", Napi::Function::New(env, SetKernel));
  return exports;
}

}  // namespace

NODE_API_MODULE(scalelab_native, Init)
