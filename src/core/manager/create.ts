/** Creating a session: login. Replaces (and revokes) the caller's previous session, never adopts one. */
import { formatOpaqueToken, hashesEqual, hashSecret } from '../../tokens/opaque.js';
import { parseDevice } from '../device.js';
import { SessionError, storeFailure } from '../errors.js';
import { checkedDevice } from '../text.js';
import type { IssuedJwtSession } from '../jwt/sessions.js';
import type { RequestContext, StoredSession } from '../types.js';
import type { ManagerContext } from './context.js';
import { checkedData, checkedRoles, checkedUserId } from './inputs.js';
import { toSession } from './session-view.js';
import type { CreateSessionInput, CreateSessionWithTokenType, IssuedSession } from './types.js';

/**
 * The manager's `create`: checks the input, writes the record (with the per-user limit and the
 * replaced session in the same store step) and returns the token(s).
 *
 * @example const create = createOperation(ctx); const { token } = await create({ userId: 'u1' });
 */
export function createOperation(ctx: ManagerContext) {
  const { store, now, random, prefix, limit, resolvePolicy, parseToken } = ctx;

  /** The session id the caller proves to hold with `replaces`, or undefined. */
  async function replacedSessionId(token: string): Promise<string | undefined> {
    // A replaced session is revoked only when the caller really holds it: a token an attacker
    // planted is simply not adopted, and never blocks the login.
    const parsed = parseToken(token);
    if (!parsed) return (await ctx.jwt.sessionIdOf(token)) ?? undefined;
    try {
      const old = await store.get(parsed.id);
      if (old && old.tokenType === 'opaque' && hashesEqual(hashSecret(parsed.secret), old.secretHash)) return old.id;
    } catch (err) {
      throw storeFailure(err, 'create');
    }
    return undefined;
  }

  function create(input: CreateSessionInput & { tokenType: 'jwt' }, rc?: RequestContext): Promise<IssuedJwtSession>;
  function create(input: CreateSessionInput & { tokenType?: 'opaque' }, rc?: RequestContext): Promise<IssuedSession>;
  function create(input: CreateSessionWithTokenType, rc?: RequestContext): Promise<IssuedSession | IssuedJwtSession>;
  async function create(input: CreateSessionWithTokenType, rc?: RequestContext): Promise<IssuedSession | IssuedJwtSession> {
    if (typeof input !== 'object' || input === null) throw new SessionError('invalid_request', 'create: expected { userId, ... }');
    const tokenType = input.tokenType ?? 'opaque';
    if (tokenType !== 'opaque' && tokenType !== 'jwt') throw new SessionError('invalid_request', "tokenType: expected 'opaque' or 'jwt'");
    if (tokenType === 'jwt' && !ctx.jwt.settings.jwt) throw new SessionError('invalid_request', 'tokenType jwt needs the jwt option: createSessionManager({ jwt: { issuer, audience } })');
    const userId = checkedUserId(input.userId);
    const roles = checkedRoles(input.roles);
    const data = checkedData(input.data, ctx.maxDataBytes);
    const authMethods = checkedRoles(input.authMethods, 'authMethods');
    if (input.device !== undefined && (typeof input.device !== 'object' || input.device === null)) {
      throw new SessionError('invalid_request', 'device: expected { userAgent, ip, label }');
    }
    const device = parseDevice(checkedDevice(input.device) ?? { userAgent: rc?.userAgent ?? null, ip: rc?.ip ?? null });
    const replaces = input.replaces ? await replacedSessionId(input.replaces) : undefined;
    const t = now();
    const policy = resolvePolicy(roles);
    const id = store.newSessionId ? store.newSessionId(userId, random) : random(32).toString('base64url');
    const secret = random(32).toString('base64url');
    const record: StoredSession = {
      id, secretHash: hashSecret(secret), previousSecretHash: null, previousSecretExpiresAt: null,
      usedSecretHashes: [], generation: 0, tokenType, userId, roles,
      createdAt: t, lastSeenAt: t, idleExpiresAt: Math.min(t + policy.idleTimeout, t + policy.absoluteTimeout),
      absoluteExpiresAt: t + policy.absoluteTimeout, idleTimeout: policy.idleTimeout,
      absoluteTimeout: policy.absoluteTimeout, policy: policy.policy, authenticatedAt: t, authMethods,
      device, data, version: 1, revokedAt: null, revokeReason: null,
    };
    // A JWT session's tokens are signed before its record is stored: a key this process cannot
    // decrypt (another master key) then leaves no session and no `session.created` behind.
    const jwtAnswer = tokenType === 'jwt' ? await ctx.jwt.issued(record, secret) : null;
    const created = ctx.event('session.created', record, rc);
    let result;
    try {
      result = await store.create(record, {
        now: t, events: [created],
        ...(limit ? { limit } : {}),
        ...(replaces ? { replaces } : {}),
      });
    } catch (err) {
      throw storeFailure(err, 'create');
    }
    ctx.emit([created]);
    ctx.emit(result.revoked.map((r) => ctx.event('session.revoked', r, rc, r.id === replaces ? 'replaced' : 'evicted')));
    ctx.jwt.revoked(result.revoked.map((r) => r.id), t);
    if (jwtAnswer) return jwtAnswer;
    return { session: toSession(record), token: formatOpaqueToken(prefix, id, secret), expiresAt: new Date(record.idleExpiresAt) };
  }

  return create;
}
