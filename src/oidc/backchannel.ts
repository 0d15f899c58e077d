import { createHash } from 'node:crypto';
import { SessionError, storeFailure } from '../core/errors.js';
import type { RequestContext } from '../core/types.js';
import type { ProviderClient } from './client.js';
import { verifyLogoutToken, type LogoutTokenClaims } from './logout-token.js';
import type { ResolvedOidcOptions } from './options.js';
import { dropStaleEntry, identityOf, linkedSessions, unlinkSession } from './session-index.js';

/** Seen `jti` values (hashed), kept until their token expires. */
const JTI_KIND = 'oidc-jti';
const PRUNE_EVERY = 60_000;

interface SeenJti {
  id: string;
  expiresAt: number;
}

/**
 * The back-channel logout of a relying party: validates a Logout Token (src/oidc/logout-token.ts),
 * refuses a replayed `jti`, and revokes the sessions the token names (reason
 * `backchannel_logout`): with a `sid`, the sessions of that provider session (and `sub`, when
 * given, must match too); without one, every session of `iss` + `sub`.
 *
 * @example const logout = backchannelLogout(opts, provider); await logout(body.logout_token)
 */
export function backchannelLogout(opts: ResolvedOidcOptions, provider: ProviderClient) {
  const { sessions } = opts;
  const store = sessions.store;
  let prunedAt = 0;

  /** Records the `jti` atomically (put-if-absent on the store, so two processes agree); false when seen. */
  async function remember(claims: LogoutTokenClaims, now: number): Promise<string> {
    const id = createHash('sha256').update(`${claims.iss}\n${claims.jti}`).digest('base64url');
    const entry: SeenJti = { id, expiresAt: (claims.exp * 1000) + opts.clockTolerance };
    let fresh: boolean;
    try {
      if (now - prunedAt >= PRUNE_EVERY) {
        prunedAt = now;
        for (const seen of await store.listRecords<SeenJti>(JTI_KIND)) {
          if (typeof seen?.expiresAt === 'number' && seen.expiresAt < now) await store.deleteRecord(JTI_KIND, seen.id);
        }
      }
      fresh = await store.putRecord(JTI_KIND, id, entry, { ifAbsent: true });
    } catch (err) {
      throw storeFailure(err, 'the logout token replay check');
    }
    if (!fresh) throw new SessionError('invalid_request', 'invalid logout_token: "jti" was already used (replay)');
    return id;
  }

  async function revokeNamed(claims: LogoutTokenClaims, ctx: RequestContext): Promise<number> {
    const by = claims.sid !== null ? { sid: claims.sid } : { sub: claims.sub as string };
    let revoked = 0;
    for (const id of await linkedSessions(store, claims.iss, by)) {
      const session = await sessions.get(id);
      const identity = session ? identityOf(session.data) : null;
      const matches = identity !== null && identity.iss === claims.iss
        && (claims.sid === null || identity.sid === claims.sid)
        && (claims.sub === null || identity.sub === claims.sub);
      if (!session || !identity || !matches) {
        await dropStaleEntry(store, claims.iss, by, id);
        continue;
      }
      if (await sessions.revoke(id, { ...ctx, reason: 'backchannel_logout' })) revoked += 1;
      await unlinkSession(store, identity, id);
    }
    return revoked;
  }

  return async function logout(logoutToken: unknown, ctx: RequestContext = {}): Promise<{ revoked: number }> {
    const handle = await provider.provider();
    const now = sessions.now();
    const claims = await verifyLogoutToken(logoutToken, {
      jwks: handle.jwks, issuer: handle.issuer, clientId: opts.clientId, algorithm: opts.idTokenSigningAlg,
      acceptUntyped: opts.acceptUntypedLogoutTokens, clockTolerance: Math.floor(opts.clockTolerance / 1000), now,
    });
    const jtiId = await remember(claims, now);
    try {
      return { revoked: await revokeNamed(claims, { ...ctx, actor: ctx.actor ?? 'oidc:backchannel' }) };
    } catch (err) {
      // The provider may send the token again after an outage: it must not then be refused as a replay.
      await store.deleteRecord(JTI_KIND, jtiId).catch(() => false);
      throw err;
    }
  };
}
