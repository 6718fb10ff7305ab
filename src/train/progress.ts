// How a training run reports itself while it runs: a live progress bar on a terminal, plain log
// lines when output goes to a file or pipe, or JSON lines for programs (`--json`). Losses are
// shown in bits per byte, train beside val, as the dashboard and `scalelab runs` show them; the
// optimiser's nats stay inside the loop. Throughput is the average over the steps so far, the
// meaning "tok/s (avg)" has everywhere.
import { bitsPerByte } from '../data/stats.js';

export interface ProgressLine {
  step: number;
  steps: number;
  tokens: number;
  tokensTarget: number;
  /** This step's training loss in nats (what the optimiser minimises). */
  loss: number;
  valBpb: number | null;
  /** This step's throughput. */
  tokensPerS: number;
  lr: number;
  /**
   * A video model's losses are mean squared errors of the velocity, shown as they are ('mse', and
   * valBpb holds its validation MSE); absent for the GPT, whose nats are shown in bits per byte.
   */
  metric?: 'mse';
}

/** The average throughput over the steps reported so far: their tokens over their seconds. */
export class AverageThroughput {
  private tokens = 0;
  private seconds = 0;

  add(p: ProgressLine): number {
    const perStep = p.tokensTarget / Math.max(1, p.steps);
    if (p.tokensPerS > 0 && Number.isFinite(p.tokensPerS)) {
      this.tokens += perStep;
      this.seconds += perStep / p.tokensPerS;
    }
    return this.seconds > 0 ? this.tokens / this.seconds : p.tokensPerS;
  }
}

export const trainBpb = (p: ProgressLine): number => bitsPerByte(p.loss);

export interface Reporter {
  progress(p: ProgressLine): void;
  /** Something that happened: a checkpoint, a rollback, an evaluation. */
  event(kind: string, message: string, data?: Record<string, unknown>): void;
  done(): void;
}

function fmtTokens(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** `step 40/100  5.1k/12.8k tok  train bpb 2.845  val bpb 2.821  40.1k tok/s (avg)  eta 00:12` */
export function summary(p: ProgressLine, avgTokensPerS: number): string {
  const eta = (p.tokensTarget - p.tokens) / Math.max(1e-9, avgTokensPerS);
  if (p.metric === 'mse') {
    // `step 40/100  20.5k/51.2k patches  train mse 0.4120  val mse 0.3981  1.2k patches/s (avg)  eta 00:25`
    const val = p.valBpb === null ? '' : `  val mse ${p.valBpb.toFixed(4)}`;
    return `step ${p.step}/${p.steps}  ${fmtTokens(p.tokens)}/${fmtTokens(p.tokensTarget)} patches  train mse ${p.loss.toFixed(4)}${val}  ` +
      `${fmtTokens(avgTokensPerS)} patches/s (avg)  eta ${fmtTime(eta)}`;
  }
  const val = p.valBpb === null ? '' : `  val bpb ${p.valBpb.toFixed(3)}`;
  return `step ${p.step}/${p.steps}  ${fmtTokens(p.tokens)}/${fmtTokens(p.tokensTarget)} tok  train bpb ${trainBpb(p).toFixed(3)}${val}  ` +
    `${fmtTokens(avgTokensPerS)} tok/s (avg)  eta ${fmtTime(eta)}`;
}

/** A bar redrawn in place with \r, at most ten times a second. */
export function terminalReporter(out: NodeJS.WriteStream = process.stderr): Reporter {
  let last = 0, drawn = false;
  const avg = new AverageThroughput();
  const clear = () => {
    if (drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    progress(p) {
      const tps = avg.add(p);
      const now = Date.now();
      if (now - last < 100 && p.step < p.steps) return;
      last = now;
      const width = 24, filled = Math.round((width * p.step) / Math.max(1, p.steps));
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const line = `${bar} ${summary(p, tps)}`;
      const cols = out.columns ?? 120;
      out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
      drawn = true;
    },
    event(kind, message) {
      clear();
      out.write(`${kind}: ${message}\n`);
    },
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

/** One plain line every `every` steps, and on the last. */
export function lineReporter(out: NodeJS.WritableStream = process.stderr, every = 25): Reporter {
  const avg = new AverageThroughput();
  return {
    progress(p) {
      const tps = avg.add(p);
      if (p.step % every === 0 || p.step === p.steps || p.step === 1) out.write(`${summary(p, tps)}\n`);
    },
    event(kind, message) {
      out.write(`${kind}: ${message}\n`);
    },
    done() {},
  };
}

/**
 * One JSON object per line: {"type": "metrics", ...} for every step, {"type": "event", ...}.
 * `tokens_per_s` is that step's, as in the run's metric rows; `tokens_per_s_avg` the run's so far.
 */
export function jsonReporter(out: NodeJS.WritableStream = process.stdout): Reporter {
  const avg = new AverageThroughput();
  return {
    progress(p) {
      const avgPerS = avg.add(p);
      out.write(`${JSON.stringify(p.metric === 'mse'
        ? { type: 'metrics', step: p.step, steps: p.steps, patches: p.tokens, train_mse: p.loss, val_mse: p.valBpb, patches_per_s: p.tokensPerS, patches_per_s_avg: avgPerS, lr: p.lr }
        : {
          type: 'metrics', step: p.step, steps: p.steps, tokens: p.tokens, train_bpb: trainBpb(p), val_bpb: p.valBpb,
          tokens_per_s: p.tokensPerS, tokens_per_s_avg: avgPerS, lr: p.lr,
        })}\n`);
    },
    event(kind, message, data) {
      out.write(`${JSON.stringify({ type: 'event', kind, message, ...data })}\n`);
    },
    done() {},
  };
}

export const silentReporter: Reporter = { progress() {}, event() {}, done() {} };
