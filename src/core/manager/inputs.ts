/**
 * Checks of caller input shared by the operations (user ids, roles, data): each throws
 * `invalid_request` naming the field, and returns the value as the record keeps it.
 */
import { SessionError } from '../errors.js';
import { checkStorable, storableText } from '../text.js';

/** Longest user id or session id accepted. */
export const MAX_ID_LENGTH = 256;
const MAX_ROLES = 64;

/** How many times an operation retries its compare-and-swap before `version_conflict`. */
export const CAS_ATTEMPTS = 8;

/** `data` as a deep copy through JSON, at most `maxDataBytes` of UTF-8 JSON. */
export function checkedData(data: unknown, maxDataBytes: number): Record<string, unknown> {
  if (data === undefined) return {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new SessionError('invalid_request', 'data: expected a JSON object');
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch {
    throw new SessionError('invalid_request', 'data: must be serialisable as JSON');
  }
  if (Buffer.byteLength(json) > maxDataBytes) throw new SessionError('invalid_request', `data: larger than ${maxDataBytes} bytes`);
  const parsed = JSON.parse(json) as Record<string, unknown>;
  checkStorable(parsed, 'data');
  return parsed;
}

/** Roles (or auth methods) without duplicates: at most 64 non-empty strings of up to 64 characters. */
export function checkedRoles(roles: unknown, field = 'roles'): string[] {
  if (roles === undefined) return [];
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((r) => typeof r === 'string' && r.length > 0 && r.length <= 64)) {
    throw new SessionError('invalid_request', `roles: expected at most ${MAX_ROLES} non-empty strings of up to 64 characters`);
  }
  checkStorable(roles, field);
  return [...new Set(roles as string[])];
}

export function checkedUserId(userId: unknown): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_ID_LENGTH) {
    throw new SessionError('invalid_request', `userId: expected a non-empty string of up to ${MAX_ID_LENGTH} characters`);
  }
  checkStorable(userId, 'userId');
  return userId;
}

/** Whether a value can be a session id (a string of 1 to 256 characters every store can keep). */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH && storableText(id);
}
