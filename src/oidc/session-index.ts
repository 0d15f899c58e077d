import { createHash } from 'node:crypto';
import { storeFailure } from '../core/errors.js';
import type { SessionStore } from '../stores/types.js';

/** Who a session belongs to at the provider: kept in the session's `data.oidc`. */
export interface OidcIdentity {
  iss: string;
  sub: string;
  sid: string | null;
}

/** One index record: a session linked to a provider subject or session. */
interface IndexEntry {
  sessionId: string;
  /** The session's absolute expiry (epoch ms): past it the entry is only clutter. */
  expiresAt: number;
  /** The login's ID Token, sealed (src/oidc/id-token.ts): the `id_token_hint` of RP-initiated logout. */
  idToken?: string;
}

/** The key under which a session's provider identity lives in its `data`: reserved for sessionkit. */
export const OIDC_DATA_KEY = 'oidc';

/**
 * Record kinds per provider subject and per provider session: one kind each, one record per
 * session, so linking a login is a single insert (no read-modify-write of a shared list, no lost
 * update when two logins of one user race) and a logout reads one kind. The values are hashed:
 * the kind stays short and bounded whatever the provider's identifiers look like.
 */
function kindFor(what: 'sub' | 'sid', iss: string, value: string): string {
  return `oidc-${what}:${createHash('sha256').update(`${iss}\n${value}`).digest('base64url')}`;
}

/**
 * The provider identity of a session, from its `data`, or null when it has none (or a malformed one).
 *
 * @example identityOf(session.data) // { iss: 'https://sso.example.org', sub: 'u-123', sid: 'a1b2' }
 */
export function identityOf(data: Record<string, unknown>): OidcIdentity | null {
  const value = data[OIDC_DATA_KEY] as Partial<OidcIdentity> | undefined;
  if (!value || typeof value !== 'object' || typeof value.iss !== 'string' || typeof value.sub !== 'string') return null;
  return { iss: value.iss, sub: value.sub, sid: typeof value.sid === 'string' ? value.sid : null };
}

/**
 * Links a new session to its provider subject (and provider session, when the ID Token had a
 * `sid`), and drops the subject's entries whose sessions have expired, so the index of a user who
 * keeps logging in does not grow.
 *
 * @example await linkSession(store, { iss, sub, sid }, session.id, session.absoluteExpiresAt.getTime(), Date.now())
 */
export async function linkSession(store: SessionStore, identity: OidcIdentity, sessionId: string, expiresAt: number, now: number, sealedIdToken: string | null = null): Promise<void> {
  const entry: IndexEntry = sealedIdToken === null ? { sessionId, expiresAt } : { sessionId, expiresAt, idToken: sealedIdToken };
  const subKind = kindFor('sub', identity.iss, identity.sub);
  try {
    for (const old of await store.listRecords<IndexEntry>(subKind)) {
      if (typeof old?.expiresAt === 'number' && old.expiresAt <= now) await store.deleteRecord(subKind, old.sessionId);
    }
    await store.putRecord(subKind, sessionId, entry);
    // The sid index needs no copy of the ID Token: logout reads it from the subject's entry.
    if (identity.sid !== null) await store.putRecord(kindFor('sid', identity.iss, identity.sid), sessionId, { sessionId, expiresAt });
  } catch (err) {
    throw storeFailure(err, 'linking the OIDC login');
  }
}

/**
 * The ids of the sessions linked to a provider session (`sid`) or, without one, to a provider
 * subject. Callers check each session's own `data.oidc` before acting on it.
 *
 * @example await linkedSessions(store, iss, { sid: 'a1b2' }) // ['Qm9…']
 */
export async function linkedSessions(store: SessionStore, iss: string, by: { sid: string } | { sub: string }): Promise<string[]> {
  const kind = 'sid' in by ? kindFor('sid', iss, by.sid) : kindFor('sub', iss, by.sub);
  try {
    return (await store.listRecords<IndexEntry>(kind)).map((e) => e?.sessionId).filter((id): id is string => typeof id === 'string');
  } catch (err) {
    throw storeFailure(err, 'reading the OIDC session index');
  }
}

/**
 * The sealed ID Token kept with a session's index entry at login, or null (none kept, or the
 * entry is gone).
 *
 * @example const sealed = await sealedIdTokenOf(store, identity, session.id)
 */
export async function sealedIdTokenOf(store: SessionStore, identity: OidcIdentity, sessionId: string): Promise<string | null> {
  try {
    const entry = await store.getRecord<IndexEntry>(kindFor('sub', identity.iss, identity.sub), sessionId);
    return typeof entry?.idToken === 'string' ? entry.idToken : null;
  } catch (err) {
    throw storeFailure(err, 'reading the OIDC session index');
  }
}

/**
 * Removes a session from the index (after a back-channel logout ended it, or when it is gone).
 *
 * @example await unlinkSession(store, identity, session.id)
 */
export async function unlinkSession(store: SessionStore, identity: OidcIdentity, sessionId: string): Promise<void> {
  try {
    await store.deleteRecord(kindFor('sub', identity.iss, identity.sub), sessionId);
    if (identity.sid !== null) await store.deleteRecord(kindFor('sid', identity.iss, identity.sid), sessionId);
  } catch (err) {
    throw storeFailure(err, 'updating the OIDC session index');
  }
}

/**
 * Removes one index record when the session it names no longer carries a matching identity.
 *
 * @example await dropStaleEntry(store, iss, { sid }, sessionId)
 */
export async function dropStaleEntry(store: SessionStore, iss: string, by: { sid: string } | { sub: string }, sessionId: string): Promise<void> {
  const kind = 'sid' in by ? kindFor('sid', iss, by.sid) : kindFor('sub', iss, by.sub);
  try {
    await store.deleteRecord(kind, sessionId);
  } catch (err) {
    throw storeFailure(err, 'updating the OIDC session index');
  }
}
