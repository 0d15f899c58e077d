/**
 * Parses the store URL forms into a connection plan for ioredis:
 *
 *   redis://[user:pass@]host:port[/db]                 standalone (rediss:// for TLS)
 *   redis+cluster://[user:pass@]h1:p1,h2:p2            cluster seed nodes (rediss+cluster:// for TLS)
 *   redis+sentinel://[user:pass@]s1:p1,s2:p2/<master>[/db][?sentinelPassword=…&sentinelUsername=…]
 *                                                      Sentinel: the sentinels, then the master name
 *                                                      (rediss+sentinel:// for TLS to the data nodes)
 *
 * Credentials in the authority are the data nodes' (for Sentinel: the master's and replicas').
 * Cluster and Sentinel URLs also take `?revocationReplicas=<n>` (the store option of that name).
 *
 * @example parseRedisUrl('redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster')
 */
import { SessionError } from '../../core/errors.js';

export interface HostPort { host: string; port: number }

export type RedisPlan =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; username?: string; password?: string; tls: boolean; revocationReplicas?: number }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; db: number; username?: string; password?: string;
      sentinelUsername?: string; sentinelPassword?: string; tls: boolean; revocationReplicas?: number };

/** `?revocationReplicas=<n>`, when present. */
function replicasParam(params: URLSearchParams): { revocationReplicas?: number } {
  const raw = params.get('revocationReplicas');
  if (raw === null) return {};
  if (!/^\d{1,3}$/.test(raw)) throw bad('revocationReplicas: expected a number of replicas (0 or more)');
  return { revocationReplicas: Number(raw) };
}

const bad = (msg: string): SessionError => new SessionError('invalid_request', `redisStore url: ${msg}`);

function hosts(list: string, defaultPort: number): HostPort[] {
  return list.split(',').map((part) => {
    const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(part.trim());
    if (!m) throw bad(`cannot read the host "${part}"`);
    const port = m[2] ? Number(m[2]) : defaultPort;
    if (port < 1 || port > 65535) throw bad(`port out of range in "${part}"`);
    return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
  });
}

export function parseRedisUrl(url: string): RedisPlan {
  if (typeof url !== 'string') throw bad('expected a string');
  const m = /^(rediss?)(?:\+(cluster|sentinel))?:\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) throw bad('expected redis://, rediss://, redis+cluster://h:p,h:p or redis+sentinel://h:p,h:p/<master>');
  const [, scheme, mode, auth, hostList, path = '', query = ''] = m as unknown as [string, string, string | undefined, string | undefined, string, string | undefined, string | undefined];
  const tls = scheme === 'rediss';
  if (!mode) return { kind: 'standalone', url };
  let username: string | undefined;
  let password: string | undefined;
  if (auth) {
    const i = auth.indexOf(':');
    username = decodeURIComponent(i < 0 ? auth : auth.slice(0, i)) || undefined;
    password = i < 0 ? undefined : decodeURIComponent(auth.slice(i + 1));
  }
  const creds = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  if (mode === 'cluster') {
    if (path !== '' && path !== '/') throw bad('a cluster URL has no path (clusters have one database)');
    return { kind: 'cluster', nodes: hosts(hostList, 6379), tls, ...creds, ...replicasParam(new URLSearchParams(query)) };
  }
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const name = segments[0];
  if (!name) throw bad('a sentinel URL names the master: redis+sentinel://host:26379/<master>');
  const db = segments[1] === undefined ? 0 : Number(segments[1]);
  if (!Number.isInteger(db) || db < 0 || segments.length > 2) throw bad('expected redis+sentinel://hosts/<master>[/<db>]');
  const params = new URLSearchParams(query);
  const sentinelUsername = params.get('sentinelUsername') ?? undefined;
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  return { kind: 'sentinel', sentinels: hosts(hostList, 26379), name, db, tls, ...creds, ...replicasParam(params),
    ...(sentinelUsername ? { sentinelUsername } : {}), ...(sentinelPassword ? { sentinelPassword } : {}) };
}
