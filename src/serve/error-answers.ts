// fastify's error and not-found handlers, so every error a route or fastify raises is answered in
// the API's shape (errors.ts), the dashboard's included.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** The body for an error: an ApiError as it is, anything else as a 500 that tells nothing internal. */
export function errorBody(err: ApiError | Error): ReturnType<ApiError['toJSON']> {
  return err instanceof ApiError ? err.toJSON() : new ApiError(500, 'The server had an error while processing your request.', 'server_error', null, 'internal_error').toJSON();
}

type RaisedError = Error & { statusCode?: number; code?: string };

/** What fastify raises on its own before a handler runs (body too large, wrong type, bad JSON), in words a client can act on. */
function frameworkAnswer(err: RaisedError, status: number, req: FastifyRequest, bodyLimit: number): ApiError | undefined {
  if (status === 413) {
    return new ApiError(413, `The request body is larger than the limit of ${bodyLimit} bytes.`, 'invalid_request_error', null, 'request_too_large');
  }
  if (status === 415) {
    return new ApiError(415, `Unsupported content type '${req.headers['content-type'] ?? '(none)'}': send the body as JSON ` +
      "with 'Content-Type: application/json'.", 'invalid_request_error', null, 'unsupported_media_type');
  }
  if (status === 400 && (err instanceof SyntaxError || (err.code ?? '').startsWith('FST_ERR_CTP'))) {
    return new ApiError(400, 'We could not parse the JSON body of your request: it must be valid JSON (an object of parameters).', 'invalid_request_error', null, 'invalid_json');
  }
  if (status >= 400 && status < 500) return new ApiError(status, err.message, 'invalid_request_error', null, err.code ?? null);
  return undefined;
}

/** fastify's error handler: ApiErrors as they are, fastify's own 4xx explained, anything else logged and a bare 500. */
export function errorHandler(bodyLimit: number) {
  return (err: RaisedError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.code(err.status).send(err.toJSON());
    const status = err.statusCode ?? 500;
    const known = frameworkAnswer(err, status, req, bodyLimit);
    if (known) return reply.code(known.status).send(known.toJSON());
    req.log.error(err);
    return reply.code(500).send(errorBody(err));
  };
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  reply.code(404).send(new ApiError(404, `Unknown request URL: ${req.method} ${req.url}.`, 'invalid_request_error', null, 'unknown_url').toJSON());
}
