import { SessionError } from '../core/errors.js';

/** How ID Token claims become session roles. */
export interface RoleMapping {
  claim: string | null;
  map: Map<string, string[]> | null;
}

const ROLE = /^.{1,64}$/su;
const MAX_ROLES = 64;

/**
 * Checks `rolesClaim` and `roleMap` (see `OidcOptions`).
 *
 * @example parseRoleMapping('realm_access.roles', { 'sso-admins': 'admin' })
 */
export function parseRoleMapping(claim: unknown, roleMap: unknown): RoleMapping {
  if (claim !== undefined && claim !== null && (typeof claim !== 'string' || claim.length === 0 || claim.length > 256)) {
    throw new SessionError('invalid_request', 'createOidc: option rolesClaim: expected a claim name or a dotted path');
  }
  let map: Map<string, string[]> | null = null;
  if (roleMap !== undefined && roleMap !== null) {
    if (typeof roleMap !== 'object' || Array.isArray(roleMap)) throw new SessionError('invalid_request', 'createOidc: option roleMap: expected an object of provider value to role(s)');
    map = new Map();
    for (const [from, to] of Object.entries(roleMap as Record<string, unknown>)) {
      const roles = Array.isArray(to) ? to : [to];
      if (!roles.every((r) => typeof r === 'string' && ROLE.test(r))) {
        throw new SessionError('invalid_request', `createOidc: option roleMap: ${JSON.stringify(from.slice(0, 60))} must map to role names of 1 to 64 characters`);
      }
      map.set(from, roles as string[]);
    }
  }
  return { claim: typeof claim === 'string' ? claim : null, map };
}

/**
 * The claim's value: a top-level claim of that exact name first (URL-named claims hold dots), else
 * the dotted path; undefined when absent.
 *
 * @example claimValue({ realm_access: { roles: ['admin'] } }, 'realm_access.roles') // ['admin']
 */
export function claimValue(claims: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The session roles for a set of ID Token claims: the configured claim's strings (an array, or a
 * single string), passed through the role map when there is one. Values that are not strings, or
 * not usable as role names, are dropped rather than failing the login; at most 64 roles.
 *
 * @example rolesFromClaims({ groups: ['sso-admins', 'staff'] }, { claim: 'groups', map: new Map([['sso-admins', ['admin']]]) }) // ['admin']
 */
export function rolesFromClaims(claims: Record<string, unknown>, mapping: RoleMapping): string[] {
  if (mapping.claim === null) return [];
  const raw = claimValue(claims, mapping.claim);
  const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const out = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const mapped = mapping.map ? mapping.map.get(value) ?? [] : [value];
    for (const role of mapped) if (ROLE.test(role) && out.size < MAX_ROLES) out.add(role);
  }
  return [...out];
}
