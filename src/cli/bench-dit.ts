// `scalelab bench dit`: peak memory and speed of a DiT training step with the recomputing
// attention and the naive one, each in a fresh process, and their ratio.
import { Command } from 'commander';
import { ATTENTIONS, benchDit, ditBenchConfig, type Attention } from '../bench/dit.js';
import { validateDiTConfig } from '../models/dit.js';
import { UsageError } from '../errors.js';
import { choice, positiveInteger } from '../option.js';
import { addFlags, flag } from './flags.js';
import { THREADS } from './shared-options.js';
import { table } from './table.js';

/** The default shape: 16×32×32 clips in 1×2×2 tubes, 4,096 patches a clip, where attention's N² dominates. */
const DIT_BENCH_DEFAULTS = { frames: 16, size: 32, patch: 2, tpatch: 1, textLayers: 1, layers: 4, dModel: 128, heads: 4, batch: 1, steps: 2, warmup: 1 };

/** The flags only this command has. */
const OWN = {
  attention: choice(['both', ...ATTENTIONS] as const, { help: 'the variant(s) to measure, each in a fresh process', default: 'both' }),
  frames: positiveInteger({ help: 'frames per clip', default: DIT_BENCH_DEFAULTS.frames }),
  size: positiveInteger({ help: 'frame height and width', default: DIT_BENCH_DEFAULTS.size }),
  patch: positiveInteger({ help: 'spatial patch side', default: DIT_BENCH_DEFAULTS.patch }),
  tpatch: positiveInteger({ help: 'temporal patch length', default: DIT_BENCH_DEFAULTS.tpatch }),
  textLayers: positiveInteger({ help: 'caption encoder blocks', default: DIT_BENCH_DEFAULTS.textLayers }),
};

/** Flags `bench` itself also has (it parses them wherever they stand): listed here for help, taken only when given. */
const SHARED = ['layers', 'dModel', 'heads', 'batch', 'steps', 'warmup'] as const;
const SHARED_HELP: Record<(typeof SHARED)[number], string> = {
  layers: 'transformer blocks', dModel: 'width', heads: 'attention heads', batch: 'clips per step', steps: 'timed steps', warmup: 'untimed steps first',
};

export function ditBenchCommand(): Command {
  const cmd = new Command('dit')
    .description('peak memory and speed of a DiT training step with the recomputing (flash-style) attention and the naive one that keeps its probabilities, each in a fresh process');
  addFlags(cmd, OWN);
  for (const k of SHARED) cmd.addOption(flag(k, positiveInteger({ help: `${SHARED_HELP[k]} (default ${DIT_BENCH_DEFAULTS[k]})`, default: undefined })));
  return cmd
    .addOption(flag('threads', THREADS))
    .option('--json', 'print one JSON object')
    .action((_o, c: Command) => {
      const o = c.optsWithGlobals();
      const given = (k: string) => (c.getOptionValueSourceWithGlobals(k) === 'cli' ? (o[k] as number) : undefined);
      const shape = {
        frames: o.frames, size: o.size, patch: o.patch, tpatch: o.tpatch, textLayers: o.textLayers,
        ...Object.fromEntries(SHARED.map((k) => [k, given(k) ?? DIT_BENCH_DEFAULTS[k]])) as Record<(typeof SHARED)[number], number>,
      };
      try {
        validateDiTConfig(ditBenchConfig(shape, 'recompute'));
      } catch (err) {
        throw new UsageError((err as Error).message.replace(/^DiT config: /, ''));
      }
      const which: Attention[] = o.attention === 'both' ? [...ATTENTIONS] : [o.attention];
      const res = benchDit({ ...shape, threads: given('threads') }, which);
      if (o.json) return console.log(JSON.stringify(res));
      const c0 = res.config;
      console.log(`scalelab bench dit: ${c0.frames}×${c0.height}×${c0.width} clips in ${c0.tpatch}×${c0.patch}×${c0.patch} tubes = ${res.patches_per_clip} patches, ` +
        `layers=${c0.layers} d_model=${c0.dModel} heads=${c0.heads} text_layers=${c0.textLayers} batch=${res.batch}, ${(res.params / 1e6).toFixed(2)}M params; ` +
        `threads=${res.threads} kernel=${res.kernel}; ${res.steps} timed steps after ${shape.warmup}`);
      console.log(table(['attention', 'step adds', 'peak RSS', 'base RSS', 'graph arena', 'attention keeps', 'ms/step', 'patches/s', 'GFLOP/s'],
        res.runs.map((r) => [r.attention, mib(r.step_mib), mib(r.peak_rss_mib), mib(r.base_rss_mib), mib(r.arena_mib), mib(r.attention_kept_mib),
          r.step_ms.toFixed(0), r.patches_per_s.toFixed(0), r.gflops.toFixed(1)]),
        [false, true, true, true, true, true, true, true, true]));
      if (res.memory_ratio !== null) {
        console.log(`naive / recompute: ${res.memory_ratio.toFixed(2)}x the memory a step adds, ${res.time_ratio!.toFixed(2)}x the time; ` +
          `losses after ${shape.warmup + shape.steps - 1} update${shape.warmup + shape.steps === 2 ? '' : 's'} agree to ${res.loss_rel_diff!.toExponential(1)} (relative)`);
      }
    });
}

const mib = (v: number) => `${v.toFixed(1)} MiB`;
