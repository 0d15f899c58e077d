import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/core/iso-time.js';

describe('isoTime', () => {
  it('writes exactly what Date#toISOString writes', () => {
    for (const ms of [0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 1_795_990_384_772,
      253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_000, 8.64e15, -8.64e15]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => isoTime(ms) === new Date(ms).toISOString()), { numRuns: 20_000 });
  });

  it('keeps writing correctly after its per-day memo is cleared', () => {
    for (let d = 0; d < 200; d += 1) {
      const ms = 1_700_000_000_000 + d * 86_400_000 + d * 1_234;
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
