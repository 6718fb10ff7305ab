// Reference kernels: the definition of every op, in plain TypeScript. Slow on purpose: each is
// the textbook formula with no tiling, fusion or threading, and each works in float64 too, which
// is what the finite-difference gradient checks run on.
import { PACK_PANEL, type Buf, type Kernels } from './kernels.js';

const GELU_S = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

export const reference: Kernels = {
  name: 'reference',

  gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const a = tA ? A[k * lda + i] : A[i * lda + k];
          const b = tB ? B[j * ldb + k] : B[k * ldb + j];
          s += a * b;
        }
        C[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * C[i * ldc + j]);
      }
    }
  },

  linearForward(x, w, b, y, N, K, O) {
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        let s = b ? b[o] : 0;
        for (let k = 0; k < K; k++) s += x[n * K + k] * w[o * K + k];
        y[n * O + o] = s;
      }
    }
  },

  packLinear(w, wp, K, O) {
    const P = Math.ceil(O / PACK_PANEL);
    for (let p = 0; p < P; p++) {
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < PACK_PANEL; j++) {
          const o = p * PACK_PANEL + j;
          wp[(p * K + k) * PACK_PANEL + j] = o < O ? w[o * K + k] : 0;
        }
      }
    }
  },

  linearPackedForward(x, wp, b, y, N, K, O) {
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const p = Math.floor(o / PACK_PANEL), j = o % PACK_PANEL;
        let s = 0;
        for (let k = 0; k < K; k++) s += x[n * K + k] * wp[(p * K + k) * PACK_PANEL + j];
        y[n * O + o] = s + (b ? b[o] : 0);
      }
    }
  },

  linearBackward(x, w, dy, dx, dw, db, N, K, O) {
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const d = dy[n * O + o];
        if (db) db[o] += d;
        for (let k = 0; k < K; k++) {
          if (dx) dx[n * K + k] += d * w[o * K + k];
          dw[o * K + k] += d * x[n * K + k];
        }
      }
    }
  },

  layerNormForward(x, g, b, y, mean, rstd, N, D, eps) {
    for (let n = 0; n < N; n++) {
      const row = n * D;
      let mu = 0;
      for (let i = 0; i < D; i++) mu += x[row + i];
      mu /= D;
      let varsum = 0;
      for (let i = 0; i < D; i++) varsum += (x[row + i] - mu) ** 2;
      const r = 1 / Math.sqrt(varsum / D + eps);
      for (let i = 0; i < D; i++) y[row + i] = (x[row + i] - mu) * r * (g ? g[i] : 1) + (b ? b[i] : 0);
      mean[n] = mu;
      rstd[n] = r;
    }
  },

  layerNormBackward(x, g, mean, rstd, dy, dx, dg, db, N, D) {
    for (let n = 0; n < N; n++) {
      const row = n * D;
      const mu = mean[n], r = rstd[n];
      // dx = r·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), with dxhat = dy·g.
      let sumD = 0, sumDX = 0;
      for (let i = 0; i < D; i++) {
        const xhat = (x[row + i] - mu) * r;
        const dxhat = dy[row + i] * (g ? g[i] : 1);
        sumD += dxhat;
        sumDX += dxhat * xhat;
      }
      sumD /= D;
      sumDX /= D;
      for (let i = 0; i < D; i++) {
        const xhat = (x[row + i] - mu) * r;
        const dxhat = dy[row + i] * (g ? g[i] : 1);
        dx[row + i] += r * (dxhat - sumD - xhat * sumDX);
        if (dg) dg[i] += dy[row + i] * xhat;
        if (db) db[i] += dy[row + i];
      }
    }
  },

  rmsNormForward(x, g, y, rstd, N, D, eps) {
    for (let n = 0; n < N; n++) {
      const row = n * D;
      let ss = 0;
      for (let i = 0; i < D; i++) ss += x[row + i] ** 2;
      const r = 1 / Math.sqrt(ss / D + eps);
      for (let i = 0; i < D; i++) y[row + i] = x[row + i] * r * g[i];
      rstd[n] = r;
    }
  },

  rmsNormBackward(x, g, rstd, dy, dx, dg, N, D) {
    for (let n = 0; n < N; n++) {
      const row = n * D;
      const r = rstd[n];
      // dx = r·(dxhat − xhat·mean(dxhat·xhat)), with xhat = x·r and dxhat = dy·g.
      let sumDX = 0;
      for (let i = 0; i < D; i++) sumDX += dy[row + i] * g[i] * x[row + i] * r;
      sumDX /= D;
      for (let i = 0; i < D; i++) {
        const xhat = x[row + i] * r;
        dx[row + i] += r * (dy[row + i] * g[i] - xhat * sumDX);
        dg[i] += dy[row + i] * xhat;
      }
    }
  },

  swigluForward(x, y, N, H) {
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        const a = x[n * 2 * H + j], b = x[n * 2 * H + H + j];
        y[n * H + j] = (a / (1 + Math.exp(-a))) * b;
      }
    }
  },

  swigluBackward(x, dy, dx, N, H) {
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        const ia = n * 2 * H + j, ib = ia + H;
        const a = x[ia], b = x[ib], d = dy[n * H + j];
        const s = 1 / (1 + Math.exp(-a)); // σ(a); silu'(a) = σ(a)·(1 + a·(1 − σ(a)))
        dx[ia] += d * b * s * (1 + a * (1 - s));
        dx[ib] += d * a * s;
      }
    }
  },

  geluForward(x, y, n) {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      y[i] = 0.5 * v * (1 + Math.tanh(GELU_S * (v + GELU_C * v * v * v)));
    }
  },

  geluBackward(x, dy, dx, n) {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const t = Math.tanh(GELU_S * (v + GELU_C * v * v * v));
      const dt = (1 - t * t) * GELU_S * (1 + 3 * GELU_C * v * v);
      dx[i] += dy[i] * (0.5 * (1 + t) + 0.5 * v * dt);
    }
  },

  addForward(a, b, out, n, m) {
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i % m];
  },

  addBackward(dout, da, db, n, m) {
    for (let i = 0; i < n; i++) {
      if (da) da[i] += dout[i];
      if (db) db[i % m] += dout[i];
    }
  },

  embeddingForward(ids, table, out, N, D) {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < D; i++) out[n * D + i] = table[ids[n] * D + i];
    }
  },

  embeddingBackward(ids, dout, dtable, N, D) {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < D; i++) dtable[ids[n] * D + i] += dout[n * D + i];
    }
  },

  attentionForward(qkv, out, att, B, T, C, H) {
    const hd = C / H, scale = 1 / Math.sqrt(hd), C3 = 3 * C;
    const s = new Float64Array(T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const attBase = (b * H + h) * T * T;
        for (let i = 0; i < T; i++) {
          const q = b * T * C3 + i * C3 + h * hd;
          let max = -Infinity;
          for (let j = 0; j <= i; j++) {
            const k = b * T * C3 + j * C3 + C + h * hd;
            let dot = 0;
            for (let c = 0; c < hd; c++) dot += qkv[q + c] * qkv[k + c];
            s[j] = dot * scale;
            if (s[j] > max) max = s[j];
          }
          let z = 0;
          for (let j = 0; j <= i; j++) { s[j] = Math.exp(s[j] - max); z += s[j]; }
          for (let j = 0; j < T; j++) att[attBase + i * T + j] = j <= i ? s[j] / z : 0;
          const o = b * T * C + i * C + h * hd;
          for (let c = 0; c < hd; c++) {
            let acc = 0;
            for (let j = 0; j <= i; j++) acc += att[attBase + i * T + j] * qkv[b * T * C3 + j * C3 + 2 * C + h * hd + c];
            out[o + c] = acc;
          }
        }
      }
    }
  },

  attentionDecode(q, qStride, kCache, vCache, out, n, p0, C, H) {
    const hd = C / H, scale = 1 / Math.sqrt(hd);
    const s = new Float64Array(p0 + n);
    for (let i = 0; i < n; i++) {
      const len = p0 + i + 1;
      for (let h = 0; h < H; h++) {
        let max = -Infinity;
        for (let j = 0; j < len; j++) {
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += q[i * qStride + h * hd + c] * kCache[j * C + h * hd + c];
          s[j] = dot * scale;
          if (s[j] > max) max = s[j];
        }
        let z = 0;
        for (let j = 0; j < len; j++) { s[j] = Math.exp(s[j] - max); z += s[j]; }
        for (let c = 0; c < hd; c++) {
          let acc = 0;
          for (let j = 0; j < len; j++) acc += (s[j] / z) * vCache[j * C + h * hd + c];
          out[i * C + h * hd + c] = acc;
        }
      }
    }
  },

  attentionDecodeBatch(qkv, caches, starts, counts, out, layer, ctx, C, H) {
    const plane = ctx * C;
    let r = 0;
    for (let b = 0; b < caches.length; b++) {
      const K = caches[b].subarray(2 * layer * plane, (2 * layer + 1) * plane);
      const V = caches[b].subarray((2 * layer + 1) * plane, (2 * layer + 2) * plane);
      for (let i = 0; i < counts[b]; i++) {
        const src = (r + i) * 3 * C, dst = (starts[b] + i) * C;
        for (let c = 0; c < C; c++) {
          K[dst + c] = qkv[src + C + c];
          V[dst + c] = qkv[src + 2 * C + c];
        }
      }
      this.attentionDecode(qkv.subarray(r * 3 * C), 3 * C, K, V, out.subarray(r * C), counts[b], starts[b], C, H);
      r += counts[b];
    }
  },

  attentionBackward(qkv, att, dout, dqkv, B, T, C, H) {
    const hd = C / H, scale = 1 / Math.sqrt(hd), C3 = 3 * C;
    const dp = new Float64Array(T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const attBase = (b * H + h) * T * T;
        for (let i = 0; i < T; i++) {
          const o = b * T * C + i * C + h * hd;
          const q = b * T * C3 + i * C3 + h * hd;
          // dP = dOut·Vᵀ and dV += Pᵀ·dOut, then the softmax Jacobian.
          let dot = 0;
          for (let j = 0; j <= i; j++) {
            const v = b * T * C3 + j * C3 + 2 * C + h * hd;
            const p = att[attBase + i * T + j];
            let d = 0;
            for (let c = 0; c < hd; c++) {
              d += dout[o + c] * qkv[v + c];
              dqkv[v + c] += p * dout[o + c];
            }
            dp[j] = d;
            dot += p * d;
          }
          for (let j = 0; j <= i; j++) {
            const ds = att[attBase + i * T + j] * (dp[j] - dot) * scale;
            const k = b * T * C3 + j * C3 + C + h * hd;
            for (let c = 0; c < hd; c++) {
              dqkv[q + c] += ds * qkv[k + c];
              dqkv[k + c] += ds * qkv[q + c];
            }
          }
        }
      }
    }
  },

  ropeForward(qkv, out, B, T, C, H, pos) {
    const hd = C / H, half = hd / 2, C3 = 3 * C;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * C3;
        for (let c = 2 * C; c < C3; c++) out[row + c] = qkv[row + c];
        for (let h = 0; h < 2 * H; h++) { // the H heads of q, then the H heads of k
          const base = row + h * hd;
          for (let i = 0; i < half; i++) {
            const angle = (pos ? pos[t] : t) * Math.pow(10000, -(2 * i) / hd), c = Math.cos(angle), s = Math.sin(angle);
            const x1 = qkv[base + i], x2 = qkv[base + half + i];
            out[base + i] = x1 * c - x2 * s;
            out[base + half + i] = x2 * c + x1 * s;
          }
        }
      }
    }
  },

  ropeBackward(dout, dqkv, B, T, C, H, pos) {
    const hd = C / H, half = hd / 2, C3 = 3 * C;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * C3;
        for (let c = 2 * C; c < C3; c++) dqkv[row + c] += dout[row + c];
        for (let h = 0; h < 2 * H; h++) {
          const base = row + h * hd;
          for (let i = 0; i < half; i++) {
            const angle = (pos ? pos[t] : t) * Math.pow(10000, -(2 * i) / hd), c = Math.cos(angle), s = Math.sin(angle);
            const d1 = dout[base + i], d2 = dout[base + half + i];
            dqkv[base + i] += d1 * c + d2 * s;
            dqkv[base + half + i] += d2 * c - d1 * s;
          }
        }
      }
    }
  },

  crossEntropy(logits, targets, losses, dlogits, N, V, scale) {
    let total = 0;
    for (let n = 0; n < N; n++) {
      const row = n * V;
      let max = -Infinity;
      for (let i = 0; i < V; i++) if (logits[row + i] > max) max = logits[row + i];
      let z = 0;
      for (let i = 0; i < V; i++) z += Math.exp(logits[row + i] - max);
      const logZ = max + Math.log(z);
      losses[n] = logZ - logits[row + targets[n]];
      total += losses[n];
      for (let i = 0; i < V; i++) {
        const p = Math.exp(logits[row + i] - logZ);
        dlogits[row + i] = (p - (i === targets[n] ? 1 : 0)) * scale;
      }
    }
    return total;
  },

  sumSquares(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  },

  adamw(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale) {
    const bc1 = 1 - beta1 ** step, bc2 = 1 - beta2 ** step;
    for (let i = 0; i < n; i++) {
      const grad = g[i] * gradScale;
      m[i] = beta1 * m[i] + (1 - beta1) * grad;
      v[i] = beta2 * v[i] + (1 - beta2) * grad * grad;
      p[i] -= lr * weightDecay * p[i];
      p[i] -= lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
    }
  },

  axpy(alpha, src, dst, n) {
    for (let i = 0; i < n; i++) dst[i] += alpha * src[i];
  },

  // The diffusion transformer's kernels.

  flashAttentionForward(qkv, out, lse, B, N, C, H) {
    // The textbook softmax over each whole row (the flash kernel's blocks are an optimisation).
    const hd = C / H, scale = 1 / Math.sqrt(hd), C3 = 3 * C;
    const s = new Float64Array(N);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < N; i++) {
          const q = (b * N + i) * C3 + h * hd;
          let max = -Infinity;
          for (let j = 0; j < N; j++) {
            const k = (b * N + j) * C3 + C + h * hd;
            let dot = 0;
            for (let c = 0; c < hd; c++) dot += qkv[q + c] * qkv[k + c];
            s[j] = dot * scale;
            if (s[j] > max) max = s[j];
          }
          let z = 0;
          for (let j = 0; j < N; j++) { s[j] = Math.exp(s[j] - max); z += s[j]; }
          lse[(b * H + h) * N + i] = max + Math.log(z);
          const o = (b * N + i) * C + h * hd;
          for (let c = 0; c < hd; c++) {
            let acc = 0;
            for (let j = 0; j < N; j++) acc += (s[j] / z) * qkv[(b * N + j) * C3 + 2 * C + h * hd + c];
            out[o + c] = acc;
          }
        }
      }
    }
  },

  flashAttentionBackward(qkv, out, lse, dout, dqkv, B, N, C, H) {
    // Probabilities recomputed from lse, and the softmax Jacobian's row term Σ_j P·dP taken
    // directly (the native kernel uses the equal rowsum(dout∘out), so out is not read here).
    void out;
    const hd = C / H, scale = 1 / Math.sqrt(hd), C3 = 3 * C;
    const p = new Float64Array(N), dp = new Float64Array(N);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < N; i++) {
          const q = (b * N + i) * C3 + h * hd, o = (b * N + i) * C + h * hd;
          const L = lse[(b * H + h) * N + i];
          let dot = 0;
          for (let j = 0; j < N; j++) {
            const k = (b * N + j) * C3 + C + h * hd, v = k + C;
            let sc = 0, d = 0;
            for (let c = 0; c < hd; c++) {
              sc += qkv[q + c] * qkv[k + c];
              d += dout[o + c] * qkv[v + c];
            }
            p[j] = Math.exp(sc * scale - L);
            dp[j] = d;
            dot += p[j] * d;
          }
          for (let j = 0; j < N; j++) {
            const k = (b * N + j) * C3 + C + h * hd, v = k + C;
            const ds = p[j] * (dp[j] - dot) * scale;
            for (let c = 0; c < hd; c++) {
              dqkv[v + c] += p[j] * dout[o + c];
              dqkv[q + c] += ds * qkv[k + c];
              dqkv[k + c] += ds * qkv[q + c];
            }
          }
        }
      }
    }
  },

  naiveFullAttentionForward(qkv, out, att, B, N, C, H) {
    // The probabilities are exp(s − lse): the flash reference's lse, kept whole.
    const lse = new Float64Array(B * H * N);
    this.flashAttentionForward(qkv, out, lse, B, N, C, H);
    const hd = C / H, scale = 1 / Math.sqrt(hd), C3 = 3 * C;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < N; i++) {
          for (let j = 0; j < N; j++) {
            let dot = 0;
            for (let c = 0; c < hd; c++) dot += qkv[(b * N + i) * C3 + h * hd + c] * qkv[(b * N + j) * C3 + C + h * hd + c];
            att[((b * H + h) * N + i) * N + j] = Math.exp(dot * scale - lse[(b * H + h) * N + i]);
          }
        }
      }
    }
  },

  naiveFullAttentionBackward(qkv, att, dout, dqkv, B, N, C, H) {
    const hd = C / H, scale = 1 / Math.sqrt(hd), C3 = 3 * C;
    const dp = new Float64Array(N);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < N; i++) {
          const row = ((b * H + h) * N + i) * N, o = (b * N + i) * C + h * hd, q = (b * N + i) * C3 + h * hd;
          let dot = 0;
          for (let j = 0; j < N; j++) {
            const v = (b * N + j) * C3 + 2 * C + h * hd;
            let d = 0;
            for (let c = 0; c < hd; c++) {
              d += dout[o + c] * qkv[v + c];
              dqkv[v + c] += att[row + j] * dout[o + c];
            }
            dp[j] = d;
            dot += att[row + j] * d;
          }
          for (let j = 0; j < N; j++) {
            const ds = att[row + j] * (dp[j] - dot);
            att[row + j] = ds;
            const k = (b * N + j) * C3 + C + h * hd;
            for (let c = 0; c < hd; c++) {
              dqkv[q + c] += ds * scale * qkv[k + c];
              dqkv[k + c] += ds * scale * qkv[q + c];
            }
          }
        }
      }
    }
  },

  modulateForward(x, shift, scale, y, B, N, C) {
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const i = (b * N + n) * C + c;
          y[i] = x[i] * (1 + scale[b * C + c]) + shift[b * C + c];
        }
      }
    }
  },

  modulateBackward(x, scale, dy, dx, dshift, dscale, B, N, C) {
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const i = (b * N + n) * C + c;
          if (dx) dx[i] += dy[i] * (1 + scale[b * C + c]);
          if (dshift) dshift[b * C + c] += dy[i];
          if (dscale) dscale[b * C + c] += dy[i] * x[i];
        }
      }
    }
  },

  gateForward(x, gate, y, B, N, C) {
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) y[(b * N + n) * C + c] = x[(b * N + n) * C + c] * gate[b * C + c];
      }
    }
  },

  gateBackward(x, gate, dy, dx, dgate, B, N, C) {
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const i = (b * N + n) * C + c;
          if (dx) dx[i] += dy[i] * gate[b * C + c];
          if (dgate) dgate[b * C + c] += dy[i] * x[i];
        }
      }
    }
  },

  siluForward(x, y, n) {
    for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
  },

  siluBackward(x, dy, dx, n) {
    for (let i = 0; i < n; i++) {
      const s = 1 / (1 + Math.exp(-x[i])); // silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
      dx[i] += dy[i] * s * (1 + x[i] * (1 - s));
    }
  },

  mse(pred, target, dpred, n, scale) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = pred[i] - target[i];
      total += d * d;
      dpred[i] = 2 * d * scale;
    }
    return total;
  },

  timeEmbedding(t, out, B, dim, maxPeriod) {
    const half = dim / 2;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < half; i++) {
        const a = t[b] * Math.exp(-Math.log(maxPeriod) * i / half);
        out[b * dim + i] = Math.cos(a);
        out[b * dim + half + i] = Math.sin(a);
      }
    }
  },

  patchify(video, tokens, B, T, H, W, Ch, pt, p, accumulate) {
    forEachPatchValue(B, T, H, W, Ch, pt, p, (v, k) => { tokens[k] = (accumulate ? tokens[k] : 0) + video[v]; });
  },

  unpatchify(tokens, video, B, T, H, W, Ch, pt, p, accumulate) {
    forEachPatchValue(B, T, H, W, Ch, pt, p, (v, k) => { video[v] = (accumulate ? video[v] : 0) + tokens[k]; });
  },
  // The portable decode kernels compute the same functions in one fixed order (native/ops.js).
  layerNormForwardPortable(...a) { reference.layerNormForward(...a); },
  rmsNormForwardPortable(...a) { reference.rmsNormForward(...a); },
  geluForwardPortable(...a) { reference.geluForward(...a); },
  swigluForwardPortable(...a) { reference.swigluForward(...a); },
  ropeForwardPortable(...a) { reference.ropeForward(...a); },
  attentionDecodeBatchPortable(...a) { reference.attentionDecodeBatch(...a); },
};

/**
 * Calls f(video index, token index) for every value of a [B,T,H,W,Ch] clip cut into pt×p×p
 * tubes: token (b, t', y', x') in row-major order, its values in (dt, dy, dx, channel) order.
 */
function forEachPatchValue(B: number, T: number, H: number, W: number, Ch: number, pt: number, p: number,
  f: (v: number, k: number) => void): void {
  const Tn = T / pt, Hn = H / p, Wn = W / p, width = pt * p * p * Ch;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const token = ((b * Tn + Math.floor(t / pt)) * Hn + Math.floor(y / p)) * Wn + Math.floor(x / p);
    const within = (((t % pt) * p + (y % p)) * p + (x % p)) * Ch;
    for (let c = 0; c < Ch; c++) f((((b * T + t) * H + y) * W + x) * Ch + c, token * width + within + c);
  }
}

export type { Buf };
