import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { startWorker } from './helpers/worker.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-sqlite-durability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite store durability', () => {
  it('keeps every acknowledged session and its audit event when the process is killed with SIGKILL', async () => {
    const path = join(dir, 'killed.db');
    const worker = startWorker('create-forever', path);
    expect(await worker.next()).toEqual({ ready: true });
    const acknowledged: string[] = [];
    while (acknowledged.length < 30) acknowledged.push((await worker.next()).created as string);
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');

    const store = sqliteStore({ path });
    try {
      for (const id of acknowledged) expect((await store.get(id))?.userId).toBe('durable');
      const trail = await store.queryAudit({ after: 0, limit: 10_000 });
      const created = new Set(trail.filter((e) => e.type === 'session.created').map((e) => e.sessionId));
      for (const id of acknowledged) expect(created.has(id)).toBe(true);
      expect(verifyChain(trail).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
