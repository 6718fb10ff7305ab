// `scalelab bench`: training throughput of the reference GPT, or SGEMM GFLOP/s with --gemm.
import { Command, Option } from 'commander';
import { benchTrain } from '../bench/train.js';
import { benchGemm } from '../bench/gemm.js';
import { REFERENCE_CONFIG } from '../models/gpt.js';
import { positiveInt, UsageError } from '../errors.js';

export function benchCommand(): Command {
  const r = REFERENCE_CONFIG;
  return new Command('bench')
    .description('train the reference GPT on random tokens and report tokens/s, GFLOP/s and peak memory')
    .option('--layers <n>', 'transformer blocks', positiveInt('--layers'), r.layers)
    .option('--d-model <n>', 'model width', positiveInt('--d-model'), r.dModel)
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), r.heads)
    .option('--ctx <n>', 'context length', positiveInt('--ctx'), r.ctx)
    .option('--vocab <n>', 'vocabulary size', positiveInt('--vocab'), r.vocab)
    .addOption(new Option('--norm <kind>', 'normalisation').choices(['layernorm', 'rmsnorm']).default('layernorm'))
    .addOption(new Option('--mlp <kind>', 'MLP').choices(['gelu', 'swiglu']).default('gelu'))
    .addOption(new Option('--pos <kind>', 'positions').choices(['learned', 'rope']).default('learned'))
    .option('--batch <n>', 'sequences per step', positiveInt('--batch'), 16)
    .option('--steps <n>', 'timed steps', positiveInt('--steps'), 10)
    .option('--warmup <n>', 'untimed steps first', positiveInt('--warmup'), 3)
    .option('--threads <n>', 'kernel threads (default: all cores)', positiveInt('--threads'))
    .option('--gemm', 'measure SGEMM GFLOP/s on square sizes 256 to 2048 instead')
    .option('--profile', 'time every kernel and print where a step goes')
    .option('--json', 'print one JSON object')
    .action((o) => {
      if (o.gemm) {
        const res = benchGemm({ threads: o.threads });
        if (o.json) return console.log(JSON.stringify(res));
        console.log(`sgemm  kernel=${res.kernel} threads=${res.threads}`);
        for (const row of res.rows) console.log(`  ${String(row.size).padStart(5)}³  ${row.gflops.toFixed(1).padStart(7)} GFLOP/s  ${row.ms.toFixed(2)} ms`);
        return;
      }
      if (o.dModel % o.heads !== 0) throw new UsageError(`--heads (${o.heads}) must divide --d-model (${o.dModel})`);
      if (o.pos === 'rope' && (o.dModel / o.heads) % 2 !== 0) throw new UsageError('--pos rope needs an even head dimension (--d-model / --heads)');
      // Only the variants that differ from GPT-2's appear in the config.
      const variants = { ...(o.norm !== 'layernorm' && { norm: o.norm }), ...(o.mlp !== 'gelu' && { mlp: o.mlp }), ...(o.pos !== 'learned' && { pos: o.pos }) };
      const res = benchTrain({
        config: { layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, vocab: o.vocab, ...variants },
        batch: o.batch, steps: o.steps, warmup: o.warmup, threads: o.threads, profile: o.profile,
      });
      if (o.json) return console.log(JSON.stringify(res));
      const c = res.config;
      const v = [c.norm, c.mlp, c.pos].filter(Boolean).map((x) => ` ${x}`).join('');
      console.log(`scalelab bench: GPT layers=${c.layers} d_model=${c.dModel} heads=${c.heads} ctx=${c.ctx} vocab=${c.vocab}${v} batch=${res.batch}`);
      console.log(`  params          ${res.params.toLocaleString('en-US')} (${res.non_embedding_params.toLocaleString('en-US')} non-embedding)`);
      console.log(`  tokens/s        ${res.tokens_per_s.toFixed(0)}`);
      console.log(`  ms/step         ${res.step_ms.toFixed(1)}`);
      console.log(`  GFLOP/s         ${res.gflops.toFixed(1)}`);
      console.log(`  peak RSS        ${res.peak_rss_mb.toFixed(0)} MB`);
      console.log(`  threads         ${res.threads}`);
      console.log(`  kernel          ${res.kernel}`);
      if (res.profile) {
        console.log('  time per step by kernel:');
        for (const p of res.profile) console.log(`    ${p.kernel.padEnd(20)} ${p.ms_per_step.toFixed(1).padStart(8)} ms  ${String(p.calls_per_step).padStart(4)} calls`);
      }
    });
}
