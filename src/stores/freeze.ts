/**
 * Deep freezing of session records, shared by the stores that hand one decoded object to many
 * readers (the memory store's records, the SQLite and Redis stores' read memo, read-memo.ts).
 */
import type { StoredSession } from '../core/types.js';

/** The object-valued fields of a record: the ones `Object.freeze` on the record leaves mutable. */
export type NestedParts = Pick<StoredSession, 'usedSecretHashes' | 'roles' | 'authMethods' | 'device' | 'data'>;

/**
 * Freezes a record (or a record's body) and everything in it (arrays, `device`, `data` at any
 * depth), so one object can be handed to every reader. `NESTED` makes the compiler list the object
 * fields of `StoredSession`: a new one fails to compile here until it is frozen too.
 *
 * @example const shared = deepFreeze(record); Object.isFrozen(shared.roles) // true
 */
export function deepFreeze<T extends NestedParts>(s: T): T {
  Object.freeze(s.usedSecretHashes);
  Object.freeze(s.roles);
  Object.freeze(s.authMethods);
  Object.freeze(s.device);
  freezeValue(s.data);
  return Object.freeze(s);
}

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
type NestedKey = { [K in keyof StoredSession]-?: [Exclude<StoredSession[K], Primitive>] extends [never] ? never : K }[keyof StoredSession];
const NESTED: Record<NestedKey, true> & Record<Exclude<keyof NestedParts, NestedKey>, never> = { usedSecretHashes: true, roles: true, authMethods: true, device: true, data: true };
void NESTED;

/** Freezes a value of `data` and every object or array inside it. */
function freezeValue(value: unknown): void {
  // Typed arrays cannot be frozen; `data` is JSON in practice, so they only come from direct store calls.
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) freezeValue((value as Record<string, unknown>)[key]);
}
