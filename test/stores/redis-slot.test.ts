import { describe, expect, it } from 'vitest';
import { slotOfTag } from '../../src/stores/redis/keys.js';

describe('the Cluster hash slot of a tag', () => {
  it('matches the slots Redis computes (CRC16-XMODEM mod 16384)', () => {
    // Vectors from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    expect(slotOfTag('123456789')).toBe(12739);
    expect(slotOfTag('foo')).toBe(12182);
    expect(slotOfTag('user1000')).toBe(3443);
  });
});
