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

export function trainCommand(): Command {
  return addFlags(new Command('train')
    .description('train a byte-level GPT on a corpus (default: the Brown corpus) and record it in the run store'), TRAIN_OPTIONS)
    .option('--resume <run>', 'continue a stopped or interrupted run by name or id')
    .option('--restart', 'with --resume: start the run over from step 0 when every one of its checkpoints is damaged')
    .option('--sample <bytes>', 'print a sample of this many bytes at the end', positiveInt('--sample'))
    .addOption(flag('home', HOME))
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
        const res = await train({ ...flagValues(TRAIN_OPTIONS, o), resume: o.resume, restart: o.restart },
          { home: o.home, reporter, shouldStop: () => stop });
        const s = res.seconds;
        const overhead = (s.data + s.eval + s.checkpoint) / Math.max(1e-9, s.train);
        if (o.json) {
          console.log(JSON.stringify({ type: 'result', run: res.run.name, id: res.run.id, status: res.status, steps: res.steps,
            final_train_bpb: bitsPerByte(res.finalTrainLoss), final_val_bpb: res.finalValBpb, weights_sha256: res.weightsSha256, seconds: s }));
        } else {
          console.log(`run ${res.run.name} (${res.run.id}) ${res.status} after ${res.steps} steps: ` +
            `val bpb ${res.finalValBpb?.toFixed(3) ?? '-'}, train bpb ${bitsPerByte(res.finalTrainLoss).toFixed(3)}`);
          console.log(`time: ${s.train.toFixed(1)} s training, ${(overhead * 100).toFixed(1)}% more for data, evaluation and checkpoints`);
          console.log(`stored in ${res.dir}`);
        }
        if (o.sample && res.status === 'done') {
          const text = await sampleRun(res.run.id, { home: o.home, prompt: '', tokens: o.sample, temperature: 0.8, topK: 0, seed: 0 });
          console.log(`\nsample:\n${text}`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
