// Argument reading and checking for the N-API bindings (bindings.gen.cc, addon.cc), and the
// helpers the kernel declarations (native/ops.js) use in their length expressions. TypeScript
// checks shapes first with friendly messages (src/engine/ops.ts); these checks are the last line
// of defence, so that no call from JavaScript can read or write outside a buffer.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace sl {

// Reads the arguments of one call, recording the first problem instead of throwing, so each
// binding reads straight through and checks `ok()` once before calling the kernel.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}

  int64_t i(int k) {
    if (!info_[k].IsNumber()) return fail(k, "an integer"), 0;
    double v = info_[k].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 2147483647.0) || v != std::floor(v)) return fail(k, "a non-negative integer"), 0;
    return (int64_t)v;
  }
  float f(int k) {
    if (!info_[k].IsNumber()) return fail(k, "a number"), 0.0f;
    return (float)info_[k].As<Napi::Number>().DoubleValue();
  }
  double d(int k) {
    if (!info_[k].IsNumber()) return fail(k, "a number"), 0.0;
    return info_[k].As<Napi::Number>().DoubleValue();
  }
  bool b(int k) { return info_[k].ToBoolean().Value(); }
  // Elements of argument k when it is a typed array, else 0 (its type is checked where it is read).
  int64_t len(int k) { return info_[k].IsTypedArray() ? (int64_t)info_[k].As<Napi::TypedArray>().ElementLength() : 0; }

  // A Float32Array of at least `need` elements (or null when nullable).
  float* buf(int k, int64_t need, bool nullable = false) {
    if (nullable && (info_[k].IsNull() || info_[k].IsUndefined())) return nullptr;
    if (!info_[k].IsTypedArray() || info_[k].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      return fail(k, "a Float32Array"), nullptr;
    auto a = info_[k].As<Napi::Float32Array>();
    if ((int64_t)a.ElementLength() < need) return fail(k, "at least " + std::to_string(need) + " elements"), nullptr;
    return a.Data();
  }
  int32_t* ints(int k, int64_t need) {
    if (!info_[k].IsTypedArray() || info_[k].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      return fail(k, "an Int32Array"), nullptr;
    auto a = info_[k].As<Napi::Int32Array>();
    if ((int64_t)a.ElementLength() < need) return fail(k, "at least " + std::to_string(need) + " elements"), nullptr;
    return a.Data();
  }
  // Optional positions (null or undefined: none), each in [0, 2^20): rope keeps a cos/sin row
  // per position reached, so a stray huge one would take the memory of a million-token context.
  int32_t* positions(int k, int64_t need) {
    if (info_[k].IsNull() || info_[k].IsUndefined()) return nullptr;
    int32_t* p = ints(k, need);
    for (int64_t j = 0; p && j < need; j++)
      if (p[j] < 0 || p[j] >= (1 << 20)) return fail(k, "positions in [0, 2^20)"), nullptr;
    return p;
  }
  // Every id in [0, limit): an out-of-range id would index outside the table.
  void ids_below(const int32_t* ids, int64_t n, int64_t limit) {
    if (!ids) return;
    for (int64_t j = 0; j < n; j++)
      if (ids[j] < 0 || ids[j] >= limit) {
        fail(-1, "ids in [0, " + std::to_string(limit) + "), got " + std::to_string(ids[j]));
        return;
      }
  }
  // An array of `count` Float32Arrays, each of at least `need` elements.
  std::vector<float*> bufs(int k, int64_t count, int64_t need) {
    std::vector<float*> out;
    if (!info_[k].IsArray()) return fail(k, "an array of Float32Array"), out;
    auto arr = info_[k].As<Napi::Array>();
    if ((int64_t)arr.Length() != count) return fail(k, "an array of " + std::to_string(count) + " buffers"), out;
    for (uint32_t j = 0; j < arr.Length(); j++) {
      Napi::Value v = arr.Get(j);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        return fail(k, "an array of Float32Array"), std::vector<float*>();
      auto a = v.As<Napi::Float32Array>();
      if ((int64_t)a.ElementLength() < need)
        return fail(k, "buffers of at least " + std::to_string(need) + " elements"), std::vector<float*>();
      out.push_back(a.Data());
    }
    return out;
  }
  void require(bool cond, const char* what) {
    if (!cond) fail(-1, what);
  }

  bool ok() {
    if (error_.empty()) return true;
    Napi::TypeError::New(info_.Env(), std::string(op_) + ": " + error_).ThrowAsJavaScriptException();
    return false;
  }

 private:
  void fail(int k, const std::string& what) {
    if (!error_.empty()) return;
    error_ = k >= 0 ? "argument " + std::to_string(k) + " must be " + what : what;
  }
  const Napi::CallbackInfo& info_;
  const char* op_;
  std::string error_;
};

// Elements a strided matrix of `rows` rows of `cols` columns with row stride ld spans.
inline int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

// Floats a packed weight of O outputs over K inputs takes: whole panels of 16 outputs.
inline int64_t packed_linear_length(int64_t K, int64_t O) { return (O + 15) / 16 * 16 * K; }

// Rows of a batched decode step, Σ counts, after checking that every sequence adds at least one
// row and that its rows fit the context (the kernel writes them into the cache).
inline int64_t batch_rows(Args& args, const int32_t* starts, const int32_t* counts, int64_t B, int64_t ctx) {
  int64_t R = 0;
  if (!starts || !counts) return 0;
  for (int64_t b = 0; b < B; b++) {
    args.require(counts[b] >= 1, "every sequence needs at least one new row");
    args.require(starts[b] >= 0 && (int64_t)starts[b] + counts[b] <= ctx, "a sequence's rows must fit the context");
    R += counts[b] > 0 ? counts[b] : 0;
  }
  return R;
}

// Adds a function to `exports` for every kernel declared in native/ops.js (bindings.gen.cc).
void export_kernels(Napi::Env env, Napi::Object exports);

}  // namespace sl
