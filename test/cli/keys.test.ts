import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, tempDir } from './helpers.js';

describe('sessionkit keys', () => {
  const tmp = tempDir();
  const store = { SESSIONKIT_STORE: `sqlite:${join(tmp.dir, 'keys.db')}` };

  beforeAll(() => ensureBuilt());
  afterAll(() => tmp.cleanup());

  it('creates a key, prints it once, lists it without the key and revokes it', async () => {
    const created = await cli(['keys', 'create', '--name', 'shop', '--scope', 'sessions'], store);
    expect(created.code).toBe(0);
    const key = /^key: (ska_\S+)$/m.exec(created.stdout)?.[1];
    const id = /^created API key (\S+) \(name shop, scopes sessions\)$/m.exec(created.stdout)?.[1];
    expect(key).toMatch(/^ska_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(id).toBeDefined();

    const listed = await cli(['keys', 'list', '--json'], store);
    expect(listed.code).toBe(0);
    const body = JSON.parse(listed.stdout) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toEqual([{ id, name: 'shop', scopes: ['sessions'], createdAt: expect.stringMatching(/Z$/), lastUsedAt: null }]);
    expect(listed.stdout).not.toContain((key as string).split('.')[1]);
    const table = await cli(['keys', 'list'], store);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\n/);
    expect(table.stdout).toContain('never');

    const revoked = await cli(['keys', 'revoke', id as string], store);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked API key ${id}\n` });
    const again = await cli(['keys', 'revoke', id as string, '--json'], store);
    expect(again).toMatchObject({ code: 1, stdout: '', stderr: `sessionkit: keys revoke: no API key with id ${id}\n` });
    expect(JSON.parse((await cli(['keys', 'list', '--json'], store)).stdout)).toEqual({ keys: [] });
  });

  it('creates an admin key as JSON, with several scopes', async () => {
    const r = await cli(['keys', 'create', '--name', 'ops', '--scope', 'admin', '--scope', 'sessions', '--json'], store);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'ops', scopes: ['admin', 'sessions'], key: expect.stringMatching(/^ska_/) });
  });

  it('exits 2 for a missing name, an unknown scope or a stray argument', async () => {
    expect(await cli(['keys', 'create'], store)).toMatchObject({ code: 2, stderr: 'sessionkit: keys create: --name is required\n' });
    expect(await cli(['keys', 'create', '--name', 'x', '--scope', 'root'], store))
      .toMatchObject({ code: 2, stderr: 'sessionkit: keys create: --scope: expected sessions or admin, got root\n' });
    expect(await cli(['keys', 'list', 'extra'], store)).toMatchObject({ code: 2, stderr: "sessionkit: keys list: unexpected argument 'extra'\n" });
    expect(await cli(['keys', 'create', '--name', 'bad\u0007name'], store)).toMatchObject({ code: 2 });
  });

  it('lists nothing on a fresh memory store', async () => {
    expect(await cli(['keys', 'list', '--store', 'memory:'])).toMatchObject({ code: 0, stdout: 'no API keys\n' });
  });

  it('rotates the JWT signing key, lists the ring and retires a key', async () => {
    const first = await cli(['keys', 'rotate', '--json'], store);
    expect(first.code).toBe(0);
    const { kid: kid1 } = JSON.parse(first.stdout) as { kid: string };
    const second = await cli(['keys', 'rotate'], store);
    expect(second.code).toBe(0);
    const kid2 = /^new signing key (\S+), published now, signing from \S+$/m.exec(second.stdout)?.[1];
    expect(second.stdout).toContain(`still verifying (until their tokens expire): ${kid1}`);
    const ring = JSON.parse((await cli(['keys', 'signing', '--json'], store)).stdout) as { keys: Array<{ kid: string; state: string }> };
    // The new key is published but waits out keyPropagation; the first one keeps signing.
    expect(ring.keys.find((k) => k.kid === kid1)?.state).toBe('active');
    expect(ring.keys.find((k) => k.kid === kid2)?.state).toBe('pending');
    expect(JSON.stringify(ring)).not.toMatch(/privateKey|"d":/);
    // Retiring the signing key (leaked) activates the pending one at once.
    expect(await cli(['keys', 'retire', kid1], store)).toMatchObject({ code: 0, stdout: `retired signing key ${kid1}\n` });
    const after = JSON.parse((await cli(['keys', 'signing', '--json'], store)).stdout) as { keys: Array<{ kid: string; state: string }> };
    expect(after.keys.find((k) => k.kid === kid2)?.state).toBe('active');
    expect(await cli(['keys', 'retire', 'no-such-kid'], store)).toMatchObject({ code: 1, stderr: 'sessionkit: keys retire: no signing key with kid no-such-kid\n' });
    const audit = await cli(['audit', 'tail', '--once', '--json', '--type', 'keys.rotated'], store);
    expect(audit.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });

  it('explains itself with --help', async () => {
    for (const sub of ['create', 'list', 'revoke', 'rotate', 'signing', 'retire']) {
      const r = await cli(['keys', sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: sessionkit keys ${sub}`));
    }
    const group = await cli(['keys', '--help']);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('keys create');
    const bare = await cli(['keys']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('keys create');
    const unknown = await cli(['keys', 'frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stderr: "sessionkit: unknown command 'keys frobnicate' (see sessionkit keys --help)\n" });
  });
});
