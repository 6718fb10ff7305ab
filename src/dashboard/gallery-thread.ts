// Samples the gallery's contact sheets off the dashboard's main thread (gallery.ts): a video
// model's Euler steps take seconds, which would stall the live stream and every other request.
// One request at a time; the model of the last weights file is kept, since a page asks for
// several prompts of the same weights in a row.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { Graph } from '../engine/graph.js';
import { native } from '../engine/native.js';
import { DiT } from '../models/dit.js';
import { encodeCaption } from '../data/clip-caption.js';
import { contactSheet } from '../data/clip-images.js';
import { loadWeights } from '../train/checkpoint.js';
import { clipConfigOf } from '../train/dit-train.js';
import { drawClip } from '../train/video.js';
import type { ThreadReply } from '../thread.js';

export interface GalleryRequest {
  id: number;
  file: string;
  prompt: string;
  seeds: number[];
  steps: number;
  guidance: number;
}

let held: { key: string; model: DiT; g: Graph } | null = null;

function modelOf(file: string): { model: DiT; g: Graph } {
  const st = fs.statSync(file);
  const key = `${file}|${st.size}|${st.mtimeMs}`;
  if (held?.key !== key) held = { key, model: loadWeights(file, (cfg) => new DiT(cfg)).model, g: new Graph(native, { training: false }) };
  return held;
}

parentPort!.on('message', (m: GalleryRequest | 'close') => {
  if (m === 'close') {
    parentPort!.close();
    return;
  }
  let reply: ThreadReply<Uint8Array>;
  try {
    const { model, g } = modelOf(m.file);
    const ids = encodeCaption(m.prompt);
    // A row per seed, each the clip `scalelab video --seed` draws.
    const clips = m.seeds.map((seed) => drawClip(model, g, ids, { seed, steps: m.steps, guidance: m.guidance }));
    reply = { id: m.id, ok: true, response: contactSheet(clips, clipConfigOf(model.config)) };
  } catch (err) {
    reply = { id: m.id, ok: false, message: (err as Error).message };
  }
  // Copied, not transferred: a small Buffer's memory is a slice of a pool shared with others.
  parentPort!.postMessage(reply);
});
