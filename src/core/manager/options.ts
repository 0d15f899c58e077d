/**
 * The manager's options, checked once when it is built: every later operation reads the checked
 * values from the context (src/core/manager/context.ts) and never re-parses an option.
 */
import { randomBytes } from 'node:crypto';
import { parseDuration, type Duration } from '../duration.js';
import { SessionError } from '../errors.js';
import { reauthPolicy, type FreshnessRequirement, type ReauthPolicyInput } from '../freshness.js';
import type { JwtSessionOptions } from '../jwt/sessions.js';
import { rolePolicy, type PolicyResolver, type RolePolicyInput } from '../policy.js';
import type { SessionStore } from '../store.js';
import type { AuditSink } from '../types.js';

/** JWT options (`jwt`, `masterKey`, `checkRevocation`, `revocationStaleness`, `refreshGrace`): see src/core/jwt/sessions.ts. */
export interface SessionManagerOptions extends JwtSessionOptions {
  store: SessionStore;
  /** Idle timeout (sliding). Default `'30m'`. */
  idleTimeout?: Duration;
  /** Absolute lifetime from creation. Default `'8h'`. */
  absoluteTimeout?: Duration;
  /** Per-role overrides; among a session's roles the most restrictive value wins. */
  roles?: Record<string, RolePolicyInput>;
  /** Sliding expiry is written at most once per interval. Default `'60s'`. */
  touchInterval?: Duration;
  /** How long a renewed token's predecessor still works. Default `'10s'`. */
  renewGrace?: Duration;
  /** A number (oldest evicted) or `{ max, policy: 'evict-oldest' | 'reject' }`. */
  maxSessionsPerUser?: number | { max: number; policy?: 'evict-oldest' | 'reject' };
  /** Token prefix, so secret scanners can find leaked tokens. Default `'sk'`. */
  tokenPrefix?: string;
  /** Largest `data` object, as UTF-8 JSON bytes. Default 4096. */
  maxDataBytes?: number;
  /** Audit sinks besides the store's own trail (for example `pinoAudit(logger)`). */
  audit?: AuditSink | AuditSink[];
  /**
   * Server secret (at least 32 bytes) for derivations (idempotent renewal, CSRF tokens). Without
   * it, one is generated once and kept in the store so every process on the store agrees.
   */
  secret?: string | Uint8Array | undefined;
  /** Injectable clock, epoch milliseconds. */
  now?: () => number;
  /** Injectable random source. */
  random?: (size: number) => Buffer;
  /**
   * Re-authentication freshness: the default `maxAge` of `requireRecentAuth()` / `recentAuth()`
   * (default `'10m'`) and per-role rules that tighten every check, e.g.
   * `{ roles: { admin: { maxAge: '12h', methods: ['totp'] } } }`. See src/core/freshness.ts.
   */
  reauth?: ReauthPolicyInput;
}

/** The per-user limit as the store takes it. */
export type SessionLimit = { max: number; policy: 'evict-oldest' | 'reject' };

/** The options after checking: durations in ms, defaults filled in. */
export interface CheckedOptions {
  store: SessionStore;
  idleTimeout: number;
  absoluteTimeout: number;
  touchInterval: number;
  renewGrace: number;
  resolvePolicy: PolicyResolver;
  limit: SessionLimit | undefined;
  prefix: string;
  maxDataBytes: number;
  sinks: AuditSink[];
  now: () => number;
  random: (size: number) => Buffer;
  /** The configured server secret, or null: generated once and kept in the store. */
  secret: Buffer | null;
  reauth: FreshnessRequirement;
}

/**
 * Checks every option of `createSessionManager` and fills in the defaults; throws
 * `invalid_request` naming the option at fault.
 *
 * @example const checked = checkOptions({ store: memoryStore(), idleTimeout: '15m' });
 */
export function checkOptions(options: SessionManagerOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new SessionError('invalid_request', 'createSessionManager: options are required');
  const store = options.store;
  if (!store || typeof store.get !== 'function') throw new SessionError('invalid_request', 'option store: expected a SessionStore (memoryStore(), sqliteStore({ path }), ...)');
  const idleTimeout = positive(parseDuration(options.idleTimeout ?? '30m', 'idleTimeout'), 'idleTimeout');
  const absoluteTimeout = positive(parseDuration(options.absoluteTimeout ?? '8h', 'absoluteTimeout'), 'absoluteTimeout');
  const touchInterval = parseDuration(options.touchInterval ?? '60s', 'touchInterval');
  const renewGrace = parseDuration(options.renewGrace ?? '10s', 'renewGrace');
  if (renewGrace > 300_000) throw new SessionError('invalid_request', 'option renewGrace: at most 5 minutes');
  const resolvePolicy: PolicyResolver = rolePolicy({ idleTimeout, absoluteTimeout }, options.roles);
  const limit = parseLimit(options.maxSessionsPerUser);
  const prefix = options.tokenPrefix ?? 'sk';
  if (typeof prefix !== 'string' || !/^[a-z][a-z0-9]{0,15}$/.test(prefix)) {
    throw new SessionError('invalid_request', 'option tokenPrefix: 1 to 16 lowercase letters or digits, starting with a letter');
  }
  const maxDataBytes = options.maxDataBytes ?? 4096;
  if (!Number.isInteger(maxDataBytes) || maxDataBytes < 2) throw new SessionError('invalid_request', 'option maxDataBytes: expected an integer of at least 2');
  const sinks: AuditSink[] = options.audit === undefined ? [] : Array.isArray(options.audit) ? options.audit : [options.audit];
  for (const sink of sinks) {
    if (!sink || typeof sink.write !== 'function') throw new SessionError('invalid_request', 'option audit: each sink needs a write(event) method');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new SessionError('invalid_request', 'option now: expected a function returning epoch milliseconds');
  const random = options.random ?? randomBytes;
  if (typeof random !== 'function') throw new SessionError('invalid_request', 'option random: expected a function (size) => Buffer');
  return {
    store, idleTimeout, absoluteTimeout, touchInterval, renewGrace, resolvePolicy, limit, prefix, maxDataBytes,
    sinks, now, random, secret: parseSecret(options.secret), reauth: reauthPolicy(options.reauth),
  };
}

function parseSecret(secret: SessionManagerOptions['secret']): Buffer | null {
  if (secret === undefined) return null;
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new SessionError('invalid_request', 'option secret: expected a string or Uint8Array of at least 32 bytes');
  }
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < 32) throw new SessionError('invalid_request', 'option secret: at least 32 bytes');
  return key;
}

function positive(ms: number, option: string): number {
  if (ms <= 0) throw new SessionError('invalid_request', `option ${option}: must be greater than zero`);
  return ms;
}

function parseLimit(value: SessionManagerOptions['maxSessionsPerUser']): SessionLimit | undefined {
  if (value === undefined) return undefined;
  const max = typeof value === 'number' ? value : value?.max;
  const policy = typeof value === 'number' ? 'evict-oldest' : value?.policy ?? 'evict-oldest';
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new SessionError('invalid_request', 'option maxSessionsPerUser: expected a positive integer or { max, policy }');
  }
  if (policy !== 'evict-oldest' && policy !== 'reject') {
    throw new SessionError('invalid_request', "option maxSessionsPerUser.policy: expected 'evict-oldest' or 'reject'");
  }
  return { max, policy };
}
