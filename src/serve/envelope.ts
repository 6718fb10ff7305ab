// The fields every completion answer and stream chunk carries around its choices, in OpenAI's order.
import crypto from 'node:crypto';

export interface AnswerHead {
  id: string;
  created: number;
  model: string;
}

export function answerHead(prefix: 'cmpl' | 'chatcmpl', model: string): AnswerHead {
  return { id: `${prefix}-${crypto.randomUUID().replace(/-/g, '')}`, created: Math.floor(Date.now() / 1000), model };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** An answer or chunk; `usage` undefined leaves the field out (a stream chunk without include_usage). */
export function envelope(head: AnswerHead, object: string, choices: unknown[], use?: Usage | null) {
  return { id: head.id, object, created: head.created, model: head.model, system_fingerprint: null, choices, ...(use !== undefined ? { usage: use } : {}) };
}
