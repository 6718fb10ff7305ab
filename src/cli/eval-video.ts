// `scalelab eval-video RUN[@STEP]`: a video run sampled on the fixed evaluation set, every clip
// read by the detector, each score's mean printed beside its chance level and stored in the run
// store (task 'video'). A thin wrapper over evaluateVideo (src/eval/video-eval.ts).
import { Command } from 'commander';
import { setThreads } from '../engine/native.js';
import { writeContactSheet } from '../data/index.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { openStore, existingHome } from '../runs/index.js';
import { evaluateVideo, videoChance } from '../eval/video-eval.js';
import type { VideoMetric } from '../eval/video-detector.js';
import { VIDEO_EVAL_PROMPTS, VIDEO_EVAL_SEEDS, VIDEO_EVAL_SET_NAME } from '../eval/video-prompts.js';
import { CLIP_DEFAULTS } from '../data/clip-world.js';
import { flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';
import { table } from './table.js';
import { checkWritable } from './video.js';

/** The scores in the order a reader wants them: the whole caption first, then its parts, then the world's laws. */
const ORDER: VideoMetric[] = ['adherence', 'colour', 'object', 'direction', 'physics', 'permanence'];

const WHAT: Record<VideoMetric, string> = {
  adherence: 'every object right in colour, shape and direction; the bar as asked',
  colour: 'captioned colours present',
  object: 'captioned objects present with the right shape',
  direction: 'objects moving the captioned way',
  physics: 'paths straight at constant speed, reflected at walls',
  permanence: 'objects coming out from behind the bar',
};

const num = (v: number | null) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(3));

function seedsOption(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > VIDEO_EVAL_SEEDS.length) throw new UsageError(`--seeds must be a whole number from 1 to ${VIDEO_EVAL_SEEDS.length}, got '${value}'`);
  return n;
}

function promptsOption(value: string): number {
  if (value === 'all') return VIDEO_EVAL_PROMPTS.length;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > VIDEO_EVAL_PROMPTS.length) {
    throw new UsageError(`--prompts must be 'all' or a whole number from 1 to ${VIDEO_EVAL_PROMPTS.length}, got '${value}'`);
  }
  return n;
}

export function evalVideoCommand(): Command {
  return new Command('eval-video')
    .description(`score a video run on the fixed prompts and seeds (${VIDEO_EVAL_SET_NAME}) with the clip detector; results go into the run store as task 'video'`)
    .argument('<run>', 'RUN (its final weights) or RUN@STEP (a checkpoint)')
    .option('--prompts <n>', `the first n of the set's ${VIDEO_EVAL_PROMPTS.length} prompts, or all`, promptsOption, VIDEO_EVAL_PROMPTS.length)
    .option('--seeds <k>', `the first k of its ${VIDEO_EVAL_SEEDS.length} seeds per prompt`, seedsOption, VIDEO_EVAL_SEEDS.length)
    .option('--steps <n>', 'Euler steps from noise to clip', positiveInt('--steps'), 32)
    .option('--guidance <w>', 'classifier-free guidance scale (1: no guidance)', numberOption('--guidance', { allowZero: true }), 3)
    .option('--sheet <file>', 'also a PNG contact sheet of every sample (a row each, in the order of the set)')
    .addOption(flag('threads', THREADS))
    .addOption(flag('home', HOME))
    .option('--json', 'print the result as JSON')
    .action(async (spec: string, o) => {
      if (o.sheet) checkWritable(o.sheet, 'the contact sheet');
      if (o.threads) setThreads(o.threads);
      const home = existingHome(o.home);
      const store = openStore(home);
      const progress = process.stderr.isTTY && !o.json
        ? (done: number, total: number) => process.stderr.write(`\r${spec} ${done}/${total} clips\x1b[K`)
        : undefined;
      let res;
      try {
        res = await evaluateVideo(store, home, spec, {
          prompts: o.prompts, seeds: o.seeds, steps: o.steps, guidance: o.guidance, keepClips: Boolean(o.sheet), onProgress: progress,
          onWarning: (line) => process.stderr.write(`scalelab: warning: ${line}\n`),
        });
      } finally {
        if (progress) process.stderr.write('\r\x1b[K');
        await store.close();
      }
      if (o.sheet) writeContactSheet(o.sheet, res.clips!, res.clip);
      if (res.resumed > 0) process.stderr.write(`scalelab: ${res.label}: resumed with ${res.resumed} of ${res.items.length} clips already scored\n`);
      const chanceNote = res.chanceExact ? null
        : `chance is measured on all ${VIDEO_EVAL_PROMPTS.length} prompts at ${CLIP_DEFAULTS.frames}×${CLIP_DEFAULTS.height}×${CLIP_DEFAULTS.width} clips; ` +
          `on these ${o.prompts} prompts of ${res.clip.frames}×${res.clip.height}×${res.clip.width} clips it may differ`;
      if (o.json) {
        const metrics = Object.fromEntries(ORDER.map((m) => {
          const v = res.metrics[m], c = videoChance(m);
          return [m, { value: Number.isFinite(v.value) ? v.value : null, stderr: v.stderr, n: v.n, chance: c.value, chance_stderr: c.stderr, chance_baseline: c.baseline }];
        }));
        console.log(JSON.stringify({
          run: res.run.name, id: res.run.id, label: res.label, step: res.step, task: res.key.task, task_version: res.key.taskVersion,
          prompts: o.prompts, seeds: o.seeds, samples: res.items.length, steps: o.steps, guidance: o.guidance,
          seconds_per_clip: res.secondsPerClip, sampled: res.sampled, resumed: res.resumed, metrics, chance_exact: res.chanceExact,
          ...(chanceNote ? { chance_note: chanceNote } : {}), sheet: o.sheet ?? null,
        }));
        return;
      }
      const perClip = res.secondsPerClip === null ? 'all resumed' : `${res.secondsPerClip.toFixed(res.secondsPerClip < 1 ? 3 : 2)} s per clip`;
      console.log(`${res.label}: ${res.items.length} clips (${o.prompts} prompt${o.prompts > 1 ? 's' : ''} × ${o.seeds} seed${o.seeds > 1 ? 's' : ''} of ${VIDEO_EVAL_SET_NAME}), ` +
        `${res.clip.frames}×${res.clip.height}×${res.clip.width}, ${o.steps} Euler steps, guidance ${o.guidance}; ${perClip}${o.sheet ? `; sheet ${o.sheet}` : ''}`);
      console.log(table(['metric', 'value', '± se', 'n', 'chance', 'what it counts'],
        ORDER.map((m) => [m, num(res.metrics[m].value), num(res.metrics[m].stderr), String(res.metrics[m].n), num(videoChance(m).value), WHAT[m]]),
        [false, true, true, true, true, false]));
      console.log(`chance: colour, object, direction and adherence of clips drawn for other captions; physics and permanence of the prompt's clip with its frames shuffled` +
        (chanceNote ? `\nnote: ${chanceNote}` : ''));
    });
}
