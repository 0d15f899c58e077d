// Issue 18, low 6: the per-IP attempt limiter kept every window until the table reached 100,000
// and then scanned all of it on each new failure; with that many live windows it grew without
// bound. It now keeps two generations of windows (O(1) per call) and at most maxTracked IPs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryLimiter } from '../../src/server/rate-limit.js';

const WINDOW = 60_000;

function limiter(maxTracked?: number) {
  const clock = { t: Date.UTC(2030, 0, 1) };
  const l = memoryLimiter({ max: 3, windowMs: WINDOW, now: () => clock.t, ...(maxTracked !== undefined ? { maxTracked } : {}) });
  return { l, clock, tracked: () => l.tracked as number };
}

describe('the in-memory attempt limiter', () => {
  it('blocks an IP at the limit until its window ends, and no other IP', async () => {
    const { l, clock } = limiter();
    for (let i = 0; i < 3; i += 1) {
      expect(l.blockedFor('198.51.100.1')).toBe(0);
      await l.fail('198.51.100.1');
    }
    expect(l.blockedFor('198.51.100.1')).toBe(WINDOW);
    expect(l.blockedFor('198.51.100.2')).toBe(0);
    clock.t += WINDOW - 1;
    expect(l.blockedFor('198.51.100.1')).toBe(1);
    clock.t += 1;
    expect(l.blockedFor('198.51.100.1')).toBe(0);
    await l.fail('198.51.100.1');
    expect(l.blockedFor('198.51.100.1')).toBe(0);
  });

  it('keeps a window that spans a change of generation, to its very end', async () => {
    const { l, clock } = limiter();
    await l.fail('203.0.113.5'); // opens the first generation
    clock.t += WINDOW - 10;
    for (let i = 0; i < 3; i += 1) await l.fail('203.0.113.9'); // a window opened late in it
    clock.t += 20; // the generation moves on; the window has WINDOW - 20 left
    expect(l.blockedFor('203.0.113.9')).toBe(WINDOW - 20);
    clock.t += WINDOW - 21;
    expect(l.blockedFor('203.0.113.9')).toBe(1);
    clock.t += 1;
    expect(l.blockedFor('203.0.113.9')).toBe(0);
  });

  it('never counts more than maxTracked IPs, and keeps the blocked ones through a flood of new ones', async () => {
    const { l, clock, tracked } = limiter(1000);
    for (let i = 0; i < 3; i += 1) await l.fail('192.0.2.1');
    for (let i = 0; i < 5000; i += 1) {
      await l.fail(`10.0.${i >> 8}.${i & 255}`);
      if (i % 7 === 0) clock.t += 1;
      expect(tracked()).toBeLessThanOrEqual(1000);
    }
    expect(l.blockedFor('192.0.2.1')).toBeGreaterThan(0);
    // Once the flood's windows end, new IPs are counted again and the memory is given back.
    clock.t += 2 * WINDOW;
    await l.fail('192.0.2.77');
    expect(tracked()).toBe(1);
    for (let i = 0; i < 2; i += 1) await l.fail('192.0.2.77');
    expect(l.blockedFor('192.0.2.77')).toBe(WINDOW);
  });

  it('stays at the default bound of 100,000 IPs with 102,000 live windows', async () => {
    const { l, tracked } = limiter();
    for (let i = 0; i < 102_000; i += 1) await l.fail(`ip-${i}`);
    expect(tracked()).toBe(100_000);
  });

  it('answers exactly as a plain per-IP window table would, for any sequence of failures, checks and pauses (property)', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('fail' as const), ip: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('check' as const), ip: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 3 * WINDOW })) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 200 }), async (steps) => {
      const { l, clock } = limiter();
      const model = new Map<number, { count: number; resetAt: number }>();
      for (const s of steps) {
        if (s.kind === 'wait') clock.t += s.ms;
        else if (s.kind === 'fail') {
          await l.fail(`ip${s.ip}`);
          const w = model.get(s.ip);
          if (w && w.resetAt > clock.t) w.count += 1;
          else model.set(s.ip, { count: 1, resetAt: clock.t + WINDOW });
        } else {
          const w = model.get(s.ip);
          const expected = w && w.resetAt > clock.t && w.count >= 3 ? w.resetAt - clock.t : 0;
          expect(l.blockedFor(`ip${s.ip}`)).toBe(expected);
        }
      }
    }), { numRuns: 300, seed: 20_261_204 });
  });
});
