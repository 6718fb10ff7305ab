// `scalelab eval-video RUN[@STEP]`: a video run sampled on the fixed evaluation set, every clip
// read by the detector, each score's mean printed beside its chance level and stored in the run
// store (task 'video'). A thin wrapper over evaluateVideo (src/eval/video-eval.ts).
//
// `scalelab eval-video A B C --sheet fig.png`: the Sora report's figure. Each run is evaluated and
// stored as alone, their scores, val MSE and training compute printed side by side, and the sheet
// shows the same prompts and seeds drawn by each run, a labelled row per run.
import { Command } from 'commander';
import { setThreads } from '../engine/native.js';
import { writeContactSheet, writeLabelledSheet, type ClipConfig, type SheetGroup } from '../data/index.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { openStore, existingHome } from '../runs/index.js';
import { evaluateVideo, type VideoEvalResult } from '../eval/video-eval.js';
import { detectorSizeWarning, type VideoMetric } from '../eval/video-detector.js';
import { loadVideoWeights, type VideoWeights } from '../train/video.js';
import { VIDEO_EVAL_PROMPTS, VIDEO_EVAL_SEEDS, VIDEO_EVAL_SET_NAME } from '../eval/video-prompts.js';
import type { Store } from '../runs/index.js';
import { flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';
import { table } from './table.js';
import { checkWritable } from './video.js';
import { clipConfigOf } from '../train/dit-train.js';

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

/** Prompts a comparison sheet shows unless --sheet-prompts says otherwise: each is seeds × runs rows. */
const COMPARISON_SHEET_PROMPTS = 6;

const sizeOf = (c: ClipConfig) => `${c.frames}×${c.height}×${c.width}`;
const flopsText = (c: number) => (Number.isFinite(c) ? c.toExponential(2).replace('e+', 'e') : '-');

interface EvalVideoFlags {
  prompts: number;
  seeds: number;
  steps: number;
  guidance: number;
  sheet?: string;
  sheetPrompts?: number;
  threads?: number;
  home?: string;
  json?: boolean;
}

/** Each metric's value, standard error, n and chance, as the JSON output gives them. */
function metricsJson(res: VideoEvalResult) {
  return Object.fromEntries(ORDER.map((m) => {
    const v = res.metrics[m], c = res.chance[m];
    return [m, { value: Number.isFinite(v.value) ? v.value : null, stderr: v.stderr, n: v.n, chance: Number.isFinite(c.value) ? c.value : null, chance_stderr: c.stderr, chance_baseline: c.baseline }];
  }));
}

const CHANCE_LINE = 'chance, on the same prompts at the same clip size: colour, object, direction and adherence of clips drawn for other captions; ' +
  'physics and permanence of the prompt\'s clip with its frames shuffled';

export function evalVideoCommand(): Command {
  return new Command('eval-video')
    .description(`score video runs on the fixed prompts and seeds (${VIDEO_EVAL_SET_NAME}) with the clip detector; results go into the run store as task 'video'; ` +
      'several runs are compared side by side, and --sheet draws them on one contact sheet')
    .argument('<runs...>', 'RUN (its final weights) or RUN@STEP (a checkpoint); several to compare them (e.g. base, 4x and 16x compute)')
    .option('--prompts <n>', `the first n of the set's ${VIDEO_EVAL_PROMPTS.length} prompts, or all`, promptsOption, VIDEO_EVAL_PROMPTS.length)
    .option('--seeds <k>', `the first k of its ${VIDEO_EVAL_SEEDS.length} seeds per prompt`, seedsOption, VIDEO_EVAL_SEEDS.length)
    .option('--steps <n>', 'Euler steps from noise to clip', positiveInt('--steps'), 32)
    .option('--guidance <w>', 'classifier-free guidance scale (1: no guidance)', numberOption('--guidance', { allowZero: true }), 3)
    .option('--sheet <file>', 'also a PNG contact sheet of the samples (one run: a row each, in the order of the set; several: for each prompt and seed, a labelled row per run)')
    .option('--sheet-prompts <n>', `the first n evaluated prompts on the sheet (default: ${COMPARISON_SHEET_PROMPTS} with several runs, all with one)`, positiveInt('--sheet-prompts'))
    .addOption(flag('threads', THREADS))
    .addOption(flag('home', HOME))
    .option('--json', 'print the result as JSON')
    .action(async (specs: string[], o: EvalVideoFlags) => {
      if (o.sheetPrompts !== undefined && !o.sheet) throw new UsageError('--sheet-prompts says how many prompts the sheet shows; give --sheet FILE too');
      if (o.sheetPrompts !== undefined && o.sheetPrompts > o.prompts) {
        throw new UsageError(`--sheet-prompts ${o.sheetPrompts} is more than the ${o.prompts} prompt${o.prompts > 1 ? 's' : ''} evaluated (--prompts)`);
      }
      if (o.sheet) checkWritable(o.sheet, 'the contact sheet');
      if (o.threads) setThreads(o.threads);
      if (specs.length > 1) return compareRuns(specs, o);
      const spec = specs[0];
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
      if (o.sheet) writeContactSheet(o.sheet, res.clips!.slice(0, (o.sheetPrompts ?? o.prompts) * o.seeds), res.clip);
      if (res.resumed > 0) process.stderr.write(`scalelab: ${res.label}: resumed with ${res.resumed} of ${res.items.length} clips already scored\n`);
      if (o.json) {
        console.log(JSON.stringify({
          run: res.run.name, id: res.run.id, label: res.label, step: res.step, task: res.key.task, task_version: res.key.taskVersion,
          prompts: o.prompts, seeds: o.seeds, samples: res.items.length, steps: o.steps, guidance: o.guidance,
          seconds_per_clip: res.secondsPerClip, sampled: res.sampled, resumed: res.resumed, metrics: metricsJson(res), sheet: o.sheet ?? null,
        }));
        return;
      }
      const perClip = res.secondsPerClip === null ? 'all resumed' : `${res.secondsPerClip.toFixed(res.secondsPerClip < 1 ? 3 : 2)} s per clip`;
      console.log(`${res.label}: ${res.items.length} clips (${o.prompts} prompt${o.prompts > 1 ? 's' : ''} × ${o.seeds} seed${o.seeds > 1 ? 's' : ''} of ${VIDEO_EVAL_SET_NAME}), ` +
        `${sizeOf(res.clip)}, ${o.steps} Euler steps, guidance ${o.guidance}; ${perClip}${o.sheet ? `; sheet ${o.sheet}` : ''}`);
      console.log(table(['metric', 'value', '± se', 'n', 'chance', 'what it counts'],
        ORDER.map((m) => [m, num(res.metrics[m].value), num(res.metrics[m].stderr), String(res.metrics[m].n), num(res.chance[m].value), WHAT[m]]),
        [false, true, true, true, true, false]));
      console.log(CHANCE_LINE);
    });
}

/**
 * Every run's weights, loaded before any is sampled so that a bad name, a run given twice or,
 * with --sheet, runs of different clip sizes are refused before minutes of sampling.
 */
async function loadAll(store: Store, home: string, specs: readonly string[], sheet: boolean): Promise<VideoWeights[]> {
  const weights: VideoWeights[] = [];
  for (const spec of specs) {
    const w = await loadVideoWeights(store, home, spec);
    const k = weights.findIndex((x) => x.label === w.label);
    if (k >= 0) {
      throw new UsageError(specs[k] === spec ? `'${spec}' is given twice; give each run once`
        : `'${specs[k]}' and '${spec}' are the same weights (${w.label}); give each once`);
    }
    weights.push(w);
  }
  const clips = weights.map((w) => clipConfigOf(w.model.config));
  const odd = clips.findIndex((c) => sizeOf(c) !== sizeOf(clips[0]));
  if (sheet && odd >= 0) {
    throw new UsageError(`--sheet shows runs of one clip size side by side: '${weights[0].label}' makes ${sizeOf(clips[0])} clips, ` +
      `'${weights[odd].label}' ${sizeOf(clips[odd])}; compare them without --sheet`);
  }
  return weights;
}

/** Several runs evaluated one after another (each stored as alone), printed side by side, drawn on one sheet. */
async function compareRuns(specs: string[], o: EvalVideoFlags): Promise<void> {
  const home = existingHome(o.home);
  const store = openStore(home);
  const results: VideoEvalResult[] = [];
  let progress: ((done: number, total: number) => void) | undefined;
  try {
    const weights = await loadAll(store, home, specs, Boolean(o.sheet));
    for (const w of weights) {
      const small = detectorSizeWarning(clipConfigOf(w.model.config));
      if (small) process.stderr.write(`scalelab: warning: ${w.label}: ${small}\n`);
    }
    for (const [k, w] of weights.entries()) {
      progress = process.stderr.isTTY && !o.json
        ? (done: number, total: number) => process.stderr.write(`\r${w.label} (run ${k + 1} of ${weights.length}) ${done}/${total} clips\x1b[K`)
        : undefined;
      results.push(await evaluateVideo(store, home, w, {
        prompts: o.prompts, seeds: o.seeds, steps: o.steps, guidance: o.guidance, keepClips: Boolean(o.sheet), onProgress: progress,
      }));
      if (progress) process.stderr.write('\r\x1b[K');
    }
  } finally {
    if (progress) process.stderr.write('\r\x1b[K');
    await store.close();
  }
  const sheetPrompts = Math.min(o.prompts, o.sheetPrompts ?? COMPARISON_SHEET_PROMPTS);
  if (o.sheet) writeLabelledSheet(o.sheet, comparisonGroups(results, sheetPrompts, o.seeds), results[0].clip);
  for (const res of results) {
    if (res.resumed > 0) process.stderr.write(`scalelab: ${res.label}: resumed with ${res.resumed} of ${res.items.length} clips already scored\n`);
  }
  if (o.json) {
    console.log(JSON.stringify({
      runs: results.map((res) => ({
        run: res.run.name, id: res.run.id, label: res.label, step: res.step, task: res.key.task, task_version: res.key.taskVersion,
        clip: { frames: res.clip.frames, height: res.clip.height, width: res.clip.width }, val_mse: res.valMse, flops: Number.isFinite(res.flops) ? res.flops : null,
        samples: res.items.length, seconds_per_clip: res.secondsPerClip, sampled: res.sampled, resumed: res.resumed, metrics: metricsJson(res),
      })),
      prompts: o.prompts, seeds: o.seeds, steps: o.steps, guidance: o.guidance,
      sheet: o.sheet ?? null, sheet_prompts: o.sheet ? sheetPrompts : null,
    }));
    return;
  }
  const n = results[0].items.length;
  console.log(`${results.length} runs on ${n} clips each (${o.prompts} prompt${o.prompts > 1 ? 's' : ''} × ${o.seeds} seed${o.seeds > 1 ? 's' : ''} of ${VIDEO_EVAL_SET_NAME}), ` +
    `${o.steps} Euler steps, guidance ${o.guidance}` +
    (o.sheet ? `; sheet ${o.sheet}: for each of ${sheetPrompts} prompt${sheetPrompts > 1 ? 's' : ''} × ${o.seeds} seed${o.seeds > 1 ? 's' : ''}, a row per run in this order` : ''));
  const scored = (res: VideoEvalResult, m: VideoMetric) => {
    const v = res.metrics[m];
    if (v.value === null || !Number.isFinite(v.value)) return '-';
    return v.stderr === null || !Number.isFinite(v.stderr) ? num(v.value) : `${num(v.value)} ± ${num(v.stderr)}`;
  };
  // Chance depends on the clip size: one column for each size among the runs.
  const bySize = [...new Map(results.map((r) => [sizeOf(r.clip), r.chance])).entries()];
  const blanks = bySize.map(() => '');
  const rows: string[][] = [
    ['clip', ...results.map((r) => sizeOf(r.clip)), ...bySize.map(([size]) => size)],
    ['compute (FLOPs)', ...results.map((r) => flopsText(r.flops)), ...blanks],
    ['val mse', ...results.map((r) => (r.valMse === null ? '-' : r.valMse.toFixed(4))), ...blanks],
    ...ORDER.map((m) => [m, ...results.map((r) => scored(r, m)), ...bySize.map(([, chance]) => num(chance[m].value))]),
    ['s per clip', ...results.map((r) => (r.secondsPerClip === null ? 'resumed' : r.secondsPerClip.toFixed(r.secondsPerClip < 1 ? 3 : 2))), ...blanks],
  ];
  console.log(table(['', ...results.map((r) => r.label), ...bySize.map(() => 'chance')], rows, [false, ...results.map(() => true), ...bySize.map(() => true)]));
  console.log(CHANCE_LINE);
}

/** For each of the first `prompts` prompts and each seed, a row per run (in the order given) labelled with its name, compute and val MSE. */
function comparisonGroups(results: readonly VideoEvalResult[], prompts: number, seeds: number): SheetGroup[] {
  const groups: SheetGroup[] = [];
  for (let i = 0; i < prompts * seeds; i++) {
    const { prompt, seed } = results[0].items[i];
    groups.push({
      title: `"${prompt}" seed ${seed}`,
      rows: results.map((r) => ({
        frames: r.clips![i],
        label: [r.label, `${flopsText(r.flops)} FLOPs`, ...(r.valMse === null ? [] : [`val mse ${r.valMse.toFixed(4)}`])],
      })),
    });
  }
  return groups;
}
