import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, tempDir, withSqlite } from './helpers.js';

describe('sessionkit sessions', () => {
  const tmp = tempDir();
  const db = join(tmp.dir, 'sessions.db');
  const store = { SESSIONKIT_STORE: `sqlite:${db}` };
  let ids: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    ids = await withSqlite(db, async (m) => {
      const a = await m.create({ userId: 'alice', roles: ['user'], device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', ip: '192.0.2.1' } });
      const b = await m.create({ userId: 'alice', device: { userAgent: 'curl/8', ip: '192.0.2.2' } });
      const c = await m.create({ userId: 'bob' });
      await m.create({ userId: 'evil\r\n#999 session.created user=admin', device: { userAgent: '\u001b[2Jwiped', ip: null } });
      return [a.session.id, b.session.id, c.session.id];
    });
  });
  afterAll(() => tmp.cleanup());

  it('lists a user\'s sessions as JSON in the API\'s session shape', async () => {
    const r = await cli(['sessions', 'list', '--user', 'alice', '--json'], store);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { sessions: Array<Record<string, unknown>> };
    // Oldest first; two sessions created in the same millisecond come in id order, so compare as a set.
    expect(body.sessions.map((s) => s.id).sort()).toEqual([ids[0], ids[1]].sort());
    const first = body.sessions.find((s) => s.id === ids[0]);
    expect(first).toMatchObject({ userId: 'alice', roles: ['user'], device: { ip: '192.0.2.1', browser: 'Firefox' } });
    expect(first?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('lists them as a table, taking the store from a flag as well as a variable', async () => {
    const r = await cli(['sessions', 'list', '--store', `sqlite:${db}`, '--user', 'alice']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED\s+LAST SEEN/);
    expect(lines).toHaveLength(3);
    expect(r.stdout).toContain(ids[0]);
    expect(r.stdout).toContain('Firefox on Linux 192.0.2.1');
  });

  it('escapes control characters, so a stored user id cannot forge lines or repaint the terminal', async () => {
    const r = await cli(['sessions', 'list', '--user', 'evil\r\n#999 session.created user=admin'], store);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stdout).toContain('\\u001b[2Jwiped');
  });

  it('prints an empty list on the memory store', async () => {
    const text = await cli(['sessions', 'list', '--user', 'nobody', '--store', 'memory:']);
    expect(text).toMatchObject({ code: 0, stdout: 'no live sessions for user nobody\n' });
    const json = await cli(['sessions', 'list', '--user', 'nobody', '--store', 'memory:', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ sessions: [] });
  });

  it('revokes one session, then exits 1 for the same id', async () => {
    const first = await cli(['sessions', 'revoke', ids[1] as string, '--json'], store);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ revoked: true, id: ids[1] });
    const again = await cli(['sessions', 'revoke', ids[1] as string], store);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`sessionkit: sessions revoke: no live session with id ${ids[1]}\n`);
    const audit = await withSqlite(db, (m) => m.store.queryAudit({ sessionId: ids[1], type: 'session.revoked' }));
    expect(audit[0]).toMatchObject({ reason: 'admin', actor: 'cli' });
  });

  it('revokes all sessions of a user and says how many', async () => {
    const r = await cli(['sessions', 'revoke-all', '--user', 'alice'], store);
    expect(r).toMatchObject({ code: 0, stdout: 'revoked 1 session of user alice\n' });
    const json = await cli(['sessions', 'revoke-all', '--user', 'alice', '--json'], store);
    expect(JSON.parse(json.stdout)).toEqual({ revoked: 0 });
    const left = await cli(['sessions', 'list', '--user', 'bob', '--json'], store);
    expect((JSON.parse(left.stdout) as { sessions: unknown[] }).sessions).toHaveLength(1);
  });

  it('exits 2 with one line for a missing argument, an unknown option or a bad configuration value', async () => {
    const missing = await cli(['sessions', 'list'], store);
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: 'sessionkit: sessions list: --user is required\n' });
    const noId = await cli(['sessions', 'revoke'], store);
    expect(noId).toMatchObject({ code: 2, stderr: 'sessionkit: sessions revoke: the <sessionId> argument is required\n' });
    const unknown = await cli(['sessions', 'list', '--user', 'u', '--colour'], store);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("sessionkit: sessions list: unknown option '--colour'\n");
    const bad = await cli(['sessions', 'list', '--user', 'u', '--idle-timeout', 'forever'], store);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')).toHaveLength(2);
    expect(bad.stderr).toMatch(/^sessionkit: invalid option idleTimeout \(--idle-timeout\): /);
    const badEnv = await cli(['sessions', 'list', '--user', 'u'], { SESSIONKIT_STORE: 'ftp://x' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/^sessionkit: invalid option store: unknown store scheme ftp:/);
  });

  it('exits 1 when the store cannot be opened', async () => {
    const file = join(tmp.dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await cli(['sessions', 'list', '--user', 'u', '--store', `sqlite:${file}/sessions.db`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sessionkit: cannot open the store sqlite:/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    // Network stores that refuse the connection: one line, exit 1, and the process does not linger.
    for (const url of ['redis://127.0.0.1:1', 'postgres://postgres:pw@127.0.0.1:1/x']) {
      const refused = await cli(['sessions', 'list', '--user', 'u', '--store', url, '--master-key', 'a'.repeat(64)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^sessionkit: cannot open the store (redis|postgres):\/\/[^\n]*\n$/);
      expect(refused.stderr).not.toContain(':pw@');
    }
  });

  it('explains itself with --help', async () => {
    for (const sub of ['list', 'revoke', 'revoke-all']) {
      const r = await cli(['sessions', sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: sessionkit sessions ${sub} `));
      expect(r.stdout).toContain('--json');
    }
  });
});
