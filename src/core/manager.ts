/**
 * The session manager: the framework-free core that creates, validates, renews and terminates
 * sessions over any `SessionStore`. This file assembles it; each family of operations lives in
 * src/core/manager/ over one context built once from the checked options (manager/context.ts).
 */
import type { AuditEvent } from './types.js';
import { managerContext } from './manager/context.js';
import { createOperation } from './manager/create.js';
import { csrfOperations } from './manager/csrf.js';
import type { SessionManagerOptions } from './manager/options.js';
import { revocationOperations } from './manager/revoke.js';
import { sweepOperation } from './manager/sweep.js';
import { updateOperations } from './manager/update.js';
import { validationOperations } from './manager/validate.js';

export type { SessionManagerOptions } from './manager/options.js';
export type {
  CreateSessionInput, CreateSessionWithTokenType, IssuedSession, ReauthenticateInput, ReauthenticatedSession,
  RevokeInput, RevokeAllInput,
} from './manager/types.js';
export { toSession } from './manager/session-view.js';

export type SessionManager = ReturnType<typeof createSessionManager>;

/**
 * Creates the session manager: the framework-free core that creates, validates, renews and
 * terminates sessions over any `SessionStore`.
 *
 * @example
 * const sessions = createSessionManager({ store: memoryStore() });
 * const { token } = await sessions.create({ userId: 'u1', device: { userAgent, ip } });
 * const session = await sessions.validate(token);
 */
export function createSessionManager(options: SessionManagerOptions) {
  const ctx = managerContext(options);
  const { store, jwt } = ctx;
  const { validate, renew } = validationOperations(ctx);
  const { update, reauthenticate, recentAuth } = updateOperations(ctx);
  const { revoke, revokeAllForUser, listForUser, get } = revocationOperations(ctx);
  const { csrfToken, verifyCsrfToken } = csrfOperations(ctx);

  return {
    store,
    options: {
      idleTimeout: ctx.idleTimeout, absoluteTimeout: ctx.absoluteTimeout, touchInterval: ctx.touchInterval,
      renewGrace: ctx.renewGrace, tokenPrefix: ctx.prefix, maxSessionsPerUser: ctx.limit,
      jwt: jwt.settings.jwt, checkRevocation: jwt.settings.checkRevocation,
      revocationStaleness: jwt.settings.revocationStaleness, refreshGrace: jwt.settings.refreshGrace,
      /** The parsed `reauth` option: the default requirement with its role rules. */
      reauth: ctx.reauth,
    },
    create: createOperation(ctx), validate, renew, update, revoke,
    /** Records a fresh authentication and rotates the token (`ReauthenticatedSession`). */
    reauthenticate,
    /** The freshness requirement of a check, with the defaults and role rules (`FreshnessRequirement`). */
    recentAuth, revokeAllForUser, listForUser, get, sweepExpired: sweepOperation(ctx),
    /** Rotates a refresh token: a new access token and refresh token (see IssuedJwtSession). */
    refresh: jwt.refresh,
    /** The signing-key ring: `rotate()`, `jwks()`, `list()`, `import()`, `retire()`. */
    keys: jwt.keys,
    csrfToken, verifyCsrfToken, derivedKey: ctx.derivedKey, resolvePolicy: ctx.resolvePolicy,
    /** Sends events from layers above the core (adapters, the service) to the same sinks and trail. */
    async audit(events: AuditEvent[]): Promise<void> {
      ctx.emit(events);
      await store.appendAudit(events);
    },
    now: ctx.now,
    close: () => {
      jwt.close();
      return store.close();
    },
  };
}
