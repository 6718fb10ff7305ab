// What every request passes before any route: JSON bodies only, a Host the server is known by, a
// key on /v1, and errors in the API's shape. Installed on the root instance itself, not in an
// encapsulated plugin, so the dashboard's routes on the same app pass them too.
import type { FastifyInstance } from 'fastify';
import { accessCheck, keyDigests } from './access.js';
import { errorHandler, notFoundHandler } from './error-answers.js';
import { allowedHostNames } from './guard.js';
import { boundAddress } from './http.js';

export interface GuardOptions {
  /** Largest request body in bytes, for the 413's message. */
  bodyLimit: number;
  /** Accepted bearer keys; none means no authentication. */
  apiKeys: string[];
  /** Host names answered besides the bound addresses; '*' answers any. */
  allowedHosts: string[];
}

export function installGuards(app: FastifyInstance, o: GuardOptions): void {
  // Only JSON bodies: a web page can post a form or text/plain without asking (no CORS preflight),
  // but not application/json. Without a parser for it, fastify answers any other content type with 415.
  app.removeContentTypeParser('text/plain');
  const hosts = { bound: () => boundAddress(app), allowed: allowedHostNames(o.allowedHosts) };
  app.addHook('onRequest', accessCheck(hosts, keyDigests(o.apiKeys)));
  app.setErrorHandler(errorHandler(o.bodyLimit));
  app.setNotFoundHandler(notFoundHandler);
}
