import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { parseMasterKey } from '../tokens/key-encryption.js';

/**
 * The service's configuration schema: one entry per option, each with its one name, its
 * environment variable (`SESSIONKIT_*`), its flag (`--kebab-case`) and a zod type that accepts both
 * the string form (variables and flags) and the JSON form (the `SESSIONKIT_CONFIG` file).
 */
export interface OptionSpec {
  /** The option's name in the schema and in the JSON file, e.g. `idleTimeout`. */
  name: string;
  /** Its environment variable, e.g. `SESSIONKIT_IDLE_TIMEOUT`. */
  env: string;
  /** Its flag without the dashes, e.g. `idle-timeout`. */
  flag: string;
  /** `boolean` options are flags without a value (`--insecure-cookies`, or `--insecure-cookies=false`). */
  type: 'string' | 'boolean';
  /** The default as written in the docs (`'30m'`), or null when there is none. */
  defaultText: string | null;
  description: string;
  schema: z.ZodType;
}

const DURATION_HINT = "a duration such as '500ms', '3s', '30m', '8h' or '7d'";

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

/** Shows a bad value in an error line: short, quoted, on one line, never a secret (see `secret`). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    // eslint-disable-next-line no-control-regex
    const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
    return JSON.stringify(clean.length > 60 ? `${clean.slice(0, 60)}…` : clean);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

const duration = (min = 0) => z.unknown().transform((value, ctx) => {
  let ms: number;
  try {
    // A bare number in a variable or flag means milliseconds, as a number in the JSON file does.
    ms = parseDuration(typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value, 'x');
  } catch {
    return fail(ctx, `expected ${DURATION_HINT}, got ${describeValue(value)}`);
  }
  if (ms < min) return fail(ctx, `must be at least ${min} ms, got ${describeValue(value)}`);
  return ms;
});

const integer = (min: number, max: number) => z.unknown().transform((value, ctx) => {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    return fail(ctx, `expected an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return n;
});

const optionalInteger = (min: number, max: number) => z.unknown().transform((value, ctx) => {
  if (value === null || value === '' || value === undefined) return null;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    return fail(ctx, `expected an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return n;
});

function toBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  }
  return null;
}

const boolean = () => z.unknown().transform((value, ctx) => {
  const b = toBoolean(value);
  return b === null ? fail(ctx, `expected true or false, got ${describeValue(value)}`) : b;
});

const text = (pattern: RegExp, hint: string, secret = false) => z.unknown().transform((value, ctx) => {
  if (typeof value !== 'string' || !pattern.test(value)) {
    return fail(ctx, `expected ${hint}${secret ? '' : `, got ${describeValue(value)}`}`);
  }
  return value;
});

const optionalSecret = (minLength: number) => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === '') return null;
  // The value itself is never echoed: it is a credential.
  if (typeof value !== 'string') return fail(ctx, 'expected a string');
  if (value.length < minLength) return fail(ctx, `expected at least ${minLength} characters`);
  if (value.length > 4096) return fail(ctx, 'expected at most 4096 characters');
  return value;
});

/** 32 bytes as 64 hex digits or base64 (`openssl rand -base64 32`); the value is never echoed. */
const masterKey = () => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === '') return null;
  try {
    parseMasterKey(value);
  } catch {
    return fail(ctx, 'expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
  }
  return (value as string).trim();
});

/** A duration, or 0 / `false` / `off` for never. */
const optionalDuration = () => z.unknown().transform((value, ctx) => {
  if (value === false || value === 0 || (typeof value === 'string' && ['0', 'false', 'off', 'never'].includes(value.trim().toLowerCase()))) return null;
  try {
    const ms = parseDuration(typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value, 'x');
    return ms;
  } catch {
    return fail(ctx, `expected ${DURATION_HINT}, or off, got ${describeValue(value)}`);
  }
});

const choice = <T extends string>(values: readonly T[]) => z.unknown().transform((value, ctx) => {
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    return fail(ctx, `expected one of ${values.join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
});

/** `30/1m`: this many failed attempts per client IP and window. */
const rateLimit = () => z.unknown().transform((value, ctx) => {
  const match = typeof value === 'string' ? /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value) : null;
  let windowMs = 0;
  try {
    windowMs = match ? parseDuration(match[2], 'x') : 0;
  } catch {
    windowMs = 0;
  }
  const max = match ? Number(match[1]) : 0;
  if (!match || max < 1 || max > 1_000_000 || windowMs < 1000) {
    return fail(ctx, `expected attempts per window such as '30/1m' (at least 1 attempt, a window of at least 1s), got ${describeValue(value)}`);
  }
  return { max, windowMs };
});

/** `false`, `true` (one proxy) or the number of trusted proxies. */
const trustProxy = () => z.unknown().transform((value, ctx) => {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 10) return n === 0 ? false : n;
  const b = toBoolean(value);
  if (b !== null && value !== '') return b;
  return fail(ctx, `expected true, false or a number of proxies (0-10), got ${describeValue(value)}`);
});

const origins = () => z.unknown().transform((value, ctx) => {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
  if (!list) return fail(ctx, `expected comma-separated origins, got ${describeValue(value)}`);
  const out: string[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') return fail(ctx, `expected origins as strings, got ${describeValue(raw)}`);
    const item = raw.trim();
    if (item === '') continue;
    let origin: string | null = null;
    try {
      const url = new URL(item);
      origin = (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === item.replace(/\/$/, '').toLowerCase() ? url.origin : null;
    } catch {
      origin = null;
    }
    if (!origin) return fail(ctx, `expected origins such as https://app.example.org (scheme, host and port only), got ${describeValue(item)}`);
    out.push(origin);
  }
  return out;
});

const optionalUrl = () => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === '') return null;
  try {
    if (typeof value !== 'string') throw new Error('not a string');
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    return url.origin;
  } catch {
    return fail(ctx, `expected an http(s) URL such as https://sessions.example.org, got ${describeValue(value)}`);
  }
});

/** An absolute http(s) URL kept whole (path included), e.g. an OpenID issuer; none by default. */
const optionalFullUrl = () => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === '') return null;
  try {
    if (typeof value !== 'string') throw new Error('not a string');
    const url = new URL(value);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.hash) throw new Error('scheme');
    return value;
  } catch {
    return fail(ctx, `expected an absolute http(s) URL such as https://sso.example.org/realms/main, got ${describeValue(value)}`);
  }
});

/** Comma-separated absolute URLs or paths starting with `/` (the OIDC returnTo allow-list). */
const urlOrPathList = () => z.unknown().transform((value, ctx) => {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
  if (!list) return fail(ctx, `expected comma-separated URLs or paths, got ${describeValue(value)}`);
  const out: string[] = [];
  for (const raw of list) {
    const item = typeof raw === 'string' ? raw.trim() : '';
    if (item === '') continue;
    const path = item.startsWith('/') && !item.startsWith('//');
    let ok = path;
    if (!path) {
      try {
        const url = new URL(item);
        ok = (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
      } catch {
        ok = false;
      }
    }
    if (!ok || item.includes('\\')) return fail(ctx, `expected absolute http(s) URLs or paths starting with /, got ${describeValue(item)}`);
    out.push(item);
  }
  return out;
});

/** `all` (null), `none` ([]) or comma-separated data keys. */
const visibleData = () => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === 'all') return null;
  if (value === 'none' || value === '') return [];
  const keys = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((k) => k.trim()) : null;
  if (!keys || !keys.every((k) => typeof k === 'string' && /^[^\s,]{1,128}$/.test(k))) {
    return fail(ctx, `expected all, none or comma-separated data keys, got ${describeValue(value)}`);
  }
  return [...new Set(keys as string[])];
});

/** `provider-value=role` pairs, comma-separated (`sso-admins=admin,staff=user`); a value may repeat. */
const roleMap = () => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === 'string' || (Array.isArray(v) && v.every((r) => typeof r === 'string')))) {
      return Object.fromEntries(entries.map(([k, v]) => [k, Array.isArray(v) ? v as string[] : [v as string]]));
    }
    return fail(ctx, 'expected an object of provider value to role name(s)');
  }
  if (typeof value !== 'string') return fail(ctx, `expected pairs such as sso-admins=admin,staff=user, got ${describeValue(value)}`);
  // Keyed by provider values and role names: no prototype, so `constructor` is a name like any other.
  const out = Object.create(null) as Record<string, string[]>;
  for (const pair of value.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.lastIndexOf('=');
    const from = pair.slice(0, at).trim();
    const to = pair.slice(at + 1).trim();
    if (at <= 0 || from === '' || to === '' || to.length > 64) return fail(ctx, `expected pairs such as sso-admins=admin,staff=user, got ${describeValue(pair)}`);
    (out[from] ??= []).push(to);
  }
  return out;
});

/** Per-role policies: a JSON object (inline in a variable or flag) of role to timeouts and re-authentication rule. */
export interface RolePolicyConfig {
  idleTimeout?: number;
  absoluteTimeout?: number;
  reauthMaxAge?: number;
  reauthMethods?: string[];
}

const ROLE_POLICY_HINT = 'a JSON object such as {"admin":{"idleTimeout":"10m","absoluteTimeout":"1h","reauthMaxAge":"12h","reauthMethods":["totp"]}}';

const rolePolicies = () => z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null || value === '') return null;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return fail(ctx, `expected ${ROLE_POLICY_HINT}`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(ctx, `expected ${ROLE_POLICY_HINT}`);
  const out = Object.create(null) as Record<string, RolePolicyConfig>;
  for (const [role, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[^\s]{1,64}$/.test(role) || typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(ctx, `role ${describeValue(role)}: expected ${ROLE_POLICY_HINT}`);
    const entry: RolePolicyConfig = {};
    for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
      if (key === 'idleTimeout' || key === 'absoluteTimeout' || key === 'reauthMaxAge') {
        try {
          const ms = parseDuration(v, key);
          if (ms <= 0) throw new Error('not positive');
          entry[key] = ms;
        } catch {
          return fail(ctx, `role ${describeValue(role)}: ${key} expected ${DURATION_HINT}, got ${describeValue(v)}`);
        }
      } else if (key === 'reauthMethods') {
        if (!Array.isArray(v) || v.length === 0 || !v.every((m) => typeof m === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(m))) {
          return fail(ctx, `role ${describeValue(role)}: reauthMethods expected a non-empty array of method names such as ["totp"]`);
        }
        entry.reauthMethods = v as string[];
      } else {
        return fail(ctx, `role ${describeValue(role)}: unknown key ${describeValue(key)} (idleTimeout, absoluteTimeout, reauthMaxAge, reauthMethods)`);
      }
    }
    out[role] = entry;
  }
  return out;
});

function spec(name: string, defaultText: string | null, description: string, schema: z.ZodType, type: 'string' | 'boolean' = 'string'): OptionSpec {
  const words = name.replace(/([A-Z])/g, ' $1').toLowerCase().split(' ');
  return { name, env: `SESSIONKIT_${words.join('_').toUpperCase()}`, flag: words.join('-'), type, defaultText, description, schema };
}

/** Every option of the service, in the order of the documentation table. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  spec('host', '127.0.0.1', 'address the service listens on', text(/^[A-Za-z0-9.:[\]-]{1,255}$/, 'a host name or IP address')),
  spec('port', '8080', 'port the service listens on (0 picks a free one)', integer(0, 65535)),
  spec('store', 'sqlite:./data/sessionkit.db', 'session store: memory:, sqlite:<path>, redis://…, redis+cluster://…, redis+sentinel://…, postgres://…, memcached://…', text(/^\S{1,4096}$/, 'a store URL such as memory:, sqlite:./data/sessionkit.db or redis://127.0.0.1:6379', true)),
  spec('auditStore', null, 'with memcached://: the durable store (sqlite:<path> or postgres://…) that keeps the audit trail and the API and signing keys', text(/^\S{1,4096}$/, 'a store URL such as sqlite:./data/audit.db or postgres://…', true)),
  spec('auditRetention', '1000000', 'with redis://: about how many audit events the capped stream keeps (XADD MAXLEN ~); older ones are trimmed, and audit verify then checks from the oldest kept', integer(1000, 1_000_000_000)),
  spec('storePrefix', 'sessionkit', 'key prefix (Redis, Memcached) or schema (PostgreSQL) inside the store, so several deployments can share one server', text(/^[A-Za-z][A-Za-z0-9_]{0,62}$/, 'a letter then up to 62 letters, digits or underscores')),
  spec('idleTimeout', '30m', 'idle timeout (sliding)', duration(1)),
  spec('absoluteTimeout', '8h', 'absolute session lifetime', duration(1)),
  spec('touchInterval', '60s', 'sliding expiry is written at most once per interval (capped per session at a quarter of its idle timeout)', duration(0)),
  spec('renewGrace', '10s', 'how long a renewed token still works', duration(0)),
  spec('maxSessionsPerUser', null, 'per-user session limit (none by default)', optionalInteger(1, 100_000)),
  spec('rolePolicies', null, 'per-role policies, JSON: {"admin":{"idleTimeout":"10m","absoluteTimeout":"1h","reauthMaxAge":"12h","reauthMethods":["totp"]}}; among a session\'s roles the most restrictive value wins', rolePolicies()),
  spec('sessionLimitPolicy', 'evict-oldest', 'what happens at the per-user limit: evict-oldest or reject', choice(['evict-oldest', 'reject'] as const)),
  spec('tokenPrefix', 'sk', 'prefix of session tokens, for secret scanners', text(/^[a-z][a-z0-9]{0,15}$/, '1 to 16 lowercase letters or digits, starting with a letter')),
  spec('adminKey', null, 'an admin API key to accept (for automation); without it, a fresh store prints a generated one once', optionalSecret(16)),
  spec('masterKey', null, 'encrypts private signing keys at rest (32 bytes, hex or base64); generated and kept in the data folder for sqlite:, required for redis, postgres and memcached', masterKey()),
  spec('secret', null, 'server secret for derivations (CSRF tokens, renewals); generated and kept in the store by default', optionalSecret(32)),
  spec('jwtIssuer', 'sessionkit', 'the iss of JWT access tokens (the same on every instance)', text(/^\S{1,512}$/, 'a non-empty string without spaces, e.g. https://sessions.example.org')),
  spec('jwtAudience', 'sessionkit', 'the aud of JWT access tokens', text(/^\S{1,512}$/, 'a non-empty string without spaces')),
  spec('jwtAlgorithm', 'EdDSA', 'signing algorithm of new JWT keys: EdDSA, ES256, RS256 or HS256', choice(['EdDSA', 'ES256', 'RS256', 'HS256'] as const)),
  spec('accessTokenTtl', '5m', 'lifetime of JWT access tokens (1s to 1d)', duration(1000)),
  spec('keyRotationInterval', '7d', 'rotate the JWT signing key this often (off: only by POST /v1/keys/rotate)', optionalDuration()),
  spec('keyPropagation', '2m', 'how long a rotated-in JWT key is published in the JWKS before it signs (longer than the JWKS max-age of 60s, so caching verifiers have it first)', duration(0)),
  spec('checkRevocation', 'always', 'how the service validates JWT access tokens: always (a store read: the stored session, revocations seen at once; the default, since the service is the stateful authority), cached (bounded by revocationStaleness; answers the session as the token describes it) or never', choice(['always', 'cached', 'never'] as const)),
  spec('revocationStaleness', '1s', 'with checkRevocation cached: the longest a revocation may go unnoticed (at most 60s)', duration(0)),
  spec('refreshGrace', '10s', 'how long a just-rotated refresh token still yields the same new pair (concurrent tabs)', duration(0)),
  spec('reauthMaxAge', '10m', 're-authentication freshness: a session is fresh (sudo mode) when its last authentication is at most this old; the default maxAge of recentAuth checks', duration(1000)),
  spec('insecureCookies', 'false', 'plain-HTTP cookie names and no Secure flag, for local development only', boolean(), 'boolean'),
  spec('clearSiteData', 'false', 'send Clear-Site-Data: "cookies" with logout; browsers then delete every cookie of the registrable domain (all subdomains) and HTTP auth credentials, other applications\' too', boolean(), 'boolean'),
  spec('trustProxy', 'false', 'take the client IP from X-Forwarded-For (true: one proxy, or a number of proxies)', trustProxy()),
  spec('publicUrl', null, "the service's own origin as browsers see it (default http://<host>:<port>)", optionalUrl()),
  spec('allowedOrigins', null, "comma-separated origins whose cookie-authenticated writes pass the CSRF origin check (default: the service's own origin)", origins()),
  spec('rateLimit', '30/1m', 'failed token or key attempts allowed per client IP and window', rateLimit()),
  spec('userVisibleData', 'all', "which keys of a session's data its own user sees (GET /v1/sessions/current, GET /v1/sessions, renew, refresh): all, none, or comma-separated keys; API-key callers always see all of it", visibleData()),
  spec('eventStreamMaxLifetime', '1h', 'GET /v1/events: a stream ends after this long (the client reconnects, and its credential is checked again)', duration(1000)),
  spec('eventStreamRecheck', '5s', 'GET /v1/events: how often an open stream checks that its API key or dashboard sign-in is still valid; it ends within this bound after revocation or sign-out', duration(100)),
  spec('sweepInterval', '1m', 'how often expired sessions are deleted from the store (0 turns the sweeper off)', duration(0)),
  spec('shutdownTimeout', '10s', 'longest wait for in-flight requests on SIGTERM/SIGINT', duration(0)),
  spec('logLevel', 'info', 'fatal, error, warn, info, debug, trace or silent', choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const)),
  spec('oidcIssuer', null, 'single sign-on: the OpenID provider issuer URL (turns the /v1/oidc routes and the back-channel logout on)', optionalFullUrl()),
  spec('oidcClientId', null, 'single sign-on: the client id registered at the provider', text(/^[\x21-\x7e]{1,512}$/, 'a client id without spaces')),
  spec('oidcClientSecret', null, 'single sign-on: the client secret (client_secret_basic); without it the client is public (PKCE only)', optionalSecret(1)),
  spec('oidcRedirectUri', null, "single sign-on: the registered redirect URI, the service's /v1/oidc/callback as browsers reach it", optionalFullUrl()),
  spec('oidcScope', 'openid', 'single sign-on: the scopes to request (must include openid)', text(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scopes such as "openid profile"')),
  spec('oidcRolesClaim', null, 'single sign-on: the ID Token claim (name or dotted path, e.g. realm_access.roles) whose values become session roles', text(/^\S{1,256}$/, 'a claim name or dotted path')),
  spec('oidcUserIdClaim', null, 'single sign-on: the ID Token claim (name or dotted path) whose value is the user id, to map logins onto existing user ids; default oidc:<issuer hash>:<sub>', text(/^\S{1,256}$/, 'a claim name or dotted path')),
  spec('oidcRoleMap', null, 'single sign-on: provider values to roles, e.g. sso-admins=admin,staff=user (only mapped values become roles)', roleMap()),
  spec('oidcAcceptUntypedLogoutTokens', 'false', 'single sign-on: accept Logout Tokens typed JWT or untyped (Keycloak before 25); any other typ is still refused', boolean(), 'boolean'),
  spec('oidcPostLogoutRedirectUri', null, "single sign-on: the registered post_logout_redirect_uri, the service's /v1/oidc/logout/callback as browsers reach it (without it, RP-initiated logout ends on the provider's page)", optionalFullUrl()),
  spec('oidcReturnTo', null, 'single sign-on: comma-separated URLs or paths a login may return to (an entry ending in / allows the paths below it); the first is the default', urlOrPathList()),
  spec('config', null, 'a JSON config file; variables and flags override it', text(/^.{1,4096}$/, 'a file path')),
];

/** The options by name. */
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(OPTION_SPECS.map((o) => [o.name, o]));

/**
 * The zod schema of a whole configuration (the JSON file's shape, every key optional). Values may
 * be JSON values or the strings a variable or flag would carry.
 *
 * @example configSchema.parse({ port: '8081', idleTimeout: '15m' })
 */
export const configSchema = z.object(Object.fromEntries(OPTION_SPECS.map((o) => [o.name, o.schema.optional()]))).strict();

/** The resolved configuration of the service; durations in milliseconds. */
export interface ServiceConfig {
  host: string;
  port: number;
  store: string;
  /** The durable store beside a Memcached one; null otherwise. */
  auditStore: string | null;
  storePrefix: string;
  /** Redis: approximate length of the capped audit stream. */
  auditRetention: number;
  idleTimeout: number;
  absoluteTimeout: number;
  touchInterval: number;
  renewGrace: number;
  maxSessionsPerUser: number | null;
  sessionLimitPolicy: 'evict-oldest' | 'reject';
  /** Per-role timeouts and re-authentication rules; null: none. */
  rolePolicies: Record<string, RolePolicyConfig> | null;
  tokenPrefix: string;
  adminKey: string | null;
  masterKey: string | null;
  secret: string | null;
  jwtIssuer: string;
  jwtAudience: string;
  jwtAlgorithm: 'EdDSA' | 'ES256' | 'RS256' | 'HS256';
  accessTokenTtl: number;
  /** Null: no automatic rotation. */
  keyRotationInterval: number | null;
  /** How long a rotated-in key is published before it signs. */
  keyPropagation: number;
  checkRevocation: 'always' | 'cached' | 'never';
  revocationStaleness: number;
  refreshGrace: number;
  /** Re-authentication freshness: the longest time since the last authentication of a fresh session. */
  reauthMaxAge: number;
  insecureCookies: boolean;
  /** Logout sends `Clear-Site-Data: "cookies"` (the whole registrable domain's cookies). */
  clearSiteData: boolean;
  trustProxy: boolean | number;
  publicUrl: string | null;
  /** Empty: the service's own origin only. */
  allowedOrigins: string[];
  rateLimit: { max: number; windowMs: number };
  /** The keys of `data` a session's own user sees; null: all of it. */
  userVisibleData: string[] | null;
  /** The longest an event stream stays open. */
  eventStreamMaxLifetime: number;
  /** How often an event stream re-checks its credential. */
  eventStreamRecheck: number;
  sweepInterval: number;
  shutdownTimeout: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Single sign-on (null: off): the OpenID provider and this service's client registration. */
  oidcIssuer: string | null;
  oidcClientId: string | null;
  oidcClientSecret: string | null;
  oidcRedirectUri: string | null;
  oidcScope: string;
  oidcRolesClaim: string | null;
  oidcRoleMap: Record<string, string[]> | null;
  oidcUserIdClaim: string | null;
  oidcPostLogoutRedirectUri: string | null;
  oidcAcceptUntypedLogoutTokens: boolean;
  /** Null when unset; the allow-list of returnTo targets otherwise. */
  oidcReturnTo: string[] | null;
  /** The JSON file the configuration was read from, or null. */
  config: string | null;
  /** `SESSIONKIT_*` variables that name no option (probably typos): reported at start-up. */
  warnings: string[];
}
