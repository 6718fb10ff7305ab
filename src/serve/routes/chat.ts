// POST /v1/chat/completions: the messages rendered through the chat template (../text.ts), the
// reply stopped at the next turn; streamed as deltas, the first carrying the role.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { encode } from '../../data/tokenizer.js';
import { planChoices, runChoices, type ChoiceSpec, type ChoiceState } from '../choices.js';
import { answerHead, envelope, usage, type AnswerHead } from '../envelope.js';
import { ApiError, badParam } from '../errors.js';
import type { LoadedModel, ModelRegistry } from '../models.js';
import { sampling, type RequestSampling, type SamplingParams } from '../sampling.js';
import type { TokenLogprob } from '../scheduler.js';
import { onClientGone, SSE } from '../sse.js';
import { CHAT_STOPS, chatLogprobs, renderChat } from '../text.js';
import * as v from '../validate.js';

interface Chat {
  model: LoadedModel;
  s: RequestSampling;
  wantLp: boolean;
  prompt: number[];
  specs: ChoiceSpec[];
  params: SamplingParams;
  head: AnswerHead;
}

/** The request, checked parameter by parameter in the order the first error is reported. */
async function parseChat(b: v.Body, registry: ModelRegistry): Promise<Chat> {
  const modelId = v.requiredString(b, 'model');
  const messages = v.chatMessages(b);
  const s = sampling(b);
  const maxTokens = v.optNumber(b, 'max_completion_tokens', { min: 1, max: 1 << 20, integer: true })
    ?? v.optNumber(b, 'max_tokens', { min: 1, max: 1 << 20, integer: true });
  const wantLp = v.optBool(b, 'logprobs', false);
  const topLogprobs = v.optNumber(b, 'top_logprobs', { min: 0, max: 20, integer: true });
  if (topLogprobs !== undefined && !wantLp) throw badParam('top_logprobs', "'top_logprobs' requires 'logprobs' to be true.");
  const model = await registry.get(modelId);
  const prompt = Array.from(encode(renderChat(messages)));
  const plan = planChoices(model, [prompt], s.n, maxTokens, (room) => room, s.seed);
  if (plan.maxTokens < 1) {
    throw new ApiError(400, `This model's maximum context length is ${model.ctx} tokens and the messages take ${prompt.length}; ` +
      'no room is left for a reply. Please shorten the messages.', 'invalid_request_error', 'messages', 'context_length_exceeded');
  }
  const params: SamplingParams = {
    maxTokens: plan.maxTokens, temperature: s.temperature, topP: s.topP, stops: [...s.stops, ...CHAT_STOPS],
    logprobs: wantLp ? topLogprobs ?? 0 : -1, promptLogprobs: false,
  };
  return { model, s, wantLp, prompt, specs: plan.specs, params, head: answerHead('chatcmpl', model.id) };
}

const logprobsOf = (c: Chat, tokens: TokenLogprob[]) => (c.wantLp ? { content: chatLogprobs(tokens), refusal: null } : null);

const chatUsage = (c: Chat, states: ChoiceState[]) => usage(c.prompt.length, states.reduce((a, st) => a + st.generated, 0));

async function answerWhole(c: Chat, reply: FastifyReply) {
  const run = runChoices(c.model, c.specs, c.params, () => 0, () => {});
  onClientGone(reply, run.cancel);
  await run.done;
  const choices = run.states.map((st) => ({
    index: st.spec.index,
    message: { role: 'assistant', content: st.text.text, refusal: null },
    logprobs: logprobsOf(c, st.text.tokens),
    finish_reason: st.finish,
  }));
  return envelope(c.head, 'chat.completion', choices, chatUsage(c, run.states));
}

async function answerStream(c: Chat, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const sse = new SSE(reply);
  const chunk = (choice: object) => envelope(c.head, 'chat.completion.chunk', [choice], c.s.includeUsage ? null : undefined);
  for (const spec of c.specs) sse.send(chunk({ index: spec.index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }));
  const run = runChoices(c.model, c.specs, c.params, () => 0, (st, finished) => {
    const { text, tokens } = st.text.take(finished);
    if (text !== '' || (c.wantLp && tokens.length > 0)) {
      sse.send(chunk({ index: st.spec.index, delta: { content: text }, logprobs: logprobsOf(c, tokens), finish_reason: null }));
    }
    if (finished) sse.send(chunk({ index: st.spec.index, delta: {}, logprobs: null, finish_reason: st.finish }));
  });
  onClientGone(reply, run.cancel);
  await sse.finish(req, async () => {
    await run.done;
    if (c.s.includeUsage) sse.send(envelope(c.head, 'chat.completion.chunk', [], chatUsage(c, run.states)));
  });
}

export const chatRoute: FastifyPluginAsync<{ registry: ModelRegistry }> = async (app, { registry }) => {
  app.post('/v1/chat/completions', async (req, reply) => {
    const c = await parseChat(v.asBody(req.body), registry);
    return c.s.stream ? answerStream(c, req, reply) : answerWhole(c, reply);
  });
};
