// `scalelab train`: train a byte-level GPT on a corpus, or `--resume` a run.
import { Command } from 'commander';
import { train } from '../train/train.js';
import { TRAIN_OPTIONS } from '../train/options.js';
import { jsonReporter, lineReporter, terminalReporter } from '../train/progress.js';
import { positiveInt } from '../errors.js';
import { addFlags, flag, flagValues } from './flags.js';
import { HOME } from './shared-options.js';
import { sampleRun } from './generate.js';
import { bitsPerByte } from '../data/index.js';
import { DIT_ONLY_OPTIONS, DIT_OPTIONS, DIT_SHARED_KEYS, trainDit } from '../train/dit-train.js';
import { UsageError } from '../errors.js';

export function trainCommand(): Command {
  const cmd = addFlags(new Command('train')
    .description('train a byte-level GPT on a corpus (default: the Brown corpus), or with --model dit a text-to-video diffusion transformer on procedural clips, and record it in the run store'), TRAIN_OPTIONS)
    .option('--model <family>', 'gpt (a byte-level language model) or dit (a video diffusion transformer, with --data clips)', 'gpt')
    .option('--resume <run>', 'continue a stopped or interrupted run by name or id')
    .option('--restart', 'with --resume: start the run over from step 0 when every one of its checkpoints is damaged')
    .option('--sample <bytes>', 'print a sample of this many bytes at the end', positiveInt('--sample'))
    .addOption(flag('home', HOME))
    .option('--json', 'stream metrics and events as JSON lines on stdout');
  addFlags(cmd, DIT_ONLY_OPTIONS);
  return cmd
    .action(async (o, command: Command) => {
      if (o.model !== 'gpt' && o.model !== 'dit') throw new UsageError(`--model must be gpt or dit, got '${o.model}'`);
      const fromCli = (name: string, table: Record<string, Parameters<typeof flag>[1]>) => command.getOptionValueSource(flag(name, table[name]).attributeName()) === 'cli';
      const dit = o.model === 'dit' || (o.resume === undefined && fromCli('data', DIT_ONLY_OPTIONS));
      if (!dit) {
        const given = Object.keys(DIT_ONLY_OPTIONS).find((k) => fromCli(k, DIT_ONLY_OPTIONS));
        if (given) throw new UsageError(`--${flag(given, DIT_ONLY_OPTIONS[given as keyof typeof DIT_ONLY_OPTIONS]).long!.slice(2)} is an option of the video model; add --model dit`);
      } else if (o.resume === undefined) {
        const gptOnly = Object.keys(TRAIN_OPTIONS).find((k) => !(DIT_SHARED_KEYS as string[]).includes(k) && fromCli(k, TRAIN_OPTIONS));
        if (gptOnly) throw new UsageError(`--${flag(gptOnly, TRAIN_OPTIONS[gptOnly as keyof typeof TRAIN_OPTIONS]).long!.slice(2)} is an option of the GPT, not of --model dit`);
      }
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
        const hooks = { home: o.home, reporter, shouldStop: () => stop };
        // The shared flags (layers, batch, lr, ...) carry the GPT's defaults: the DiT takes only those given.
        const ditShared = () => Object.fromEntries(DIT_SHARED_KEYS.filter((k) => fromCli(k, DIT_OPTIONS)).map((k) => [k, flagValues(DIT_OPTIONS, o)[k]]));
        const res = dit
          ? await trainDit({ ...flagValues(DIT_ONLY_OPTIONS, o), ...ditShared(), resume: o.resume, restart: o.restart }, hooks)
          : await train({ ...flagValues(TRAIN_OPTIONS, o), resume: o.resume, restart: o.restart }, hooks);
        const video = res.run.config.family === 'dit';
        const s = res.seconds;
        const overhead = (s.data + s.eval + s.checkpoint) / Math.max(1e-9, s.train);
        if (o.json && video) {
          console.log(JSON.stringify({ type: 'result', run: res.run.name, id: res.run.id, status: res.status, steps: res.steps,
            final_train_mse: res.finalTrainLoss, final_val_mse: res.finalValBpb, weights_sha256: res.weightsSha256, seconds: s }));
        } else if (o.json) {
          console.log(JSON.stringify({ type: 'result', run: res.run.name, id: res.run.id, status: res.status, steps: res.steps,
            final_train_bpb: bitsPerByte(res.finalTrainLoss), final_val_bpb: res.finalValBpb, weights_sha256: res.weightsSha256, seconds: s }));
        } else if (video) {
          console.log(`run ${res.run.name} (${res.run.id}) ${res.status} after ${res.steps} steps: ` +
            `val mse ${res.finalValBpb?.toFixed(4) ?? '-'}, train mse ${res.finalTrainLoss.toFixed(4)}`);
          console.log(`time: ${s.train.toFixed(1)} s training, ${(overhead * 100).toFixed(1)}% more for data, evaluation and checkpoints`);
          console.log(`stored in ${res.dir}`);
        } else {
          console.log(`run ${res.run.name} (${res.run.id}) ${res.status} after ${res.steps} steps: ` +
            `val bpb ${res.finalValBpb?.toFixed(3) ?? '-'}, train bpb ${bitsPerByte(res.finalTrainLoss).toFixed(3)}`);
          console.log(`time: ${s.train.toFixed(1)} s training, ${(overhead * 100).toFixed(1)}% more for data, evaluation and checkpoints`);
          console.log(`stored in ${res.dir}`);
        }
        if (o.sample && res.status === 'done' && !video) {
          const text = await sampleRun(res.run.id, { home: o.home, prompt: '', tokens: o.sample, temperature: 0.8, topK: 0, seed: 0 });
          console.log(`\nsample:\n${text}`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
