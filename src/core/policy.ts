import { parseDuration, type Duration } from './duration.js';
import { SessionError } from './errors.js';

export interface RolePolicyInput {
  idleTimeout?: Duration;
  absoluteTimeout?: Duration;
}

export interface EffectivePolicy {
  idleTimeout: number;
  absoluteTimeout: number;
  /** The roles whose policy set a value, comma-separated; null when the defaults apply. */
  policy: string | null;
}

export type PolicyResolver = (roles: readonly string[]) => EffectivePolicy;

/**
 * Builds the per-role expiry policy: among the session's roles that have a policy, the most
 * restrictive value of each timeout wins; roles without one leave the defaults.
 */
export function rolePolicy(defaults: { idleTimeout: number; absoluteTimeout: number },
  roles: Record<string, RolePolicyInput> | undefined): PolicyResolver {
  const table = new Map<string, { idleTimeout?: number; absoluteTimeout?: number }>();
  if (roles !== undefined) {
    if (typeof roles !== 'object' || roles === null || Array.isArray(roles)) {
      throw new SessionError('invalid_request', 'option roles: expected an object of role name to { idleTimeout, absoluteTimeout }');
    }
    for (const [role, p] of Object.entries(roles)) {
      if (typeof p !== 'object' || p === null) throw new SessionError('invalid_request', `option roles.${role}: expected an object`);
      const entry: { idleTimeout?: number; absoluteTimeout?: number } = {};
      if (p.idleTimeout !== undefined) entry.idleTimeout = positive(parseDuration(p.idleTimeout, `roles.${role}.idleTimeout`), `roles.${role}.idleTimeout`);
      if (p.absoluteTimeout !== undefined) entry.absoluteTimeout = positive(parseDuration(p.absoluteTimeout, `roles.${role}.absoluteTimeout`), `roles.${role}.absoluteTimeout`);
      table.set(role, entry);
    }
  }
  const none: EffectivePolicy = { ...defaults, policy: null };
  if (table.size === 0) return () => none;
  return (sessionRoles) => {
    let idle: { value: number; role: string | null } = { value: defaults.idleTimeout, role: null };
    let absolute: { value: number; role: string | null } = { value: defaults.absoluteTimeout, role: null };
    let matched = false;
    for (const role of sessionRoles) {
      const p = table.get(role);
      if (!p) continue;
      if (p.idleTimeout !== undefined && (idle.role === null || p.idleTimeout < idle.value)) {
        idle = { value: p.idleTimeout, role };
      }
      if (p.absoluteTimeout !== undefined && (absolute.role === null || p.absoluteTimeout < absolute.value)) {
        absolute = { value: p.absoluteTimeout, role };
      }
      matched = true;
    }
    if (!matched) return none;
    const names = [...new Set([idle.role, absolute.role].filter((r): r is string => r !== null))];
    return { idleTimeout: idle.value, absoluteTimeout: absolute.value, policy: names.length ? names.join(',') : null };
  };
}

function positive(ms: number, option: string): number {
  if (ms <= 0) throw new SessionError('invalid_request', `option ${option}: must be greater than zero`);
  return ms;
}
