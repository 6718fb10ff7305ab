// A scalelab home for the video tests: 'film', a tiny trained DiT (4 frames of 16×16 in 32
// tubes; 3 steps, checkpoints kept at steps 0, 2 and 3), beside 'prose', a language run with no
// weights, which video commands and pages must refuse.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../src/runs/index.js';
import { trainDit } from '../src/train/dit-train.js';

export async function tinyVideoHome(prefix: string): Promise<string> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  await trainDit({
    frames: 4, size: 16, patch: 4, tpatch: 2, layers: 1, dModel: 32, heads: 2, textLayers: 1, batch: 4, clips: 12,
    evalEvery: 3, evalClips: 1, checkpointEvery: 2, keepCheckpoints: 3, warmupSteps: 1, threads: 1, lr: 3e-3, name: 'film',
  }, { home });
  const store = RunStore.open(home);
  try {
    await store.createRun({ name: 'prose', config: { model: { layers: 1, dModel: 32, heads: 2, ctx: 64 } }, params: 100, nonEmbeddingParams: 80, flopsPerToken: 480, tokensTarget: 10 });
  } finally {
    await store.close();
  }
  return home;
}
