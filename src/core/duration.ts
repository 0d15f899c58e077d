import { SessionError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A duration as milliseconds, or a string such as `'500ms'`, `'3s'`, `'30m'`, `'8h'`, `'7d'`. */
export type Duration = number | string;

/**
 * Parses a duration into milliseconds, throwing `invalid_request` with the option's name when it
 * is not a finite, non-negative number of milliseconds or a string with a unit.
 *
 * @example parseDuration('30m', 'idleTimeout') // 1_800_000
 */
export function parseDuration(value: unknown, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (match) return Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
  }
  throw new SessionError('invalid_request',
    `option ${option}: expected a duration such as 500, '500ms', '3s', '30m', '8h' or '7d', got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
