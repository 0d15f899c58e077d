import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedMap } from '../../src/core/bounded-map.js';

describe('boundedMap', () => {
  it('never holds more than max entries and keeps the entries used most recently', () => {
    const m = boundedMap<number, string>(100);
    for (let i = 0; i < 1000; i += 1) {
      m.set(i, `v${i}`);
      expect(m.size).toBeLessThanOrEqual(100);
      // Key 0 is read after every insert: it stays however many others come and go.
      expect(m.get(0)).toBe('v0');
    }
    expect(m.get(999)).toBe('v999');
    expect(m.get(1)).toBeUndefined();
  });

  it('answers like a Map for every key it still holds (model check)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'get', 'delete'), fc.integer({ min: 0, max: 30 }), fc.integer())), (ops) => {
      const m = boundedMap<number, number>(8);
      const model = new Map<number, number>();
      for (const [op, key, value] of ops) {
        if (op === 'set') {
          m.set(key, value);
          model.set(key, value);
        } else if (op === 'delete') {
          m.delete(key);
          model.delete(key);
        } else {
          const got = m.get(key);
          // A bounded map may have forgotten a key, never invented or changed one.
          if (got !== undefined) expect(got).toBe(model.get(key));
          if (!model.has(key)) expect(got).toBeUndefined();
        }
        expect(m.size).toBeLessThanOrEqual(8);
      }
    }));
  });

  it('clear() forgets everything', () => {
    const m = boundedMap<string, number>(4);
    m.set('a', 1);
    m.set('b', 2);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.get('a')).toBeUndefined();
  });
});
