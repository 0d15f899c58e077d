// The Redis audit trail is a capped stream whose length the service configures
// (SESSIONKIT_AUDIT_RETENTION): older events are trimmed, the kept ones still form a chain from
// the oldest kept, and the stats say the trail no longer covers the whole session lifetime.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { loadConfig, openStore } from '../../src/config/index.js';
import type { AuditEvent } from '../../src/core/types.js';
import { deleteByPrefix, REDIS_URL } from '../helpers/redis-env.js';

describe('the Redis audit stream retention', () => {
  const prefix = `skt_audit_${randomBytes(4).toString('hex')}`;
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await deleteByPrefix(admin, `${prefix}:`);
    admin.disconnect();
  });

  it('keeps about SESSIONKIT_AUDIT_RETENTION events, chained from the oldest kept', async () => {
    const config = loadConfig({ env: { SESSIONKIT_STORE: REDIS_URL, SESSIONKIT_STORE_PREFIX: prefix, SESSIONKIT_AUDIT_RETENTION: '1000', SESSIONKIT_MASTER_KEY: 'a'.repeat(64) } });
    expect(config.auditRetention).toBe(1000);
    expect(() => loadConfig({ env: { SESSIONKIT_AUDIT_RETENTION: '5' } })).toThrow(/auditRetention/);
    const store = await openStore(config);
    try {
      const base: AuditEvent = { type: 'session.rejected', at: 0, sessionId: null, userId: 'u', ip: null, userAgent: null, reason: 'invalid', actor: null, requestId: null };
      for (let batch = 0; batch < 30; batch += 1) {
        await store.appendAudit(Array.from({ length: 100 }, (_, i) => ({ ...base, at: batch * 100 + i })));
      }
      const length = await admin.xlen(`${prefix}:{a}:log`);
      // MAXLEN ~ trims whole stream nodes (100 entries by default): about, never below, the limit.
      expect(length).toBeGreaterThanOrEqual(1000);
      expect(length).toBeLessThan(1300);
      const newest = await store.queryAudit({ limit: 1 });
      expect(newest[0]!.seq).toBe(3000);
      const kept = [];
      for (let after = 0; ;) {
        const page = await store.queryAudit({ after, limit: 500 });
        if (page.length === 0) break;
        kept.push(...page);
        after = page[page.length - 1]!.seq;
      }
      expect(kept).toHaveLength(length);
      expect(kept[0]!.seq).toBe(3001 - length);
      expect(verifyChain(kept, kept[0]!.prevHash)).toEqual({ ok: true, count: length });
    } finally {
      await store.close();
    }
  });
});
