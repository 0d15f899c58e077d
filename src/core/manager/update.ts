/** Updating a session (data, roles) and recording a re-authentication, both by compare-and-swap. */
import { hashSecret, formatOpaqueToken } from '../../tokens/opaque.js';
import { SessionError, storeFailure } from '../errors.js';
import { parseAuthMethods, parseRecentAuth, requirementFor, type FreshnessRequirement, type RecentAuthInput } from '../freshness.js';
import { rotatedRecord } from '../jwt/refresh-family.js';
import type { RequestContext, Session, StoredSession } from '../types.js';
import type { ManagerContext } from './context.js';
import { storableText } from '../text.js';
import { CAS_ATTEMPTS, checkedData, checkedRoles, isSessionId } from './inputs.js';
import { toSession } from './session-view.js';
import type { ReauthenticatedSession, ReauthenticateInput } from './types.js';

/**
 * The manager's `update`, `reauthenticate` and `recentAuth`.
 *
 * @example const { update } = updateOperations(ctx); await update(id, { data: { theme: 'dark' } });
 */
export function updateOperations(ctx: ManagerContext) {
  const { store, now } = ctx;

  /**
   * The record of `id` if it is live now, for an operation named `what`; throws otherwise
   * (`reauthenticate` says why in the error's details, `update` never has).
   */
  async function liveRecord(id: string, what: 'update' | 'reauthenticate'): Promise<{ record: StoredSession; t: number }> {
    let record: StoredSession | null;
    try {
      record = await store.get(id);
    } catch (err) {
      throw storeFailure(err, what);
    }
    const t = now();
    if (!record) throw new SessionError('session_not_found', 'no such session');
    const detailed = what === 'reauthenticate';
    if (record.revokedAt !== null) throw new SessionError('session_revoked', 'the session was revoked', detailed ? { reason: record.revokeReason } : {});
    if (t >= record.absoluteExpiresAt || t >= record.idleExpiresAt) {
      throw new SessionError('session_expired', 'the session has expired', detailed ? { expiry: t >= record.absoluteExpiresAt ? 'absolute' : 'idle' } : {});
    }
    return { record, t };
  }

  /** The record with new roles: their policy, and expiries that only ever shorten. */
  function withRoles(record: StoredSession, next: StoredSession, roles: string[], t: number): void {
    const policy = ctx.resolvePolicy(roles);
    next.roles = roles;
    next.idleTimeout = policy.idleTimeout;
    next.absoluteTimeout = policy.absoluteTimeout;
    next.policy = policy.policy;
    next.absoluteExpiresAt = Math.min(record.absoluteExpiresAt, record.createdAt + policy.absoluteTimeout);
    next.idleExpiresAt = Math.min(record.idleExpiresAt, t + policy.idleTimeout, next.absoluteExpiresAt);
  }

  async function update(id: string, patch: { data?: Record<string, unknown>; roles?: string[] }, opts: { expectedVersion?: number } & RequestContext = {}): Promise<Session> {
    if (typeof id !== 'string' || id.length === 0 || !storableText(id)) throw new SessionError('invalid_request', 'update: expected a session id');
    if (typeof patch !== 'object' || patch === null) throw new SessionError('invalid_request', 'update: expected { data?, roles? }');
    const data = patch.data === undefined ? undefined : checkedData(patch.data, ctx.maxDataBytes);
    const roles = patch.roles === undefined ? undefined : checkedRoles(patch.roles);
    const expected = opts.expectedVersion;
    if (expected !== undefined && (!Number.isInteger(expected) || expected < 1)) throw new SessionError('invalid_request', 'expectedVersion: expected a positive integer');
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const { record, t } = await liveRecord(id, 'update');
      if (expected !== undefined && record.version !== expected) {
        throw new SessionError('version_conflict', `the session is at version ${record.version}, not ${expected}`, { version: record.version });
      }
      const next: StoredSession = { ...record, version: record.version + 1 };
      if (data !== undefined) next.data = data;
      if (roles !== undefined) withRoles(record, next, roles, t);
      const updated = ctx.event('session.updated', record, opts, roles !== undefined ? 'roles' : 'data');
      let written: boolean;
      try {
        written = await store.replace(next, record.version, [updated]);
      } catch (err) {
        throw storeFailure(err, 'update');
      }
      if (written) {
        ctx.emit([updated]);
        return toSession(next);
      }
      if (expected !== undefined) throw new SessionError('version_conflict', 'the session was changed concurrently', { expectedVersion: expected });
    }
    throw new SessionError('version_conflict', 'the session changed concurrently too many times; try again');
  }

  /**
   * Records a fresh authentication of the session (the user just proved who they are again) and
   * rotates its token: a privilege change never keeps the old token. The old opaque token works
   * for `renewGrace` (requests in flight), then dies; a JWT session gets a new access token and a
   * new refresh token (the old refresh token is superseded as by a refresh; old access tokens keep
   * their old `auth_time` until they expire). Audited as `session.reauthenticated`.
   */
  async function reauthenticate(id: string, input: ReauthenticateInput, rc?: RequestContext): Promise<ReauthenticatedSession> {
    if (!isSessionId(id)) throw new SessionError('invalid_request', 'reauthenticate: expected a session id');
    if (typeof input !== 'object' || input === null) throw new SessionError('invalid_request', 'reauthenticate: expected { methods }');
    const methods = parseAuthMethods(input.methods, 'methods');
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const { record, t } = await liveRecord(id, 'reauthenticate');
      // Random, not derived like renew's successor: there is no presented secret to derive from.
      const secret = ctx.random(32).toString('base64url');
      const rotated: StoredSession = record.tokenType === 'jwt'
        ? rotatedRecord(record, hashSecret(secret), t, ctx.jwt.settings.refreshGrace)
        : {
          ...record, secretHash: hashSecret(secret), previousSecretHash: record.secretHash,
          previousSecretExpiresAt: t + ctx.renewGrace, generation: record.generation + 1,
          lastSeenAt: t, idleExpiresAt: Math.min(t + record.idleTimeout, record.absoluteExpiresAt),
          version: record.version + 1,
        };
      const next: StoredSession = { ...rotated, authenticatedAt: t, authMethods: methods };
      // A JWT session's new tokens are signed before the rotation is stored (see create).
      const jwtAnswer = next.tokenType === 'jwt' ? await ctx.jwt.issued(next, secret) : null;
      const reauthenticated = ctx.event('session.reauthenticated', record, rc, null, { detail: methods.join(',') });
      let written: boolean;
      try {
        written = await store.replace(next, record.version, [reauthenticated]);
      } catch (err) {
        throw storeFailure(err, 'reauthenticate');
      }
      if (written) {
        ctx.emit([reauthenticated]);
        if (jwtAnswer) return jwtAnswer;
        return { session: toSession(next), token: formatOpaqueToken(ctx.prefix, id, secret), expiresAt: new Date(next.idleExpiresAt) };
      }
    }
    throw new SessionError('version_conflict', 'the session changed concurrently too many times; try again');
  }

  /**
   * The freshness requirement of one check: `maxAge` (default `reauth.maxAge`) and `methods` of
   * the caller, with the `reauth.roles` rules. Pass it to `isFresh` / `checkFreshness`.
   */
  function recentAuth(input?: RecentAuthInput): FreshnessRequirement {
    return requirementFor(ctx.reauth, parseRecentAuth(input, 'recentAuth'));
  }

  return { update, reauthenticate, recentAuth };
}
