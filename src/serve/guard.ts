// Which Host headers the server answers. A web page can make the browser send requests to a
// server on this machine, and a DNS-rebinding page can even read the answers, but only under its
// own name (Host: evil.example): so the server answers only the names it is known by.
//
//   bound to loopback (127.0.0.1, ::1)  localhost, *.localhost and loopback addresses
//   bound to one address                that address
//   bound to every address (0.0.0.0)    any IP address, localhost and *.localhost
//
// plus the names given as allowed hosts (a proxy's public name), or any Host with '*'. An IP
// address cannot be rebound, so accepting them all on a wildcard bind opens no hole; the port is
// not checked, so port forwarding keeps working.
import net from 'node:net';

export interface HostPolicy {
  /** The address the server listens on, as its socket reports it; undefined before listen. */
  bound: () => string | undefined;
  /** Names allowed besides the bound addresses; '*' allows every Host. */
  allowed: string[];
}

/** The name part of a Host header, lowercased, without port, brackets or a trailing dot. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']')) : h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return ip === '::1' || (net.isIPv4(v4) && v4.startsWith('127.'));
}

const isLocalName = (name: string) => name === 'localhost' || name.endsWith('.localhost');

/** True when a request with this Host header may be answered. */
export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  // Every browser sends a Host; a client without one (HTTP/1.0) is no web page.
  if (header === undefined) return true;
  const name = hostName(header);
  if (policy.allowed.includes('*') || policy.allowed.includes(name)) return true;
  const bound = policy.bound() ?? '127.0.0.1';
  if (bound === '0.0.0.0' || bound === '::') return net.isIP(name) !== 0 || isLocalName(name);
  if (isLoopback(bound)) return isLoopback(name) || isLocalName(name);
  return name === bound || (bound.startsWith('::ffff:') && name === bound.slice(7));
}

/** The allowed-host names as the user gave them, checked and normalised. */
export function allowedHostNames(names: string[]): string[] {
  return names.map((n) => (n === '*' ? n : hostName(n)));
}
