import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';
import { SessionError } from '../../src/core/errors.js';

describe('parseDuration', () => {
  it('takes milliseconds as numbers and strings with a unit', () => {
    expect(parseDuration(0, 'x')).toBe(0);
    expect(parseDuration(1500, 'x')).toBe(1500);
    expect(parseDuration(2.6, 'x')).toBe(3);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('3s', 'x')).toBe(3000);
    expect(parseDuration('30m', 'x')).toBe(1_800_000);
    expect(parseDuration('8h', 'x')).toBe(28_800_000);
    expect(parseDuration('7d', 'x')).toBe(604_800_000);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseDuration(' 10s ', 'x')).toBe(10_000);
  });

  it('multiplies any whole count by its unit', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    fc.assert(fc.property(fc.nat({ max: 1_000_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (count, unit) =>
      parseDuration(`${count}${unit}`, 'x') === count * units[unit]), { seed: 20260101, numRuns: 200 });
  });

  it('rejects anything else with invalid_request naming the option', () => {
    const bad: unknown[] = ['', '5', '5 minutes', '-1s', '1y', '1M', 's', '1e3ms', '0x10s', 'ten seconds', -1, Number.NaN,
      Number.POSITIVE_INFINITY, null, true, {}, [], () => 1, 10n];
    for (const value of bad) {
      let err: unknown;
      try {
        parseDuration(value, 'idleTimeout');
      } catch (e) {
        err = e;
      }
      expect(err, String(value)).toBeInstanceOf(SessionError);
      expect((err as SessionError).code).toBe('invalid_request');
      expect((err as SessionError).message).toContain('option idleTimeout');
    }
  });

  it('never echoes a long bad value in full', () => {
    expect(() => parseDuration('x'.repeat(500), 'touchInterval')).toThrow(/^option touchInterval: .*x{40}…"$/);
  });
});
