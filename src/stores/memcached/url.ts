/**
 * Reads the server list of the Memcached store: `memcached://h1:p1,h2:p2` (the service's
 * `SESSIONKIT_STORE`) or an array of `host:port` strings. The port defaults to 11211; IPv6 hosts
 * go in brackets.
 *
 * @example parseMemcachedServers('memcached://10.0.0.1,10.0.0.2:11212') // ['10.0.0.1:11211', '10.0.0.2:11212']
 */
import { SessionError } from '../../core/errors.js';

const bad = (msg: string): SessionError => new SessionError('invalid_request', `memcachedStore servers: ${msg}`);

function hostPort(part: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(part.trim());
  if (!m) throw bad(`cannot read the server "${part.slice(0, 100)}" (expected host:port)`);
  const port = m[2] ? Number(m[2]) : 11211;
  if (port < 1 || port > 65535) throw bad(`port out of range in "${part}"`);
  return `${m[1] as string}:${port}`;
}

/** The servers of a `memcached://` URL or a list, normalised to `host:port`, duplicates refused. */
export function parseMemcachedServers(input: string | readonly string[]): string[] {
  let parts: string[];
  if (typeof input === 'string') {
    const m = /^memcached:\/\/([^/?#@]+)\/?$/.exec(input.trim());
    if (!m) throw bad('expected memcached://host:port[,host:port…]');
    parts = (m[1] as string).split(',');
  } else if (Array.isArray(input) && input.every((s) => typeof s === 'string')) {
    parts = [...input];
  } else {
    throw bad("expected ['host:port', …] or 'memcached://host:port,host:port'");
  }
  if (parts.length === 0 || parts.length > 64) throw bad('expected 1 to 64 servers');
  const servers = parts.map(hostPort);
  if (new Set(servers).size !== servers.length) throw bad('a server is listed twice');
  return servers;
}
