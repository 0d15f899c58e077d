// Review of issue 2 against docs/DESIGN.md ("The library's public API"): the documented snippet
// runs as written on a real SQLite file, the injectable random source and clock are honoured, the
// pino sink writes one structured line per event (rejections at warn, never a token), every
// revocation reason the issue names reaches the audit sinks, and each SessionError code carries
// the HTTP status the design lists.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessionManager, SessionError, pinoAudit, memoryAudit, ERROR_STATUS } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { memoryStore } from '../../src/stores/memory.js';
import { fakeClock } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pino logger writing into an array of parsed JSON lines. */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines, raw };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return (err as SessionError).code;
  }
  return 'resolved';
}

describe('the public API as docs/DESIGN.md shows it', () => {
  it('runs the documented snippet on a SQLite file, with per-role timeouts, the limit, pino audit and an injected clock', async () => {
    const clock = fakeClock();
    const { logger, lines, raw } = capturingLogger();
    const store = sqliteStore({ path: join(dir, 'design.db') });
    const sessions = createSessionManager({
      store,
      idleTimeout: '30m', absoluteTimeout: '8h',
      roles: { admin: { idleTimeout: '10m', absoluteTimeout: '1h' } },
      maxSessionsPerUser: 10,
      audit: [pinoAudit(logger)],
      now: clock.now,
    });
    try {
      const userAgent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
      const ip = '198.51.100.20';
      const earlier = await sessions.create({ userId: 'u1', roles: ['admin'], device: { userAgent, ip } });
      const { session, token } = await sessions.create({ userId: 'u1', roles: ['admin'], device: { userAgent, ip }, replaces: earlier.token });
      expect(await codeOf(sessions.validate(earlier.token))).toBe('session_revoked');
      expect(session.idleExpiresAt.getTime()).toBe(clock.now() + 10 * 60_000);
      expect(session.absoluteExpiresAt.getTime()).toBe(clock.now() + 3_600_000);
      expect(session.device).toMatchObject({ browser: 'Chrome', os: 'Windows', type: 'desktop', ip });

      const current = await sessions.validate(token);
      const renewed = await sessions.renew(token);
      expect(renewed.session.id).toBe(current.id);
      expect(renewed.token).not.toBe(token);
      const fresh = await sessions.validate(renewed.token);
      const updated = await sessions.update(fresh.id, { data: { theme: 'dark' } }, { expectedVersion: fresh.version });
      expect(updated.data).toEqual({ theme: 'dark' });
      expect(await codeOf(sessions.update(fresh.id, { data: { theme: 'light' } }, { expectedVersion: fresh.version }))).toBe('version_conflict');

      const other = await sessions.create({ userId: 'u1', device: { userAgent, ip } });
      // Both were created at the same instant of the frozen clock, so their order is the id's: compare as sets.
      expect((await sessions.listForUser('u1')).map((s) => s.id).sort()).toEqual([current.id, other.session.id].sort());
      expect(await sessions.revokeAllForUser('u1', { except: current.id })).toBe(1);
      expect(await sessions.revoke(current.id, { reason: 'logout' })).toBe(true);
      expect(await sessions.listForUser('u1')).toEqual([]);
      expect(await codeOf(sessions.validate(renewed.token))).toBe('session_revoked');

      // The pino sink: one structured line per event, the type as the message, rejections at warn.
      const types = lines.map((l) => l.msg);
      expect(types).toEqual(expect.arrayContaining(['session.created', 'session.revoked', 'session.renewed', 'session.updated', 'session.rejected']));
      for (const line of lines) {
        expect(line.audit).toMatchObject({ type: line.msg });
        expect(typeof (line.audit as { at: unknown }).at).toBe('string');
        expect(line.level).toBe(line.msg === 'session.rejected' ? 40 : 30);
      }
      const rejected = lines.filter((l) => l.msg === 'session.rejected').map((l) => l.audit as Record<string, unknown>);
      expect(rejected.every((e) => typeof e.tokenFingerprint === 'string')).toBe(true);
      const secrets = [earlier.token, token, renewed.token].map((t) => t.split('.')[1] as string);
      for (const secret of secrets) expect(raw.join('\n')).not.toContain(secret);
    } finally {
      await store.close();
    }
  });

  it('takes its randomness from the injected source: the same bytes give the same ids and tokens', async () => {
    const seeded = () => {
      let n = 0;
      return (size: number): Buffer => {
        n += 1;
        return createHash('sha512').update(`seed-${n}`).digest().subarray(0, size);
      };
    };
    const make = () => createSessionManager({ store: memoryStore(), now: fakeClock().now, random: seeded(), secret: 'review-secret-0123456789abcdef0123456789' });
    const a = await make().create({ userId: 'u' });
    const b = await make().create({ userId: 'u' });
    expect(a.token).toBe(b.token);
    expect(a.session.id).toBe(b.session.id);
    expect(a.session.id).toBe(createHash('sha512').update('seed-1').digest().subarray(0, 32).toString('base64url'));
  });

  it('audits a revocation for each reason the issue names: logout, admin, evicted, replaced, expired', async () => {
    const clock = fakeClock();
    const trail = memoryAudit();
    const sessions = createSessionManager({ store: memoryStore(), now: clock.now, audit: [trail], maxSessionsPerUser: 1, idleTimeout: '10m', touchInterval: 0 });
    const logout = await sessions.create({ userId: 'a' });
    await sessions.revoke(logout.session.id, { reason: 'logout' });
    const admin = await sessions.create({ userId: 'b' });
    await sessions.revoke(admin.session.id, { reason: 'admin', actor: 'ops' });
    const evicted = await sessions.create({ userId: 'c' });
    await sessions.create({ userId: 'c' });
    const replaced = await sessions.create({ userId: 'd' });
    await sessions.create({ userId: 'e', replaces: replaced.token });
    const idle = await sessions.create({ userId: 'f' });
    clock.advance(11 * 60_000);
    expect(await sessions.sweepExpired()).toBeGreaterThanOrEqual(1);

    const revoked = (id: string) => trail.events.find((e) => e.type === 'session.revoked' && e.sessionId === id);
    expect(revoked(logout.session.id)).toMatchObject({ reason: 'logout', userId: 'a' });
    expect(revoked(admin.session.id)).toMatchObject({ reason: 'admin', actor: 'ops' });
    expect(revoked(evicted.session.id)).toMatchObject({ reason: 'evicted', userId: 'c' });
    expect(revoked(replaced.session.id)).toMatchObject({ reason: 'replaced', userId: 'd' });
    expect(trail.events.find((e) => e.type === 'session.expired' && e.sessionId === idle.session.id)).toMatchObject({ reason: 'expired', detail: 'idle' });
    expect(trail.events.filter((e) => e.type === 'session.created')).toHaveLength(7);
  });

  it('maps every documented SessionError code to the documented HTTP status', () => {
    const expected: Record<string, number> = {
      token_missing: 401, token_malformed: 401, token_invalid: 401, session_not_found: 401, session_expired: 401,
      session_revoked: 401, refresh_reused: 401, csrf_failed: 403, rate_limited: 429, store_unavailable: 503,
      invalid_request: 400, version_conflict: 409, session_limit_reached: 409, reauthentication_required: 403,
    };
    for (const [code, status] of Object.entries(expected)) {
      expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], code).toBe(status);
      const err = new SessionError(code as keyof typeof ERROR_STATUS, 'x');
      expect([err.code, err.status, err.name, err instanceof Error]).toEqual([code, status, 'SessionError', true]);
    }
  });
});
