// A request's choices: planned against the model's context, then run through its scheduler
// together (continuous batching), one sequence per choice.
import { ApiError } from './errors.js';
import type { LoadedModel } from './models.js';
import { seedFor, type SamplingParams } from './sampling.js';
import { QueueFullError, type FinishReason, type SequenceHandle, type SequenceSpec, type TokenLogprob } from './scheduler.js';
import { ChoiceText, promptOffsets } from './text.js';

/** The hidden context of an empty prompt: a newline, the usual boundary between documents. */
const EMPTY_PROMPT_CONTEXT = [10];

export interface ChoiceSpec {
  index: number;
  /** What the model is fed (at least one token). */
  fed: number[];
  /** Prompt tokens shown for echo/logprobs (fed minus a hidden context). */
  shownPrompt: number[];
  seed: number;
}

export type PromptEntry = TokenLogprob & { offset: number };

export interface ChoiceState {
  spec: ChoiceSpec;
  text: ChoiceText;
  promptEntries: PromptEntry[];
  generated: number;
  finish: FinishReason | null;
}

export interface ChoiceRun {
  states: ChoiceState[];
  /** Resolves when every choice is done; rejects on the first error (the others are cancelled). */
  done: Promise<void>;
  cancel: () => void;
}

function contextExceeded(message: string, param: string): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, 'context_length_exceeded');
}

/** Check the prompts and max_tokens against the context; n choices per prompt, each with its seed. */
export function planChoices(model: LoadedModel, prompts: number[][], n: number, maxTokens: number | undefined, defaultMax: (room: number) => number,
  seed: number): { specs: ChoiceSpec[]; maxTokens: number } {
  const ctx = model.ctx;
  let longest = 0;
  for (const pr of prompts) longest = Math.max(longest, Math.max(pr.length, 1));
  if (longest > ctx) {
    throw contextExceeded(`This model's maximum context length is ${ctx} tokens, however your prompt is ${longest} tokens ` +
      `(tokens are UTF-8 bytes). Please shorten your prompt.`, 'prompt');
  }
  const max = maxTokens ?? defaultMax(ctx - longest);
  if (longest + max > ctx) {
    throw contextExceeded(`This model's maximum context length is ${ctx} tokens, however you requested ${longest + max} tokens ` +
      `(${longest} in your prompt; ${max} for the completion). Please reduce your prompt or max_tokens.`, 'max_tokens');
  }
  const specs: ChoiceSpec[] = [];
  prompts.forEach((pr, pi) => {
    for (let j = 0; j < n; j++) {
      specs.push({ index: pi * n + j, fed: pr.length > 0 ? pr : EMPTY_PROMPT_CONTEXT, shownPrompt: pr, seed: seedFor(seed, j) });
    }
  });
  return { specs, maxTokens: max };
}

/** Echoed prompt tokens when nothing was scored (max_tokens 0 without a model pass): no log-probs. */
export function promptEntriesWithoutScores(tokens: number[]): PromptEntry[] {
  const offsets = promptOffsets(tokens);
  return tokens.map((token, i) => ({ token, logprob: null, top: [], offset: offsets[i] }));
}

/** The scheduler's sequence for one choice, keeping its state; `update` follows each token and the end. */
function sequenceFor(st: ChoiceState, p: SamplingParams, update: (finished: boolean) => void,
  done: () => void, fail: (err: Error) => void): SequenceSpec {
  const hidden = st.spec.fed.length - st.spec.shownPrompt.length;
  return {
    prompt: st.spec.fed,
    maxTokens: p.maxTokens,
    temperature: p.temperature,
    topP: p.topP,
    seed: st.spec.seed,
    topLogprobs: Math.max(0, p.logprobs),
    promptLogprobs: p.promptLogprobs ? Math.max(0, p.logprobs) : undefined,
    onPrompt: (entries) => {
      const offsets = promptOffsets(st.spec.shownPrompt);
      st.promptEntries = entries.slice(hidden).map((e, i) => ({ ...e, offset: offsets[i] }));
      if (st.promptEntries.length > 0) st.promptEntries[0] = { ...st.promptEntries[0], logprob: null, top: [] };
    },
    onToken: (t) => {
      st.generated++;
      const stop = st.text.push(t);
      if (!stop) update(false);
      return stop ? 'stop' : 'continue';
    },
    onDone: (reason) => {
      st.finish = reason;
      st.text.end();
      update(true);
      done();
    },
    onError: fail,
  };
}

const queueFull = (err: QueueFullError) =>
  new ApiError(429, `The server is busy (${err.message}); retry later.`, 'rate_limit_error', null, 'queue_full');

/**
 * Run every choice through the scheduler. `onUpdate` is called after each token of a choice (and
 * once when it finishes); `base` is where a choice's text offsets start (the echoed prompt's length).
 */
export function runChoices(model: LoadedModel, specs: ChoiceSpec[], p: SamplingParams, base: (s: ChoiceSpec) => number,
  onUpdate: (c: ChoiceState, finished: boolean) => void): ChoiceRun {
  const states: ChoiceState[] = specs.map((spec) => ({ spec, text: new ChoiceText(p.stops, base(spec)), promptEntries: [], generated: 0, finish: null }));
  const handles: SequenceHandle[] = [];
  const cancel = () => {
    for (const h of handles) h.cancel();
  };
  const done = new Promise<void>((resolve, reject) => {
    let left = states.length;
    let failed = false;
    const fail = (err: unknown) => {
      failed = true;
      cancel();
      reject(err);
    };
    if (left === 0) resolve();
    for (const st of states) {
      const finished = () => {
        if (--left === 0 && !failed) resolve();
      };
      try {
        handles.push(model.scheduler.submit(sequenceFor(st, p, (f) => onUpdate(st, f), finished, (err) => {
          if (!failed) fail(err);
        })));
      } catch (err) {
        fail(err instanceof QueueFullError ? queueFull(err) : err);
        break;
      }
    }
  });
  return { states, done, cancel };
}
