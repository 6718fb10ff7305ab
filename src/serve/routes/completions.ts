// POST /v1/completions: legacy completions with logprobs, echo, stop, n, seed and stream.
// Several prompts may come in one request; choice i·n + j is prompt i's j'th.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { decode, encode } from '../../data/tokenizer.js';
import { promptEntriesWithoutScores, planChoices, runChoices, type ChoiceSpec, type ChoiceState } from '../choices.js';
import { answerHead, envelope, usage, type AnswerHead } from '../envelope.js';
import { badParam } from '../errors.js';
import type { LoadedModel, ModelRegistry } from '../models.js';
import { MAX_CHOICES, sampling, type RequestSampling, type SamplingParams } from '../sampling.js';
import { onClientGone, SSE } from '../sse.js';
import { legacyLogprobs } from '../text.js';
import { codePoints } from '../../data/utf8.js';
import * as v from '../validate.js';

interface Completion {
  model: LoadedModel;
  s: RequestSampling;
  echo: boolean;
  wantLp: boolean;
  toks: number[][];
  promptTexts: string[];
  /** Every choice asked for, and those the model runs (none when nothing needs the model). */
  planned: ChoiceSpec[];
  specs: ChoiceSpec[];
  params: SamplingParams;
  head: AnswerHead;
}

/** The request, checked parameter by parameter in the order the first error is reported. */
async function parseCompletion(b: v.Body, registry: ModelRegistry): Promise<Completion> {
  const modelId = v.requiredString(b, 'model');
  const s = sampling(b);
  const maxTokens = v.optNumber(b, 'max_tokens', { min: 0, max: 1 << 20, integer: true });
  const logprobs = v.optNumber(b, 'logprobs', { min: 0, max: 5, integer: true });
  const echo = v.optBool(b, 'echo', false);
  const model = await registry.get(modelId);
  const raw = v.prompts(b, model.decoder.config.vocab);
  if (raw.length * s.n > MAX_CHOICES) throw badParam('n', `Too many choices: ${raw.length} prompts × n ${s.n} exceeds ${MAX_CHOICES}.`);
  const toks = raw.map((p) => ('text' in p ? Array.from(encode(p.text)) : p.tokens));
  const promptTexts = raw.map((p, i) => ('text' in p ? p.text : decode(toks[i])));
  const plan = planChoices(model, toks, s.n, maxTokens, (room) => Math.min(16, room), s.seed);
  const wantLp = logprobs !== undefined;
  const params: SamplingParams = {
    maxTokens: plan.maxTokens, temperature: s.temperature, topP: s.topP, stops: s.stops,
    logprobs: wantLp ? logprobs : -1, promptLogprobs: echo && wantLp,
  };
  // max_tokens 0 without prompt scoring needs no model work.
  const specs = params.maxTokens === 0 && !params.promptLogprobs ? [] : plan.specs;
  return { model, s, echo, wantLp, toks, promptTexts, planned: plan.specs, specs, params, head: answerHead('cmpl', model.id) };
}

const promptOf = (c: Completion, spec: ChoiceSpec) => Math.floor(spec.index / c.s.n);

/** Where a choice's text offsets start: after its echoed prompt. */
const textBase = (c: Completion) => (spec: ChoiceSpec) => (c.echo ? codePoints(c.promptTexts[promptOf(c, spec)]) : 0);

/** The echoed prompt's entries: scored when the model ran the choice, bare otherwise. */
const echoEntries = (c: Completion, spec: ChoiceSpec, st: ChoiceState | undefined) =>
  st ? st.promptEntries : promptEntriesWithoutScores(c.toks[promptOf(c, spec)]);

const completionUsage = (c: Completion, states: ChoiceState[]) =>
  usage(c.toks.reduce((a, t) => a + t.length, 0), states.reduce((a, st) => a + st.generated, 0));

function wholeChoice(c: Completion, spec: ChoiceSpec, st: ChoiceState | undefined) {
  const text = (c.echo ? c.promptTexts[promptOf(c, spec)] : '') + (st?.text.text ?? '');
  const lp = c.wantLp ? legacyLogprobs([...(c.echo ? echoEntries(c, spec, st) : []), ...(st?.text.tokens ?? [])]) : null;
  return { text, index: spec.index, logprobs: lp, finish_reason: st?.finish ?? 'length' };
}

async function answerWhole(c: Completion, reply: FastifyReply) {
  const run = runChoices(c.model, c.specs, c.params, textBase(c), () => {});
  onClientGone(reply, run.cancel);
  await run.done;
  const byIndex = new Map(run.states.map((st) => [st.spec.index, st]));
  const choices = c.planned.map((spec) => wholeChoice(c, spec, byIndex.get(spec.index)));
  return envelope(c.head, 'text_completion', choices, completionUsage(c, run.states));
}

async function answerStream(c: Completion, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const sse = new SSE(reply);
  const chunk = (choice: object) => envelope(c.head, 'text_completion', [choice], c.s.includeUsage ? null : undefined);
  const echoed = new Set<number>();
  const sendEcho = (spec: ChoiceSpec, st: ChoiceState | undefined) => {
    if (!c.echo || echoed.has(spec.index)) return;
    echoed.add(spec.index);
    const lp = c.wantLp ? legacyLogprobs(echoEntries(c, spec, st)) : null;
    sse.send(chunk({ text: c.promptTexts[promptOf(c, spec)], index: spec.index, logprobs: lp, finish_reason: null }));
  };
  const run = runChoices(c.model, c.specs, c.params, textBase(c), (st, finished) => {
    sendEcho(st.spec, st);
    const { text, tokens } = st.text.take(finished);
    if (text !== '' || (c.wantLp && tokens.length > 0)) {
      sse.send(chunk({ text, index: st.spec.index, logprobs: c.wantLp ? legacyLogprobs(tokens) : null, finish_reason: null }));
    }
    if (finished) sse.send(chunk({ text: '', index: st.spec.index, logprobs: null, finish_reason: st.finish }));
  });
  onClientGone(reply, run.cancel);
  await sse.finish(req, async () => {
    await run.done;
    if (c.specs.length === 0) {
      for (const spec of c.planned) {
        sendEcho(spec, undefined);
        sse.send(chunk({ text: '', index: spec.index, logprobs: null, finish_reason: 'length' }));
      }
    }
    if (c.s.includeUsage) sse.send(envelope(c.head, 'text_completion', [], completionUsage(c, run.states)));
  });
}

export const completionsRoute: FastifyPluginAsync<{ registry: ModelRegistry }> = async (app, { registry }) => {
  app.post('/v1/completions', async (req, reply) => {
    const c = await parseCompletion(v.asBody(req.body), registry);
    return c.s.stream ? answerStream(c, req, reply) : answerWhole(c, reply);
  });
};
