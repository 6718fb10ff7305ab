// What can be evaluated: a run's final weights, each of its checkpoints, or an endpoint. A subject
// names where its results are recorded and opens its scorer only when its turn comes, so a sweep
// of runs holds one model in memory at a time.
import { UsageError } from '../errors.js';
import type { RunRecord } from '../runs/index.js';
import { loadRunWeights, runCheckpoints, runWeightsFile } from '../train/run-weights.js';
import { LocalScorer } from './local-scorer.js';
import type { Scorer } from './types.js';

export interface Subject {
  /** As the results table shows it: a run name, `NAME@STEP`, or the endpoint's model. */
  label: string;
  subject: string;
  runId: string | null;
  /** The checkpoint's step; -1 for final weights and endpoints. */
  step: number;
  open(): Scorer | Promise<Scorer>;
}

/** A run's final weights (or newest checkpoint while it has none) and, with `checkpoints`, every checkpoint too. */
export function runSubjects(home: string, run: RunRecord, opts: { checkpoints?: boolean } = {}): Subject[] {
  const out: Subject[] = [];
  const local = (file: string, label: string, step: number): Subject => ({
    label, subject: run.id, runId: run.id, step,
    open: () => new LocalScorer(loadRunWeights(file, run.name).model, { subject: run.id }),
  });
  if (opts.checkpoints) {
    const ckpts = runCheckpoints(home, run.id).reverse();
    if (ckpts.length === 0) throw new UsageError(`run '${run.name}' has no checkpoints to evaluate; train with --checkpoint-every and --keep to keep some`);
    for (const c of ckpts) out.push(local(c.file, `${run.name}@${c.step}`, c.step));
  }
  const file = runWeightsFile(home, run.id);
  if (!file) throw new UsageError(`run '${run.name}' has no weights yet; train it first`);
  if (file.endsWith('model.safetensors')) out.push(local(file, run.name, -1));
  else if (!opts.checkpoints) {
    const newest = runCheckpoints(home, run.id)[0];
    out.push(local(newest.file, `${run.name}@${newest.step}`, newest.step));
  }
  return out;
}
