import { randomBytes } from 'node:crypto';
import { SessionError } from '../../core/errors.js';

/**
 * User ids of anonymous sessions start with this. An express-session-style bag that holds data
 * but no user yet (a connect-flash message, a cart before login) is stored as a session of its
 * own pseudo-user `anonymous:<22 random characters>`: one pseudo-user per session, so anonymous
 * sessions never share a device list, a per-user limit or a Redis hash slot, and never appear
 * among a real user's sessions. An app's own user ids must not start with it.
 */
export const ANONYMOUS_USER_PREFIX = 'anonymous:';

/**
 * Whether a user id names an anonymous (pre-login) session of the express-session compat mode.
 *
 * @example isAnonymousUserId(session.userId) // true for 'anonymous:9Xk…'
 */
export function isAnonymousUserId(userId: string): boolean {
  return userId.startsWith(ANONYMOUS_USER_PREFIX);
}

/**
 * A fresh pseudo-user for one anonymous session (128 random bits).
 *
 * @example await layer.login(state, { userId: anonymousUserId(), data })
 */
export function anonymousUserId(): string {
  return ANONYMOUS_USER_PREFIX + randomBytes(16).toString('base64url');
}

/** An own property only: a key inherited from a prototype is never taken for data. */
function own(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** A user id from an id-like value: a non-empty string, a finite number, or an object's `id`. */
function idLike(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  const id = own(value, 'id');
  if (typeof id === 'string' && id.length > 0) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}

/**
 * The default `userIdOf` of the compat mode: `data.userId`, else `data.user` (a string or an
 * object with `id`), else passport's `data.passport.user` (what `serializeUser` gave: a string or
 * number id, or an object with `id`). A passport user it cannot read is an error, not "no user":
 * the login would otherwise be lost without a word.
 *
 * @example defaultUserId({ passport: { user: 42 } }) // '42'
 */
export function defaultUserId(data: Record<string, unknown>): string | undefined {
  const userId = own(data, 'userId');
  if (typeof userId === 'string' && userId.length > 0) return userId;
  const user = idLike(own(data, 'user'));
  if (user !== undefined) return user;
  const passportUser = own(own(data, 'passport'), 'user');
  if (passportUser === undefined || passportUser === null || passportUser === '') return undefined;
  const fromPassport = idLike(passportUser);
  if (fromPassport === undefined) {
    throw new SessionError('invalid_request', 'expressSessionCompat: session.passport.user (from serializeUser) is neither an id (string or number) nor an object with an id; pass expressSessionCompat: { userIdOf: (data) => ... }');
  }
  return fromPassport;
}

/**
 * The default `rolesOf`: `data.roles` when it is an array of strings.
 *
 * @example defaultRoles({ roles: ['admin'] }) // ['admin']
 */
export function defaultRoles(data: Record<string, unknown>): string[] | undefined {
  const roles = own(data, 'roles');
  return Array.isArray(roles) && roles.every((r) => typeof r === 'string') ? roles as string[] : undefined;
}

/**
 * Checks what `userIdOf` gave: a user id outside the anonymous namespace, or undefined; anything
 * else is `invalid_request`.
 *
 * @example checkedUserId(userIdOf(data)) // 'u1' or undefined
 */
export function checkedUserId(userId: unknown): string | undefined {
  if (userId === undefined) return undefined;
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new SessionError('invalid_request', 'expressSessionCompat: userIdOf must return a non-empty string or undefined');
  }
  if (isAnonymousUserId(userId)) {
    throw new SessionError('invalid_request', `expressSessionCompat: user ids starting with "${ANONYMOUS_USER_PREFIX}" are reserved for anonymous sessions`);
  }
  return userId;
}
