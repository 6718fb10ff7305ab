// The vocabulary of evaluation, shared by tasks, scorers and the runner.
//
// As in lm-evaluation-harness, a task is data (examples) and a model is reached through two
// requests only: the log-probability of a continuation given a context, and greedy generation
// until a stop string. Everything else (accuracy, exact match, bits per byte, few-shot prompts)
// is built from those two on the task's side, so a local run and a rival's endpoint are scored by
// the same code and differ only in the Scorer.

/** A multiple-choice example, scored by the log-likelihood of each choice after the context. */
export interface LoglikelihoodExample {
  kind: 'loglikelihood';
  context: string;
  /** Continuations, each appended to the context as is (include any leading space). */
  choices: string[];
  /** Index of the correct choice. */
  gold: number;
}

/** A generation example: greedy completion of the prompt until a stop string, against a target. */
export interface GenerateExample {
  kind: 'generate';
  prompt: string;
  target: string;
  /** Generation stops before the first of these (and after maxBytes bytes). */
  stop: string[];
  /** Bytes to generate at most (default: the target's length plus 8). */
  maxBytes?: number;
}

/** Text scored as a whole (bits per byte); `group` splits the figure (a Brown category, say). */
export interface RollingExample {
  kind: 'rolling';
  text: string;
  group?: string;
}

export type Example = LoglikelihoodExample | GenerateExample | RollingExample;
export type TaskKind = Example['kind'];

/** A task: a fixed evaluation set and a few-shot split, both deterministic. */
export interface Task {
  name: string;
  /** Changes whenever the examples change (a generator's code, a file's content). */
  version: string;
  kind: TaskKind;
  description: string;
  /** The evaluation examples, in a fixed order. */
  examples(): Example[];
  /** Examples to draw few-shot demonstrations from (never evaluation examples). */
  fewshot(): Example[];
  /** Between demonstrations and before the example (default "\n\n"). */
  fewshotSeparator?: string;
}

/** log P(continuation | context), summed over the continuation's bytes or tokens. */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

export interface LoglikelihoodResult {
  logprob: number;
  /** Whether greedy decoding from the context would have produced the continuation. */
  greedy: boolean;
}

export interface GenerateRequest {
  prompt: string;
  stop: string[];
  maxBytes: number;
}

/**
 * A model as evaluation sees it: a local run or an OpenAI-compatible endpoint. Requests come in
 * batches so a scorer can run many per forward pass (local) or many in flight (endpoint); results
 * are in request order. Contexts longer than `maxContextBytes` are cut on the left by the runner
 * (truncateLeft), so both kinds of scorer see the same text.
 */
export interface Scorer {
  /** What the results are recorded under: a run id, `RUN@STEP`, or `endpoint:URL#MODEL`. */
  readonly subject: string;
  /** Bytes of context + continuation the model takes (Infinity when unknown). */
  readonly maxContextBytes: number;
  /**
   * Examples per call that suit this scorer (default 64): also how often outcomes are saved, so
   * an endpoint, whose calls are slow and may fail, asks for smaller ones.
   */
  readonly preferredChunk?: number;
  loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]>;
  generate(requests: GenerateRequest[]): Promise<string[]>;
  /** Which request kinds this scorer can serve; the reason is shown to the user when it cannot. */
  supports(kind: 'loglikelihood' | 'generate'): { ok: true } | { ok: false; reason: string };
  close?(): Promise<void>;
}
