// The HTTP layer under fastify: the Node server with its timeouts, and the answers Node and fastify
// give on their own (malformed HTTP, headers too large, a slow request, a bad or overlong URL),
// all in the API's error shape.
import http from 'node:http';
import type net from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactoryHandler } from 'fastify';
import { ApiError } from './errors.js';

export interface Timeouts {
  /** Milliseconds for a whole request, headers and body, to arrive (408 beyond). */
  requestTimeout: number;
  /** Milliseconds a keep-alive connection may wait idle for its next request. */
  keepAliveTimeout: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { requestTimeout: 30_000, keepAliveTimeout: 5_000 };

/** fastify's serverFactory: a Node server that drops slow requests and idle connections. */
export function serverFactory(t: Timeouts) {
  return (handler: FastifyServerFactoryHandler): http.Server => {
    const server = http.createServer({
      requestTimeout: t.requestTimeout,
      headersTimeout: t.requestTimeout,
      // Node checks the two above on this period (30 s by default, which would double a short timeout).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(t.requestTimeout / 4))),
    }, handler);
    server.keepAliveTimeout = t.keepAliveTimeout;
    return server;
  };
}

/** One HTTP/1.1 answer that closes the connection, written on the socket itself. */
function rawAnswer(err: ApiError): string {
  const body = JSON.stringify(err.toJSON());
  return `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

function clientErrorAnswer(err: NodeJS.ErrnoException, t: Timeouts): ApiError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ApiError(408, `The request did not arrive in full within ${t.requestTimeout / 1000} s (a body shorter than its Content-Length never does); send it whole.`,
      'invalid_request_error', null, 'request_timeout');
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return new ApiError(431, `The request's headers are larger than the server accepts (${http.maxHeaderSize} bytes with the URL); send fewer or shorter ones.`,
      'invalid_request_error', null, 'headers_too_large');
  }
  return new ApiError(400, `The request is not valid HTTP/1.1${err.code ? ` (${err.code})` : ''}.`, 'invalid_request_error', null, 'malformed_request');
}

/** fastify's clientErrorHandler: Node's parse and timeout errors, answered in the API's shape. */
export function clientErrorHandler(t: Timeouts) {
  return (err: NodeJS.ErrnoException, socket: net.Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // Answer only where no response has begun on this connection, so a stream is never corrupted.
    const current = (socket as net.Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (socket.writable && !current?.headersSent) socket.end(rawAnswer(clientErrorAnswer(err, t)), () => socket.destroy());
    else socket.destroy();
  };
}

/** fastify's frameworkErrors: a URL it cannot decode or route, before any route or hook runs. */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? new ApiError(414, 'A part of the request URL is too long (a model id is at most 160 characters).', 'invalid_request_error', null, 'url_too_long')
    : err.code === 'FST_ERR_BAD_URL'
      ? new ApiError(400, `The request URL is not valid: '${req.url}' has a malformed percent-encoding.`, 'invalid_request_error', null, 'invalid_url')
      : new ApiError(err.statusCode ?? 400, err.message, 'invalid_request_error', null, err.code ?? null);
  void reply.code(e.status).type('application/json; charset=utf-8').send(JSON.stringify(e.toJSON()));
}

/** A fastify app on the server above, with every answer fastify and Node give on their own in the API's shape. */
export function createFastify(o: { logger: boolean; bodyLimit: number; timeouts: Timeouts }): FastifyInstance {
  return Fastify({
    logger: o.logger, bodyLimit: o.bodyLimit, forceCloseConnections: true,
    // Run ids and names may be 128 characters; fastify matches only 100 in a path parameter by default.
    routerOptions: { maxParamLength: 160 },
    serverFactory: serverFactory(o.timeouts), clientErrorHandler: clientErrorHandler(o.timeouts), frameworkErrors,
  });
}

/** The address the server listens on, once it does. */
export function boundAddress(app: FastifyInstance): string | undefined {
  const a = app.server.listening ? app.server.address() : null;
  return typeof a === 'object' && a ? a.address : undefined;
}
