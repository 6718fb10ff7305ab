// A request's sampling parameters, from the body's OpenAI names to what the scheduler takes.
import crypto from 'node:crypto';
import * as v from './validate.js';

/** Choices per request at most (prompts × n). */
export const MAX_CHOICES = 128;

/** The parameters completions and chat share, checked. */
export interface RequestSampling {
  temperature: number;
  topP: number;
  n: number;
  stream: boolean;
  /** A last chunk with the usage, and `usage: null` on the others. */
  includeUsage: boolean;
  stops: string[];
  seed: number;
}

/** What every choice of a request is run with. */
export interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  stops: string[];
  /** Alternatives per generated token; -1 when log-probs were not asked for. */
  logprobs: number;
  /** Score the prompt (echo with logprobs). */
  promptLogprobs: boolean;
}

function randomSeed(): number {
  return crypto.randomBytes(4).readUInt32LE(0);
}

/** The shared parameters, checked in this order (the first bad one is the one reported). */
export function sampling(b: v.Body): RequestSampling {
  const temperature = v.optNumber(b, 'temperature', { min: 0, max: 2 }) ?? 1;
  const topP = v.optNumber(b, 'top_p', { min: 0, max: 1, minExclusive: true }) ?? 1;
  const n = v.optNumber(b, 'n', { min: 1, max: MAX_CHOICES, integer: true }) ?? 1;
  const stream = v.optBool(b, 'stream', false);
  const streamOpts = v.streamOptions(b);
  return { temperature, topP, n, stream, includeUsage: stream && streamOpts.includeUsage, stops: v.optStops(b), seed: v.optSeed(b) ?? randomSeed() };
}

/** The seed of a prompt's choice'th choice: the request's seed for the first. */
export function seedFor(base: number, choice: number): number {
  if (choice === 0) return base >>> 0;
  // Distinct, reproducible streams for the other choices of one prompt.
  return (Math.imul((base >>> 0) ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(choice, 0xc2b2ae35)) >>> 0;
}
