import { SessionError } from '../core/errors.js';

const MAX_RETURN_TO = 2048;
// Backslashes and control characters: browsers read `/\evil.example` as `//evil.example`.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\\\u0000-\u001f\u007f]/;

function resolve(value: string, base: URL): URL | null {
  if (value.length === 0 || value.length > MAX_RETURN_TO || UNSAFE.test(value)) return null;
  // A relative target must be a path: '//host' is another origin, 'x' would depend on the base path.
  if (!/^https?:\/\//i.test(value) && (!value.startsWith('/') || value.startsWith('//'))) return null;
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return null;
  return url;
}

/**
 * Parses the `returnTo` allow-list: absolute http(s) URLs, or paths resolved against `base` (the
 * callback URL). Throws `invalid_request` for an entry that is neither.
 *
 * @example parseReturnToList(['/', 'https://app.example.org/admin/'], new URL('https://app.example.org/cb'))
 */
export function parseReturnToList(list: unknown, base: URL): URL[] {
  if (!Array.isArray(list) || list.length === 0) throw new SessionError('invalid_request', 'createOidc: option returnTo: expected a non-empty array of URLs or paths');
  return list.map((entry) => {
    const url = typeof entry === 'string' ? resolve(entry, base) : null;
    if (!url) throw new SessionError('invalid_request', `createOidc: option returnTo: ${JSON.stringify(String(entry).slice(0, 80))} is not an http(s) URL or a path starting with /`);
    url.hash = '';
    return url;
  });
}

/**
 * The target a login returns to: `requested` if the allow-list permits it, the first entry when
 * nothing was requested. Same origin is required, then the same path (an entry ending in `/`
 * allows every path below it); the query is kept. Anything else is `invalid_request`, never a
 * redirect to an attacker's page.
 *
 * @example checkReturnTo('/account?tab=devices', allowed, base).href // 'https://app.example.org/account?tab=devices'
 */
export function checkReturnTo(requested: unknown, allowed: URL[], base: URL): URL {
  if (requested === undefined || requested === null || requested === '') return new URL((allowed[0] as URL).href);
  const url = typeof requested === 'string' ? resolve(requested, base) : null;
  const ok = url !== null && allowed.some((entry) => entry.origin === url.origin
    && (entry.pathname.endsWith('/') ? url.pathname.startsWith(entry.pathname) : url.pathname === entry.pathname));
  if (!ok) throw new SessionError('invalid_request', 'returnTo: not an allowed return address');
  return url;
}
