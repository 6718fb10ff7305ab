// N-API bindings: unpack JavaScript arguments, check them, call a kernel. TypeScript checks
// shapes first with friendly messages (src/engine/ops.ts); the checks here are the last line
// of defence, so that no call from JavaScript can read or write outside a buffer.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gemm.h"
#include "kernels.h"

namespace {

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
int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm");
  bool tA = a.b(0), tB = a.b(1);
  int64_t M = a.i(2), N = a.i(3), K = a.i(4);
  float alpha = a.f(5);
  int64_t lda = a.i(7), ldb = a.i(9), ldc = a.i(12);
  float beta = a.f(10);
  a.require(lda >= (tA ? M : K) && ldb >= (tB ? K : N) && ldc >= N, "leading dimensions too small for the shapes");
  const float* A = a.buf(6, tA ? span(K, M, lda) : span(M, K, lda));
  const float* B = a.buf(8, tB ? span(N, K, ldb) : span(K, N, ldb));
  float* C = a.buf(11, span(M, N, ldc));
  if (!a.ok()) return info.Env().Undefined();
  sl::sgemm(tA, tB, (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc, sl::threads());
  return info.Env().Undefined();
}

Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  Args a(info, "linearForward");
  int64_t N = a.i(4), K = a.i(5), O = a.i(6);
  const float* x = a.buf(0, N * K);
  const float* w = a.buf(1, O * K);
  const float* b = a.buf(2, O, true);
  float* y = a.buf(3, N * O);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().linear_forward(x, w, b, y, (int)N, (int)K, (int)O);
  return info.Env().Undefined();
}

Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  Args a(info, "linearBackward");
  int64_t N = a.i(6), K = a.i(7), O = a.i(8);
  const float* x = a.buf(0, N * K);
  const float* w = a.buf(1, O * K);
  const float* dy = a.buf(2, N * O);
  float* dx = a.buf(3, N * K, true);
  float* dw = a.buf(4, O * K);
  float* db = a.buf(5, O, true);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().linear_backward(x, w, dy, dx, dw, db, (int)N, (int)K, (int)O);
  return info.Env().Undefined();
}

Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormForward");
  int64_t N = a.i(6), D = a.i(7);
  float eps = a.f(8);
  const float* x = a.buf(0, N * D);
  const float* g = a.buf(1, D);
  const float* b = a.buf(2, D);
  float* y = a.buf(3, N * D);
  float* mean = a.buf(4, N);
  float* rstd = a.buf(5, N);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().layernorm_forward(x, g, b, y, mean, rstd, (int)N, (int)D, eps);
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward");
  int64_t N = a.i(8), D = a.i(9);
  const float* x = a.buf(0, N * D);
  const float* g = a.buf(1, D);
  const float* mean = a.buf(2, N);
  const float* rstd = a.buf(3, N);
  const float* dy = a.buf(4, N * D);
  float* dx = a.buf(5, N * D);
  float* dg = a.buf(6, D);
  float* db = a.buf(7, D);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().layernorm_backward(x, g, mean, rstd, dy, dx, dg, db, (int)N, (int)D);
  return info.Env().Undefined();
}

Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormForward");
  int64_t N = a.i(4), D = a.i(5);
  float eps = a.f(6);
  const float* x = a.buf(0, N * D);
  const float* g = a.buf(1, D);
  float* y = a.buf(2, N * D);
  float* rstd = a.buf(3, N);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().rmsnorm_forward(x, g, y, rstd, (int)N, (int)D, eps);
  return info.Env().Undefined();
}

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormBackward");
  int64_t N = a.i(6), D = a.i(7);
  const float* x = a.buf(0, N * D);
  const float* g = a.buf(1, D);
  const float* rstd = a.buf(2, N);
  const float* dy = a.buf(3, N * D);
  float* dx = a.buf(4, N * D);
  float* dg = a.buf(5, D);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().rmsnorm_backward(x, g, rstd, dy, dx, dg, (int)N, (int)D);
  return info.Env().Undefined();
}

Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  Args a(info, "geluForward");
  int64_t n = a.i(2);
  const float* x = a.buf(0, n);
  float* y = a.buf(1, n);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().gelu_forward(x, y, n);
  return info.Env().Undefined();
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackward");
  int64_t n = a.i(3);
  const float* x = a.buf(0, n);
  const float* dy = a.buf(1, n);
  float* dx = a.buf(2, n);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().gelu_backward(x, dy, dx, n);
  return info.Env().Undefined();
}

Napi::Value SwigluForward(const Napi::CallbackInfo& info) {
  Args a(info, "swigluForward");
  int64_t N = a.i(2), H = a.i(3);
  const float* x = a.buf(0, N * 2 * H);
  float* y = a.buf(1, N * H);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().swiglu_forward(x, y, (int)N, (int)H);
  return info.Env().Undefined();
}

Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "swigluBackward");
  int64_t N = a.i(3), H = a.i(4);
  const float* x = a.buf(0, N * 2 * H);
  const float* dy = a.buf(1, N * H);
  float* dx = a.buf(2, N * 2 * H);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().swiglu_backward(x, dy, dx, (int)N, (int)H);
  return info.Env().Undefined();
}

Napi::Value AddForward(const Napi::CallbackInfo& info) {
  Args a(info, "addForward");
  int64_t n = a.i(3), m = a.i(4);
  a.require(m > 0 && n % m == 0, "the broadcast period must divide the size");
  const float* x = a.buf(0, n);
  const float* y = a.buf(1, m);
  float* out = a.buf(2, n);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().add_forward(x, y, out, n, m);
  return info.Env().Undefined();
}

Napi::Value AddBackward(const Napi::CallbackInfo& info) {
  Args a(info, "addBackward");
  int64_t n = a.i(3), m = a.i(4);
  a.require(m > 0 && n % m == 0, "the broadcast period must divide the size");
  const float* dout = a.buf(0, n);
  float* da = a.buf(1, n, true);
  float* db = a.buf(2, m, true);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().add_backward(dout, da, db, n, m);
  return info.Env().Undefined();
}

Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingForward");
  int64_t N = a.i(3), D = a.i(4);
  const int32_t* ids = a.ints(0, N);
  auto table = info[1].IsTypedArray() ? info[1].As<Napi::TypedArray>().ElementLength() : 0;
  const float* t = a.buf(1, D);
  float* out = a.buf(2, N * D);
  a.ids_below(ids, N, D > 0 ? (int64_t)table / D : 0);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().embedding_forward(ids, t, out, (int)N, (int)D);
  return info.Env().Undefined();
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingBackward");
  int64_t N = a.i(3), D = a.i(4);
  const int32_t* ids = a.ints(0, N);
  const float* dout = a.buf(1, N * D);
  auto table = info[2].IsTypedArray() ? info[2].As<Napi::TypedArray>().ElementLength() : 0;
  float* dt = a.buf(2, D);
  a.ids_below(ids, N, D > 0 ? (int64_t)table / D : 0);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().embedding_backward(ids, dout, dt, (int)N, (int)D);
  return info.Env().Undefined();
}

Napi::Value RopeForward(const Napi::CallbackInfo& info) {
  Args a(info, "ropeForward");
  int64_t B = a.i(2), T = a.i(3), C = a.i(4), H = a.i(5);
  a.require(H > 0 && C % H == 0 && (C / H) % 2 == 0, "heads must divide the model width into even head dimensions");
  const float* qkv = a.buf(0, B * T * 3 * C);
  float* out = a.buf(1, B * T * 3 * C);
  const int32_t* pos = a.positions(6, T);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().rope_forward(qkv, out, (int)B, (int)T, (int)C, (int)H, pos);
  return info.Env().Undefined();
}

Napi::Value RopeBackward(const Napi::CallbackInfo& info) {
  Args a(info, "ropeBackward");
  int64_t B = a.i(2), T = a.i(3), C = a.i(4), H = a.i(5);
  a.require(H > 0 && C % H == 0 && (C / H) % 2 == 0, "heads must divide the model width into even head dimensions");
  const float* dout = a.buf(0, B * T * 3 * C);
  float* dqkv = a.buf(1, B * T * 3 * C);
  const int32_t* pos = a.positions(6, T);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().rope_backward(dout, dqkv, (int)B, (int)T, (int)C, (int)H, pos);
  return info.Env().Undefined();
}

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionForward");
  int64_t B = a.i(3), T = a.i(4), C = a.i(5), H = a.i(6);
  a.require(H > 0 && C % H == 0, "heads must divide the model width");
  const float* qkv = a.buf(0, B * T * 3 * C);
  float* out = a.buf(1, B * T * C);
  float* att = a.buf(2, B * H * T * T);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().attention_forward(qkv, out, att, (int)B, (int)T, (int)C, (int)H);
  return info.Env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionBackward");
  int64_t B = a.i(4), T = a.i(5), C = a.i(6), H = a.i(7);
  a.require(H > 0 && C % H == 0, "heads must divide the model width");
  const float* qkv = a.buf(0, B * T * 3 * C);
  float* att = a.buf(1, B * H * T * T);
  const float* dout = a.buf(2, B * T * C);
  float* dqkv = a.buf(3, B * T * 3 * C);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().attention_backward(qkv, att, dout, dqkv, (int)B, (int)T, (int)C, (int)H);
  return info.Env().Undefined();
}

Napi::Value AttentionDecode(const Napi::CallbackInfo& info) {
  Args a(info, "attentionDecode");
  int64_t qs = a.i(1), n = a.i(5), p0 = a.i(6), C = a.i(7), H = a.i(8);
  a.require(H > 0 && C % H == 0, "heads must divide the model width");
  a.require(n > 0, "at least one new row");
  a.require(qs >= C, "the query stride must be at least the model width");
  const float* q = a.buf(0, (n - 1) * qs + C);
  const float* kc = a.buf(2, (p0 + n) * C);
  const float* vc = a.buf(3, (p0 + n) * C);
  float* out = a.buf(4, n * C);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().attention_decode(q, (int)qs, kc, vc, out, (int)n, (int)p0, (int)C, (int)H);
  return info.Env().Undefined();
}

// Floats a packed weight of O outputs over K inputs takes: whole panels of 16 outputs.
int64_t packed_linear_length(int64_t K, int64_t O) { return (O + 15) / 16 * 16 * K; }

Napi::Value PackLinear(const Napi::CallbackInfo& info) {
  Args a(info, "packLinear");
  int64_t K = a.i(2), O = a.i(3);
  const float* w = a.buf(0, O * K);
  float* wp = a.buf(1, packed_linear_length(K, O));
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().pack_linear(w, wp, (int)K, (int)O);
  return info.Env().Undefined();
}

Napi::Value LinearPackedForward(const Napi::CallbackInfo& info) {
  Args a(info, "linearPackedForward");
  int64_t N = a.i(4), K = a.i(5), O = a.i(6);
  const float* x = a.buf(0, N * K);
  const float* wp = a.buf(1, packed_linear_length(K, O));
  const float* b = a.buf(2, O, true);
  float* y = a.buf(3, N * O);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().linear_packed_forward(x, wp, b, y, (int)N, (int)K, (int)O);
  return info.Env().Undefined();
}

Napi::Value AttentionDecodeBatch(const Napi::CallbackInfo& info) {
  Args a(info, "attentionDecodeBatch");
  int64_t layer = a.i(5), ctx = a.i(6), C = a.i(7), H = a.i(8);
  a.require(H > 0 && C % H == 0, "heads must divide the model width");
  const int32_t* p0s = nullptr;
  const int32_t* ns = nullptr;
  int64_t B = 0, R = 0;
  if (info[2].IsTypedArray()) B = info[2].As<Napi::TypedArray>().ElementLength();
  p0s = a.ints(2, B);
  ns = a.ints(3, B);
  if (p0s && ns)
    for (int64_t b = 0; b < B; b++) {
      a.require(ns[b] >= 1, "every sequence needs at least one new row");
      a.require(p0s[b] >= 0 && (int64_t)p0s[b] + ns[b] <= ctx, "a sequence's rows must fit the context");
      R += ns[b] > 0 ? ns[b] : 0;
    }
  std::vector<float*> caches = a.bufs(1, B, (2 * layer + 2) * ctx * C);
  const float* qkv = a.buf(0, R * 3 * C);
  float* out = a.buf(4, R * C);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().attention_decode_batch(qkv, caches.data(), p0s, ns, (int)B, out, (int)layer, (int)ctx, (int)C, (int)H);
  return info.Env().Undefined();
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropy");
  int64_t N = a.i(4), V = a.i(5);
  float scale = a.f(6);
  a.require(V > 0, "the vocabulary must not be empty");
  const float* logits = a.buf(0, N * V);
  const int32_t* targets = a.ints(1, N);
  float* losses = a.buf(2, N);
  float* dlogits = a.buf(3, N * V);
  a.ids_below(targets, N, V);
  if (!a.ok()) return info.Env().Undefined();
  double total = sl::kernels().cross_entropy(logits, targets, losses, dlogits, (int)N, (int)V, scale);
  return Napi::Number::New(info.Env(), total);
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares");
  int64_t n = a.i(1);
  const float* x = a.buf(0, n);
  if (!a.ok()) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), sl::kernels().sum_squares(x, n));
}

Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Args a(info, "adamw");
  int64_t n = a.i(4);
  float lr = a.f(5), beta1 = a.f(6), beta2 = a.f(7), eps = a.f(8), wd = a.f(9);
  double step = a.d(10);
  float scale = a.f(11);
  float* p = a.buf(0, n);
  const float* g = a.buf(1, n);
  float* m = a.buf(2, n);
  float* v = a.buf(3, n);
  a.require(step >= 1, "step counts from 1");
  if (!a.ok()) return info.Env().Undefined();
  // Bias corrections in float64 from the float32 betas the update itself uses.
  float bc1 = (float)(1.0 - std::pow((double)beta1, step));
  float bc2 = (float)(1.0 - std::pow((double)beta2, step));
  sl::kernels().adamw(p, g, m, v, n, lr, beta1, beta2, eps, wd, bc1, bc2, scale);
  return info.Env().Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy");
  float alpha = a.f(0);
  int64_t n = a.i(3);
  const float* src = a.buf(1, n);
  float* dst = a.buf(2, n);
  if (!a.ok()) return info.Env().Undefined();
  sl::kernels().axpy(alpha, src, dst, n);
  return info.Env().Undefined();
}

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
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("linearForward", Napi::Function::New(env, LinearForward));
  exports.Set("linearBackward", Napi::Function::New(env, LinearBackward));
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward));
  exports.Set("rmsNormForward", Napi::Function::New(env, RmsNormForward));
  exports.Set("rmsNormBackward", Napi::Function::New(env, RmsNormBackward));
  exports.Set("geluForward", Napi::Function::New(env, GeluForward));
  exports.Set("geluBackward", Napi::Function::New(env, GeluBackward));
  exports.Set("swigluForward", Napi::Function::New(env, SwigluForward));
  exports.Set("swigluBackward", Napi::Function::New(env, SwigluBackward));
  exports.Set("addForward", Napi::Function::New(env, AddForward));
  exports.Set("addBackward", Napi::Function::New(env, AddBackward));
  exports.Set("embeddingForward", Napi::Function::New(env, EmbeddingForward));
  exports.Set("embeddingBackward", Napi::Function::New(env, EmbeddingBackward));
  exports.Set("ropeForward", Napi::Function::New(env, RopeForward));
  exports.Set("ropeBackward", Napi::Function::New(env, RopeBackward));
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward));
  exports.Set("attentionDecode", Napi::Function::New(env, AttentionDecode));
  exports.Set("packLinear", Napi::Function::New(env, PackLinear));
  exports.Set("linearPackedForward", Napi::Function::New(env, LinearPackedForward));
  exports.Set("attentionDecodeBatch", Napi::Function::New(env, AttentionDecodeBatch));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo));
  exports.Set("setKernel", Napi::Function::New(env, SetKernel));
  return exports;
}

}  // namespace

NODE_API_MODULE(scalelab_native, Init)
