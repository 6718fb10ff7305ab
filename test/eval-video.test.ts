// `scalelab eval-video`: a tiny trained video run sampled on the first prompts and seeds of the
// fixed set, every clip read by the detector, the scores printed beside their chance levels and
// stored as task 'video' (final weights and a checkpoint apart); an interrupted evaluation's
// clips are not sampled again; the clips are the ones `scalelab video` draws; bad input is one
// line and exit code 2.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { tinyVideoHome } from './video-home.js';
import { sampleVideo } from '../src/train/video.js';
import { evaluateVideo, videoTaskVersion } from '../src/eval/video-eval.js';
import { VIDEO_METRICS } from '../src/eval/video-detector.js';
import { estimateVideoChance } from '../src/eval/video-chance.js';
import { VIDEO_EVAL_PROMPTS } from '../src/eval/video-prompts.js';
import { program } from '../src/cli/main.js';
import { UsageError } from '../src/errors.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'scalelab.js');
function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scalelab eval-video', () => {
  let home: string;
  before(async () => {
    home = await tinyVideoHome('scalelab-eval-video-');
  });
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it('prints every score with its chance level, the clips and seconds per clip, and stores them as task video', async () => {
    const sheet = path.join(home, 'sheet.png');
    const r = scalelab('eval-video', 'film', '--home', home, '--prompts', '2', '--seeds', '1', '--steps', '2', '--threads', '1', '--json', '--sheet', sheet);
    assert.equal(r.code, 0, r.err);
    // 16-pixel clips: one line of warning that the detector reads noise as objects at that size.
    assert.equal(r.err, "scalelab: warning: film: 4×16×16 clips are below the detector's 24 pixels a side: " +
      'at this size it reads noise as objects (pure noise scores colour about 0.6, above chance), so the scores overstate quality\n');
    const o = JSON.parse(r.out);
    assert.deepEqual([o.label, o.step, o.samples, o.sampled, o.resumed, o.task, o.task_version], ['film', -1, 2, 2, 0, 'video', 'clips-v1 2x1 steps=2 guidance=3 detector=1']);
    assert.ok(o.seconds_per_clip > 0);
    assert.deepEqual(Object.keys(o.metrics).sort(), [...VIDEO_METRICS].sort());
    // Chance is measured on the same two prompts at the same 4×16×16 size, 40 clips each.
    const chance = estimateVideoChance(40, { frames: 4, height: 16, width: 16 }, 2);
    for (const m of VIDEO_METRICS) {
      const v = o.metrics[m];
      assert.deepEqual([v.chance, v.chance_stderr], [Number.isFinite(chance[m].value) ? chance[m].value : null, chance[m].stderr], m);
      assert.ok(v.value === null ? v.n === 0 : v.value >= 0 && v.value <= 1 && v.n > 0 && v.n <= 2, `${m}: ${JSON.stringify(v)}`);
    }
    // Two rows (one a sample) of four 32-pixel frames with 2-pixel gaps.
    const png = fs.readFileSync(sheet);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [4 * 34 + 2, 2 * 34 + 2]);

    const store = RunStore.open(home);
    try {
      const run = await store.getRun('film');
      const rows = await store.evals.results({ subjects: [run.id], task: 'video' });
      assert.deepEqual(rows.map((x) => x.metric).sort(), [...VIDEO_METRICS].sort());
      for (const x of rows) {
        assert.deepEqual([x.step, x.taskVersion, x.runId, x.shots], [-1, 'clips-v1 2x1 steps=2 guidance=3 detector=1', run.id, 0]);
        assert.equal(x.value, o.metrics[x.metric].value);
      }
    } finally {
      await store.close();
    }

    const text = scalelab('eval-video', 'film@2', '--home', home, '--prompts', '1', '--seeds', '2', '--steps', '2', '--threads', '1');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^film@2: 2 clips \(1 prompt × 2 seeds of clips-v1\), 4×16×16, 2 Euler steps, guidance 3; [\d.]+ s per clip\n/);
    const chance1 = estimateVideoChance(40, { frames: 4, height: 16, width: 16 }, 1);
    for (const m of VIDEO_METRICS) {
      const level = Number.isFinite(chance1[m].value) ? chance1[m].value.toFixed(3) : '-';
      assert.match(text.out, new RegExp(`^${m} +(-|[01]\\.\\d{3}) +(-|[\\d.]+) +\\d +${level} `, 'm'));
    }
    const again = RunStore.open(home);
    try {
      const steps = new Set((await again.evals.results({ task: 'video' })).map((x) => `${x.step} ${x.taskVersion}`));
      assert.deepEqual([...steps].sort(), ['-1 clips-v1 2x1 steps=2 guidance=3 detector=1', '2 clips-v1 1x2 steps=2 guidance=3 detector=1']);
    } finally {
      await again.close();
    }
  });

  it('samples each clip as `scalelab video` does, and resumes an evaluation without sampling its clips again', async () => {
    const store = RunStore.open(home);
    try {
      const first = await evaluateVideo(store, home, 'film@2', { prompts: 1, seeds: 2, steps: 3, guidance: 2, keepClips: true });
      const video = await sampleVideo('film@2', { home, prompt: VIDEO_EVAL_PROMPTS[0], seed: 1, steps: 3, guidance: 2 });
      assert.deepEqual(first.clips![1], video.clips[0]);
      const again = await evaluateVideo(store, home, 'film@2', { prompts: 1, seeds: 2, steps: 3, guidance: 2 });
      assert.deepEqual([again.sampled, again.resumed, again.secondsPerClip], [0, 2, null]);
      assert.deepEqual(again.metrics, first.metrics);
      assert.equal(again.key.taskVersion, videoTaskVersion(1, 2, 3, 2));
    } finally {
      await store.close();
    }
  });

  it('refuses an unknown run, a language model, a missing checkpoint and bad numbers in one line, exit code 2', async () => {
    for (const [run, re] of [['nope', /unknown run 'nope'/], ['prose', /run 'prose' is a language model, not a video model; `scalelab generate prose` samples it/]] as const) {
      const r = scalelab('eval-video', run, '--home', home);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.equal(r.out, '');
    }
    // The rest in this process: each is the UsageError that the CLI prints as one line with exit code 2.
    const cases: [string[], RegExp][] = [
      [['film@1'], /run 'film' has no checkpoint at step 1; it keeps steps 0, 2, 3/],
      [['film@last'], /'film@last': the step after @ must be a whole number/],
      [['film', '--prompts', '25'], /--prompts must be 'all' or a whole number from 1 to 24, got '25'/],
      [['film', '--seeds', '0'], /--seeds must be a whole number from 1 to 4, got '0'/],
      [['film', '--steps', '1.5'], /--steps must be a positive integer, got '1.5'/],
      [['film', '--guidance', 'lots'], /--guidance must be a non-negative number, got 'lots'/],
      [['film', '--sheet', path.join(home, 'no', 'such.png')], /cannot write the contact sheet .*its folder does not exist/],
    ];
    for (const [args, re] of cases) {
      await assert.rejects(program().parseAsync(['eval-video', '--home', home, '--prompts', '1', '--seeds', '1', '--steps', '1', ...args], { from: 'user' }), (e: Error) => {
        assert.ok(e instanceof UsageError, `${args.join(' ')}: ${e}`);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
  });
});
