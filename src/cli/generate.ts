// `scalelab generate RUN`: sample text from a trained run.
import { Command } from 'commander';
import { native } from '../engine/native.js';
import { generate } from '../models/sample.js';
import { encode, decode } from '../data/index.js';
import { fetchMissing, openStore, existingHome, runDir } from '../runs/index.js';
import { loadRunWeights, runWeightsFile } from '../train/run-weights.js';
import { UsageError, positiveInt, numberOption } from '../errors.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';

export interface SampleRunOptions {
  home?: string;
  prompt: string;
  tokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

export async function sampleRun(run: string, o: SampleRunOptions): Promise<string> {
  const home = existingHome(o.home);
  const store = openStore(home, { reading: true });
  let record;
  try {
    record = await store.getRun(run);
    // Weights trained on another machine come from the artifact store, verified.
    if (!runWeightsFile(home, record.id)) await fetchMissing(store.artifacts, record.id, runDir(home, record.id), (n) => n === 'model.safetensors');
  } finally {
    await store.close();
  }
  const file = runWeightsFile(home, record.id);
  if (!file) throw new UsageError(`run '${record.name}' has no weights yet; train it first`);
  const { model } = loadRunWeights(file, record.name);
  const prompt = encode(o.prompt);
  const out = generate(model, native, prompt, { tokens: o.tokens, temperature: o.temperature, topK: o.topK, seed: o.seed });
  return o.prompt + decode(out);
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('sample text from a trained run')
    .argument('<run>', 'run name or id')
    .option('--prompt <text>', 'text to continue', '')
    .option('--tokens <n>', 'bytes to generate', positiveInt('--tokens'), 200)
    .option('--temperature <x>', 'sampling temperature (0: greedy)', numberOption('--temperature', { allowZero: true }), 0.8)
    .option('--top-k <n>', 'sample among the k most likely bytes (0: all)', numberOption('--top-k', { allowZero: true }), 0)
    .option('--seed <n>', 'random seed', numberOption('--seed', { allowZero: true }), 0)
    .addOption(flag('home', HOME))
    .action(async (run, o) => {
      if (!Number.isInteger(o.topK)) throw new UsageError(`--top-k must be an integer, got '${o.topK}'`);
      process.stdout.write(await sampleRun(run, { home: o.home, prompt: o.prompt, tokens: o.tokens, temperature: o.temperature, topK: o.topK, seed: o.seed }) + '\n');
    });
}
