// `scalelab train`: train a byte-level GPT on a corpus, or `--resume` a run.
import { Command, Option } from 'commander';
import { train, TRAIN_DEFAULTS } from '../train/train.js';
import { jsonReporter, lineReporter, terminalReporter } from '../train/progress.js';
import { positiveInt, numberOption } from '../errors.js';
import { sampleRun } from './generate.js';

export function trainCommand(): Command {
  const d = TRAIN_DEFAULTS;
  return new Command('train')
    .description('train a byte-level GPT on a corpus (default: the Brown corpus) and record it in the run store')
    .option('--corpus <spec>', "'brown' or a UTF-8 text file or folder", d.corpus)
    .option('--skip-non-text', 'leave out files of a --corpus folder that are not UTF-8 text (and say which)')
    .option('--layers <n>', 'transformer blocks', positiveInt('--layers'), d.layers)
    .option('--d-model <n>', 'model width', positiveInt('--d-model'), d.dModel)
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), d.heads)
    .option('--ctx <n>', 'context length in bytes', positiveInt('--ctx'), d.ctx)
    .addOption(new Option('--norm <kind>', 'normalisation: layernorm or rmsnorm (gain only)').choices(['layernorm', 'rmsnorm']).default(d.norm))
    .addOption(new Option('--mlp <kind>', 'MLP: gelu (4x wide) or swiglu (8/3x wide, three matrices)').choices(['gelu', 'swiglu']).default(d.mlp))
    .addOption(new Option('--pos <kind>', 'positions: learned embedding or rope (rotary, in attention)').choices(['learned', 'rope']).default(d.pos))
    .option('--batch <n>', 'sequences per step', positiveInt('--batch'), d.batch)
    .option('--tokens <n>', 'training budget in tokens (bytes), e.g. 2e6', numberOption('--tokens'), d.tokens)
    .option('--lr <x>', 'peak learning rate', numberOption('--lr'), d.lr)
    .option('--min-lr-ratio <x>', 'final learning rate as a fraction of the peak', numberOption('--min-lr-ratio', { allowZero: true }), d.minLrRatio)
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule').choices(['cosine', 'wsd']).default(d.schedule))
    .option('--warmup <steps>', 'linear warm-up steps', numberOption('--warmup', { allowZero: true }), d.warmupSteps)
    .option('--cooldown <x>', 'wsd: fraction of steps in the final cooldown', numberOption('--cooldown', { allowZero: true }), d.cooldown)
    .option('--weight-decay <x>', 'AdamW weight decay', numberOption('--weight-decay', { allowZero: true }), d.weightDecay)
    .option('--clip <x>', 'clip the global gradient norm (0: off)', numberOption('--clip', { allowZero: true }), d.clip)
    .option('--eval-every <steps>', 'validate every this many steps', positiveInt('--eval-every'), d.evalEvery)
    .option('--eval-tokens <n>', 'held-out tokens per validation', numberOption('--eval-tokens'), d.evalTokens)
    .option('--checkpoint-every <steps>', 'checkpoint every this many steps', positiveInt('--checkpoint-every'), d.checkpointEvery)
    .option('--keep <n>', 'checkpoints to keep', positiveInt('--keep'), d.keepCheckpoints)
    .option('--spike-factor <x>', 'roll back when the loss exceeds this multiple of its running mean', numberOption('--spike-factor'), d.spikeFactor)
    .option('--seed <n>', 'random seed', numberOption('--seed', { allowZero: true }), d.seed)
    .option('--threads <n>', 'kernel threads (default: all cores)', positiveInt('--threads'))
    .option('--name <name>', 'a name for the run (default: generated)')
    .option('--resume <run>', 'continue a stopped or interrupted run by name or id')
    .option('--restart', 'with --resume: start the run over from step 0 when every one of its checkpoints is damaged')
    .option('--sample <bytes>', 'print a sample of this many bytes at the end', positiveInt('--sample'))
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .option('--json', 'stream metrics and events as JSON lines on stdout')
    .action(async (o) => {
      const reporter = o.json ? jsonReporter() : process.stderr.isTTY ? terminalReporter() : lineReporter();
      let stop = false;
      const onSignal = () => {
        if (stop) process.exit(130); // a second Ctrl-C: stop now
        stop = true;
        reporter.event('signal', 'stopping after this step; writing a checkpoint');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const res = await train({
          corpus: o.corpus, skipNonText: o.skipNonText, layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, batch: o.batch,
          norm: o.norm, mlp: o.mlp, pos: o.pos,
          tokens: o.tokens, lr: o.lr, minLrRatio: o.minLrRatio, schedule: o.schedule, warmupSteps: o.warmup,
          cooldown: o.cooldown, weightDecay: o.weightDecay, clip: o.clip, evalEvery: o.evalEvery, evalTokens: o.evalTokens,
          checkpointEvery: o.checkpointEvery, keepCheckpoints: o.keep, spikeFactor: o.spikeFactor, seed: o.seed,
          threads: o.threads, name: o.name, resume: o.resume, restart: o.restart,
        }, { home: o.home, reporter, shouldStop: () => stop });
        const s = res.seconds;
        const overhead = (s.data + s.eval + s.checkpoint) / Math.max(1e-9, s.train);
        if (o.json) {
          console.log(JSON.stringify({ type: 'result', run: res.run.name, id: res.run.id, status: res.status, steps: res.steps,
            final_train_loss: res.finalTrainLoss, final_val_bpb: res.finalValBpb, weights_sha256: res.weightsSha256, seconds: s }));
        } else {
          console.log(`run ${res.run.name} (${res.run.id}) ${res.status} after ${res.steps} steps: ` +
            `val ${res.finalValBpb?.toFixed(3) ?? '-'} bpb, train loss ${res.finalTrainLoss.toFixed(3)} nats`);
          console.log(`time: ${s.train.toFixed(1)} s training, ${(overhead * 100).toFixed(1)}% more for data, evaluation and checkpoints`);
          console.log(`stored in ${res.dir}`);
        }
        if (o.sample && res.status === 'done') {
          const text = sampleRun(res.run.id, { home: o.home, prompt: '', tokens: o.sample, temperature: 0.8, topK: 0, seed: 0 });
          console.log(`\nsample:\n${text}`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
