// Who the server answers: every request's Host (guard.ts), and a bearer key on /v1.
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { hostAllowed, hostName, type HostPolicy } from './guard.js';

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest();

/** The accepted keys as digests, so comparing them takes the same time whatever was sent. */
export function keyDigests(keys: string[]): Buffer[] {
  return keys.map(sha256);
}

/** True when `given` equals one of the keys; compares fixed-length digests in constant time, against every key. */
export function keyMatches(given: string, keyDigests: Buffer[]): boolean {
  const d = sha256(given);
  let ok = false;
  for (const k of keyDigests) ok = crypto.timingSafeEqual(d, k) || ok;
  return ok;
}

/** The key guards the models under /v1; /health, the dashboard's page and its read-only /api are open, and unknown URLs get their 404. */
const needsKey = (route: string | undefined) => route !== undefined && route.startsWith('/v1');

function checkHost(req: FastifyRequest, hosts: HostPolicy): void {
  if (hostAllowed(req.headers.host, hosts)) return;
  const name = hostName(req.headers.host ?? '');
  throw new ApiError(403, `This server does not answer to the host name '${name}' (a web page may be trying to reach it under its own name); ` +
    `start it with --allowed-host ${name || 'NAME'} if that name is yours.`, 'invalid_request_error', null, 'host_not_allowed');
}

function checkKey(req: FastifyRequest, digests: Buffer[]): void {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
  if (!m) {
    throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.", 'authentication_error', null, 'missing_api_key');
  }
  if (!keyMatches(m[1], digests)) throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', null, 'invalid_api_key');
}

/** An onRequest hook: the Host check first (it holds for every URL), then the key where one is needed. */
export function accessCheck(hosts: HostPolicy, digests: Buffer[]) {
  return async (req: FastifyRequest): Promise<void> => {
    checkHost(req, hosts);
    if (digests.length === 0 || !needsKey(req.routeOptions.url)) return;
    checkKey(req, digests);
  };
}
