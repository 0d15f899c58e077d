import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { memoryStore } from '../../src/stores/memory.js';
import { authenticateApiKey, createApiKey, hasScope, listApiKeys, revokeApiKey } from '../../src/server/api-keys.js';

describe('API keys', () => {
  it('creates a key shown once, stores only its hash and authenticates it', async () => {
    const store = memoryStore();
    const created = await createApiKey(store, { name: 'shop', scopes: ['sessions'] });
    expect(created.key).toMatch(/^ska_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const secret = created.key.split('.')[1] as string;
    const raw = JSON.stringify(await store.listRecords('api-keys'));
    expect(raw).not.toContain(secret);
    expect(raw).toContain(created.id);
    const principal = await authenticateApiKey(store, created.key);
    expect(principal).toEqual({ id: created.id, name: 'shop', scopes: ['sessions'] });
    expect(hasScope(principal!, 'sessions')).toBe(true);
    expect(hasScope(principal!, 'admin')).toBe(false);
  });

  it('refuses wrong, malformed, oversized and missing keys', async () => {
    const store = memoryStore();
    const { key } = await createApiKey(store, { name: 'a', scopes: ['admin'] });
    const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(await authenticateApiKey(store, wrong)).toBeNull();
    expect(await authenticateApiKey(store, 'ska_nope')).toBeNull();
    expect(await authenticateApiKey(store, 'x'.repeat(5000))).toBeNull();
    expect(await authenticateApiKey(store, undefined)).toBeNull();
    expect(await authenticateApiKey(store, '')).toBeNull();
  });

  it('lists keys without secrets and records the last use, throttled', async () => {
    const store = memoryStore();
    let t = 1_700_000_000_000;
    const a = await createApiKey(store, { name: 'a', scopes: ['sessions', 'admin', 'admin'] }, () => t);
    t += 1000;
    const b = await createApiKey(store, { name: 'b', scopes: ['sessions'] }, () => t);
    await authenticateApiKey(store, a.key, { now: () => t });
    await new Promise((r) => setImmediate(r));
    const listed = await listApiKeys(store);
    expect(listed.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(listed[0]).toEqual({ id: a.id, name: 'a', scopes: ['sessions', 'admin'], createdAt: new Date(t - 1000), lastUsedAt: new Date(t) });
    expect(listed[1]?.lastUsedAt).toBeNull();
    expect(JSON.stringify(listed)).not.toContain('secretHash');
    // A second use within the minute writes nothing new.
    await authenticateApiKey(store, a.key, { now: () => t + 30_000 });
    await new Promise((r) => setImmediate(r));
    expect((await listApiKeys(store))[0]?.lastUsedAt).toEqual(new Date(t));
    await authenticateApiKey(store, a.key, { now: () => t + 61_000 });
    await new Promise((r) => setImmediate(r));
    expect((await listApiKeys(store))[0]?.lastUsedAt).toEqual(new Date(t + 61_000));
  });

  it('revokes a key: it fails from the next request on', async () => {
    const store = memoryStore();
    const { id, key } = await createApiKey(store, { name: 'a', scopes: ['sessions'] });
    expect(await revokeApiKey(store, id)).toBe(true);
    expect(await revokeApiKey(store, id)).toBe(false);
    expect(await authenticateApiKey(store, key)).toBeNull();
    expect(await listApiKeys(store)).toEqual([]);
  });

  it('accepts the configured admin key as admin', async () => {
    const store = memoryStore();
    const adminKey = 'automation-admin-key-0123456789';
    expect(await authenticateApiKey(store, adminKey, { adminKey })).toMatchObject({ id: 'config', scopes: ['admin'] });
    expect(await authenticateApiKey(store, `${adminKey}x`, { adminKey })).toBeNull();
  });

  it('refuses bad names and scopes with invalid_request', async () => {
    const store = memoryStore();
    for (const input of [{ name: '', scopes: ['sessions'] }, { name: 'a\nb', scopes: ['sessions'] }, { name: 'a', scopes: [] }, { name: 'a', scopes: ['root'] }]) {
      await expect(createApiKey(store, input)).rejects.toSatisfy((e: unknown) => isSessionError(e, 'invalid_request'));
    }
  });
});
