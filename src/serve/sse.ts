// Streamed answers as server-sent events: one `data:` line per chunk, `data: [DONE]` at the end.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-answers.js';

export class SSE {
  private open = true;
  constructor(private readonly reply: FastifyReply) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.on('close', () => {
      this.open = false;
    });
  }
  send(obj: unknown): void {
    if (this.open && !this.reply.raw.destroyed) this.reply.raw.write(`data: ${JSON.stringify(obj)}\n\n`);
  }
  end(): void {
    if (this.open && !this.reply.raw.destroyed) this.reply.raw.end('data: [DONE]\n\n');
    this.open = false;
  }
  /** Run the rest of the stream, then end it; the status went out already, so an error becomes one last event. */
  async finish(req: FastifyRequest, rest: () => Promise<void>): Promise<void> {
    try {
      await rest();
    } catch (err) {
      req.log.error(err);
      this.send(errorBody(err as Error));
    }
    this.end();
  }
}

/** Cancel the work when the client goes away before the response is complete. */
export function onClientGone(reply: FastifyReply, cancel: () => void): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) cancel();
  });
}
