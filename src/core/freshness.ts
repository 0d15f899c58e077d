/**
 * Re-authentication freshness ("sudo mode"): whether a session's last authentication is recent
 * enough, and made with the right methods, for a sensitive action (OWASP ASVS 4.0.3 3.7.1,
 * 5.0 7.5.1). Pure functions over `authenticatedAt` and `authMethods`, so the adapters, the
 * service and application code all decide the same way.
 */
import { parseDuration, type Duration } from './duration.js';
import { SessionError } from './errors.js';

/** What a route (or a role) asks of the last authentication. */
export interface RecentAuthInput {
  /** The longest time since the last authentication. Default: the manager's `reauth.maxAge` (`'10m'`). */
  maxAge?: Duration;
  /** Every one of these must be among the last authentication's methods (e.g. `['totp']`). Default: any. */
  methods?: string[];
}

/** The manager's `reauth` option. */
export interface ReauthPolicyInput {
  /** Default `maxAge` of freshness checks that name none (`requireRecentAuth()`). Default `'10m'`. */
  maxAge?: Duration;
  /**
   * Per-role requirements that tighten every freshness check of a session holding the role, e.g.
   * `{ admin: { maxAge: '12h', methods: ['totp'] } }`.
   */
  roles?: Record<string, RecentAuthInput>;
}

/** A role's rule, parsed: milliseconds, methods checked. */
export interface RoleFreshnessRule {
  maxAge?: number;
  methods?: readonly string[];
}

/**
 * A freshness requirement, parsed. `methods` are all required; `roles` rules apply to sessions
 * holding the role and only ever tighten it (the smallest `maxAge` wins, methods add up).
 */
export interface FreshnessRequirement {
  /** Milliseconds. */
  maxAge: number;
  methods?: readonly string[];
  roles?: Readonly<Record<string, RoleFreshnessRule>>;
}

/** The verdict of `checkFreshness`: the effective requirement and whether the session meets it. */
export interface FreshnessVerdict {
  fresh: boolean;
  /** The effective maximum age in milliseconds (route and roles combined). */
  maxAge: number;
  /** Every method the last authentication must include (route and roles combined; empty: any). */
  methods: string[];
  /** Why the session is stale: too old, or a required method missing; null when fresh. */
  reason: 'age' | 'methods' | null;
}

/** The default of `reauth.maxAge` and of `SESSIONKIT_REAUTH_MAX_AGE`. */
export const DEFAULT_REAUTH_MAX_AGE = 600_000;

const MAX_METHODS = 16;
const METHOD = /^[A-Za-z0-9_.:+-]{1,64}$/;

/**
 * Checks a list of authentication method names (`pwd`, `password`, `totp`, `webauthn`, `mfa`,
 * ...): 1 to 64 characters of letters, digits and `_ . : + -`, at most 16, duplicates dropped.
 *
 * @example parseAuthMethods(['password', 'totp'], 'methods') // ['password', 'totp']
 */
export function parseAuthMethods(value: unknown, label: string, { allowEmpty = false } = {}): string[] {
  if (!Array.isArray(value) || value.length > MAX_METHODS || (!allowEmpty && value.length === 0)
    || !value.every((m) => typeof m === 'string' && METHOD.test(m))) {
    throw new SessionError('invalid_request', `${label}: expected ${allowEmpty ? 'up to' : '1 to'} ${MAX_METHODS} method names such as "password" or "totp" (letters, digits, _ . : + -)`);
  }
  return [...new Set(value as string[])];
}

/**
 * Parses a route's or a role's `{ maxAge, methods }`; `maxAge` stays undefined when not given (the
 * caller fills in its default). Throws `invalid_request` naming the option.
 *
 * @example parseRecentAuth({ maxAge: '10m', methods: ['totp'] }, 'requireRecentAuth') // { maxAge: 600000, methods: ['totp'] }
 */
export function parseRecentAuth(input: RecentAuthInput | undefined, label: string): RoleFreshnessRule {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SessionError('invalid_request', `${label}: expected { maxAge, methods }`);
  }
  const rule: RoleFreshnessRule = {};
  if (input.maxAge !== undefined) {
    const maxAge = parseDuration(input.maxAge, `${label}.maxAge`);
    if (maxAge <= 0) throw new SessionError('invalid_request', `option ${label}.maxAge: must be greater than zero`);
    rule.maxAge = maxAge;
  }
  if (input.methods !== undefined) {
    const methods = parseAuthMethods(input.methods, `${label}.methods`, { allowEmpty: true });
    if (methods.length > 0) rule.methods = methods;
  }
  return rule;
}

/**
 * Parses the manager's `reauth` option into the default requirement (which carries the role
 * rules). `requirementFor` then adds a route's own `{ maxAge, methods }`.
 *
 * @example reauthPolicy({ roles: { admin: { maxAge: '12h', methods: ['totp'] } } }).maxAge // 600000
 */
export function reauthPolicy(input: ReauthPolicyInput | undefined): FreshnessRequirement {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new SessionError('invalid_request', 'option reauth: expected { maxAge, roles }');
  }
  const maxAge = parseRecentAuth({ ...(input?.maxAge !== undefined ? { maxAge: input.maxAge } : {}) }, 'reauth').maxAge ?? DEFAULT_REAUTH_MAX_AGE;
  const policy: FreshnessRequirement = { maxAge };
  const roles = input?.roles;
  if (roles !== undefined) {
    if (typeof roles !== 'object' || roles === null || Array.isArray(roles)) {
      throw new SessionError('invalid_request', 'option reauth.roles: expected an object of role name to { maxAge, methods }');
    }
    const parsed: Record<string, RoleFreshnessRule> = {};
    for (const [role, rule] of Object.entries(roles)) {
      const r = parseRecentAuth(rule, `reauth.roles.${role}`);
      if (r.maxAge === undefined && r.methods === undefined) throw new SessionError('invalid_request', `option reauth.roles.${role}: give maxAge, methods or both`);
      parsed[role] = r;
    }
    if (Object.keys(parsed).length > 0) policy.roles = parsed;
  }
  return policy;
}

/**
 * The requirement of one check: the policy's default `maxAge` unless the route names one, the
 * route's methods, and the policy's role rules.
 *
 * @example requirementFor(policy, { maxAge: 300_000 }) // { maxAge: 300000, roles: policy.roles }
 */
export function requirementFor(policy: FreshnessRequirement, route: RoleFreshnessRule = {}): FreshnessRequirement {
  const out: FreshnessRequirement = { maxAge: route.maxAge ?? policy.maxAge };
  if (route.methods && route.methods.length > 0) out.methods = route.methods;
  if (policy.roles) out.roles = policy.roles;
  return out;
}

/**
 * Judges a session's last authentication against a requirement at time `now` (epoch ms): the
 * effective maximum age is the smallest of the requirement's and those of the session's roles,
 * and every method of the requirement and of those roles must be among `authMethods`. Only the
 * last authentication counts (sessionkit records one: when, and with which methods), so a role
 * rule's methods must have been used at that authentication. An authentication time in the
 * future (clock skew between instances) counts as now, never as fresher.
 *
 * @example checkFreshness(session, { maxAge: 600_000 }, Date.now()) // { fresh: true, maxAge: 600000, methods: [], reason: null }
 */
export function checkFreshness(session: { roles: readonly string[]; authenticatedAt: Date | number; authMethods: readonly string[] },
  requirement: FreshnessRequirement, now: number): FreshnessVerdict {
  let maxAge = requirement.maxAge;
  const methods = new Set(requirement.methods ?? []);
  if (requirement.roles) {
    for (const role of session.roles) {
      const rule = Object.hasOwn(requirement.roles, role) ? requirement.roles[role] : undefined;
      if (!rule) continue;
      if (rule.maxAge !== undefined && rule.maxAge < maxAge) maxAge = rule.maxAge;
      for (const m of rule.methods ?? []) methods.add(m);
    }
  }
  const at = typeof session.authenticatedAt === 'number' ? session.authenticatedAt : session.authenticatedAt.getTime();
  const age = Math.max(0, now - at);
  const required = [...methods];
  let reason: FreshnessVerdict['reason'] = null;
  // Fails closed: an unreadable time (NaN) is never fresh.
  if (!(age <= maxAge)) reason = 'age';
  else if (!required.every((m) => session.authMethods.includes(m))) reason = 'methods';
  return { fresh: reason === null, maxAge, methods: required, reason };
}

/**
 * Whether the session's last authentication meets the requirement at `now`: `checkFreshness`
 * without the details.
 *
 * @example if (!isFresh(session, sessions.recentAuth({ maxAge: '10m' }), Date.now())) askForPassword()
 */
export function isFresh(session: { roles: readonly string[]; authenticatedAt: Date | number; authMethods: readonly string[] },
  requirement: FreshnessRequirement, now: number): boolean {
  return checkFreshness(session, requirement, now).fresh;
}

/**
 * The 403 `reauthentication_required` error of a stale verdict. Its details carry `maxAge` in
 * seconds and the required `methods`, which the HTTP layer copies into the JSON body so a client
 * can send the user to the right prompt.
 *
 * @example throw reauthenticationRequired(verdict)
 */
export function reauthenticationRequired(verdict: FreshnessVerdict): SessionError {
  const minutes = verdict.maxAge / 60_000;
  const within = Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.ceil(verdict.maxAge / 1000)} seconds`;
  const how = verdict.methods.length > 0 ? ` with ${verdict.methods.join(' and ')}` : '';
  return new SessionError('reauthentication_required', `this action needs you to authenticate again${how} (at most ${within} ago)`, {
    maxAge: Math.ceil(verdict.maxAge / 1000), methods: verdict.methods, reason: verdict.reason,
  });
}
