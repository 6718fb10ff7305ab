// `scalelab video RUN --prompt "a green triangle bounces" --out clip.gif`: sample a trained video
// run to an animated GIF (and a PNG contact sheet with --sheet). An --out ending in .png writes
// the clip as a contact sheet instead: for a one-frame model, an image.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { sampleVideo } from '../train/video.js';
import { writeClipGif, writeContactSheet } from '../data/index.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';

/** Refuse an output path before the sampling it would waste: one line, why it cannot be written. */
export function checkWritable(file: string, what: string): void {
  const dir = path.dirname(path.resolve(file));
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`cannot write ${what} '${file}': it is a folder`);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`cannot write ${what} '${file}': its folder does not exist`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`cannot write ${what} '${file}': permission denied`);
  }
}

export function videoCommand(): Command {
  return new Command('video')
    .description('sample clips from a trained video run (train --model dit) as an animated GIF or PNG contact sheet')
    .argument('<run>', 'RUN (its final weights) or RUN@STEP (a checkpoint)')
    .requiredOption('--prompt <text>', "what to draw, in the captions' words: 'a green triangle bounces'")
    .option('--out <file>', 'the clip as an animated GIF (or, ending in .png, a contact sheet of its frames)', 'clip.gif')
    .option('--sheet <file>', 'also a PNG contact sheet: every sample a row, its frames left to right')
    .option('--seed <n>', 'sampler seed (sample k uses seed + k)', numberOption('--seed', { allowZero: true }), 0)
    .option('--steps <n>', 'Euler steps from noise to clip', positiveInt('--steps'), 32)
    .option('--guidance <w>', 'classifier-free guidance scale (1: no guidance)', numberOption('--guidance', { allowZero: true }), 3)
    .option('--samples <n>', 'clips to draw (the GIF shows the first)', positiveInt('--samples'), 1)
    .option('--from-frames <n>', "extension: the first n frames are given (from --from, else the generator's own clip of the prompt); the model makes the rest", positiveInt('--from-frames'))
    .option('--from <gif>', "extension from your own clip: an animated GIF of the model's frame size (or a whole multiple, as --out writes); its first --from-frames frames are kept")
    .option('--threads <n>', 'kernel threads (default: all cores)', positiveInt('--threads'))
    .addOption(flag('home', HOME))
    .option('--json', 'print the result as JSON')
    .action(async (run, o) => {
      checkWritable(o.out, 'the clip');
      if (o.sheet) checkWritable(o.sheet, 'the contact sheet');
      const res = await sampleVideo(run, { home: o.home, prompt: o.prompt, seed: o.seed, steps: o.steps, guidance: o.guidance, samples: o.samples, fromFrames: o.fromFrames, fromGif: o.from, threads: o.threads });
      if (o.out.toLowerCase().endsWith('.png')) writeContactSheet(o.out, [res.clips[0]], res.clip);
      else writeClipGif(o.out, res.clips[0], res.clip);
      if (o.sheet) writeContactSheet(o.sheet, res.given ? [res.given, ...res.clips] : res.clips, res.clip);
      const perClip = res.seconds / res.clips.length;
      if (o.json) {
        console.log(JSON.stringify({ run: res.run.name, caption: res.caption, out: o.out, sheet: o.sheet ?? null, samples: res.clips.length, steps: o.steps, guidance: o.guidance, seconds_per_clip: perClip }));
      } else {
        console.log(`${res.run.name}: '${res.caption}' → ${o.out}${o.sheet ? ` and ${o.sheet}` : ''} ` +
          `(${res.clips.length} clip${res.clips.length > 1 ? 's' : ''} of ${res.clip.frames}×${res.clip.height}×${res.clip.width}, ${o.steps} steps, guidance ${o.guidance}, ${perClip.toFixed(2)} s per clip)`);
      }
    });
}
