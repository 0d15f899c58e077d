/** Revoking sessions (one, or all of a user's) and listing and looking them up. */
import { SessionError, storeFailure } from '../errors.js';
import type { Session, StoredSession } from '../types.js';
import type { ManagerContext } from './context.js';
import { checkStorable } from '../text.js';
import { checkedUserId, isSessionId } from './inputs.js';
import { toSession } from './session-view.js';
import type { RevokeAllInput, RevokeInput } from './types.js';

/**
 * The manager's `revoke`, `revokeAllForUser`, `listForUser` and `get`. Every revocation also
 * tells the JWT half's local revocation set at once, whatever the store's events do.
 *
 * @example const { revoke } = revocationOperations(ctx); await revoke(session.id, { reason: 'logout' });
 */
export function revocationOperations(ctx: ManagerContext) {
  const { store, now } = ctx;

  async function revoke(id: string, opts: RevokeInput = {}): Promise<boolean> {
    if (!isSessionId(id)) throw new SessionError('invalid_request', 'revoke: expected a session id');
    const reason = opts.reason ?? 'logout';
    const t = now();
    let record: StoredSession | null;
    try {
      const current = await store.get(id);
      if (!current) return false;
      const revoked = ctx.event('session.revoked', current, opts, reason);
      record = await store.revoke(id, { reason, at: t, events: [revoked] });
      if (record) ctx.emit([revoked]);
      ctx.jwt.revoked([id], t);
    } catch (err) {
      throw storeFailure(err, 'revoke');
    }
    return record !== null;
  }

  async function revokeAllForUser(userId: string, opts: RevokeAllInput = {}): Promise<number> {
    checkedUserId(userId);
    if (opts.except !== undefined) checkStorable(opts.except, 'except');
    const reason = opts.reason ?? 'logout_all';
    const template = ctx.event('session.revoked', { id: '', userId }, opts, reason);
    let revoked: StoredSession[];
    try {
      revoked = await store.revokeAllForUser(userId, { reason, at: template.at, event: template, ...(opts.except ? { except: opts.except } : {}) });
    } catch (err) {
      throw storeFailure(err, 'revokeAllForUser');
    }
    ctx.emit(revoked.map((r) => ({ ...template, sessionId: r.id })));
    ctx.jwt.revoked(revoked.map((r) => r.id), template.at);
    return revoked.length;
  }

  async function listForUser(userId: string): Promise<Session[]> {
    checkedUserId(userId);
    try {
      return (await store.listForUser(userId, now())).map(toSession);
    } catch (err) {
      throw storeFailure(err, 'listForUser');
    }
  }

  /** Looks a session up by id (admin views); null when unknown. Not a credential check. */
  async function get(id: string): Promise<Session | null> {
    if (!isSessionId(id)) return null;
    try {
      const record = await store.get(id);
      return record ? toSession(record) : null;
    } catch (err) {
      throw storeFailure(err, 'get');
    }
  }

  return { revoke, revokeAllForUser, listForUser, get };
}
