import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, startCli, tempDir, withSqlite } from './helpers.js';

describe('sessionkit audit', () => {
  const tmp = tempDir();
  const db = join(tmp.dir, 'audit.db');
  const store = { SESSIONKIT_STORE: `sqlite:${db}` };

  beforeAll(async () => {
    ensureBuilt();
    await withSqlite(db, async (m) => {
      const { session } = await m.create({ userId: 'alice' });
      await m.create({ userId: 'bob\r\n2099-01-01T00:00:00.000Z #1 session.created user=admin' });
      await m.revoke(session.id, { reason: 'logout', userAgent: 'Mozilla/5.0 "quoted" ua=x' });
    });
  });
  afterAll(() => tmp.cleanup());

  it('prints the recent events as JSON lines, oldest first, and exits with --once', async () => {
    const r = await cli(['audit', 'tail', '--once', '--json'], store);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['session.created', 'session.created', 'session.revoked']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[2]).toMatchObject({ userId: 'alice', reason: 'logout', at: expect.stringMatching(/Z$/) });
  });

  it('prints one escaped line per event, so a user id cannot forge a line', async () => {
    const r = await cli(['audit', 'tail', '--once'], store);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\S+Z #2 session\.created user="bob\\r\\n2099/);
    expect(r.stdout).not.toContain('\r');
    expect(lines[2]).toMatch(/ ua="Mozilla\/5\.0 \\"quoted\\" ua=x"$/);
  });

  it('filters by user, type and time, and limits the first lines', async () => {
    const byUser = await cli(['audit', 'tail', '--once', '--json', '--user', 'alice'], store);
    expect(byUser.stdout.trim().split('\n')).toHaveLength(2);
    const byType = await cli(['audit', 'tail', '--once', '--json', '--type', 'session.revoked'], store);
    expect(byType.stdout.trim().split('\n')).toHaveLength(1);
    const last = await cli(['audit', 'tail', '--once', '--json', '-n', '1'], store);
    expect((JSON.parse(last.stdout) as { seq: number }).seq).toBe(3);
    const since = await cli(['audit', 'tail', '--once', '--json', '--since', '1h', '-n', '0'], store);
    expect(since.stdout.trim().split('\n')).toHaveLength(3);
    const future = await cli(['audit', 'tail', '--once', '--since', '2999-01-01T00:00:00Z'], store);
    expect(future).toMatchObject({ code: 0, stdout: '' });
    const bad = await cli(['audit', 'tail', '--once', '--since', 'yesterday'], store);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sessionkit: audit tail: --since: /);
  });

  it('follows events written by another process, and exits 0 on SIGTERM', async () => {
    const tail = startCli(['audit', 'tail', '--json', '-n', '1'], store);
    // Once the last event is printed the tail has its cursor: what is written now must follow.
    await tail.waitFor(/"seq":3.*\n/);
    await withSqlite(db, (m) => m.create({ userId: 'carol' }));
    const [line] = await tail.waitFor(/\{[^\n]*"userId":"carol"[^\n]*\}\n/);
    expect(JSON.parse(line)).toMatchObject({ type: 'session.created', seq: 4 });
    tail.child.kill('SIGTERM');
    expect(await tail.exited).toBe(0);
    expect(tail.stdout().trim().split('\n')).toHaveLength(2);
  });

  it('verifies the hash chain, and reports the first tampered event with exit 1', async () => {
    const ok = await cli(['audit', 'verify', '--json'], store);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, checked: 4 });
    const raw = new Database(db);
    raw.prepare("UPDATE audit SET user_id = 'mallory' WHERE seq = 2").run();
    raw.close();
    const broken = await cli(['audit', 'verify'], store);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('audit chain BROKEN at event #2: event content does not match its hash (1 events verified before it)\n');
  });

  it('explains itself with --help and refuses bad --lines', async () => {
    const help = await cli(['audit', 'tail', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--since');
    expect(await cli(['help', 'audit', 'verify'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: sessionkit audit verify/) });
    expect(await cli(['audit', 'tail', '-n', 'lots'], store)).toMatchObject({ code: 2, stderr: 'sessionkit: audit tail: --lines: expected an integer from 0 to 10000\n' });
  });
});
