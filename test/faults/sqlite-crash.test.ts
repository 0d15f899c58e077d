// Fault injection on SQLite. The service process is killed with SIGKILL during a stream of
// logins: every login answered 201 before the kill is there after the restart, and the audit
// chain still verifies with `sessionkit audit verify`. The disk under the database fills up (a
// real tmpfs of a few MiB, filled to the last block), and its files turn immutable (`chattr +i`:
// read-only even to root): logins get a clear 503 store_unavailable, sessions already there keep
// validating, the same process writes again once it can, and nothing is corrupted
// (integrity_check, audit verify).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root, startService, type ServiceProcess } from '../service/process.js';
import { login, pause, until, type Issued } from './load.js';

const ADMIN_KEY = `faults-admin-${randomBytes(12).toString('hex')}`;
const COMMON = ['--trust-proxy', 'true', '--rate-limit', '1000000/1m', '--log-level', 'fatal', '--sweep-interval', '0'];
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-faults-sqlite-'));

/** `sessionkit audit verify` on a store, as an operator runs it. */
function auditVerify(store: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'index.js'), 'audit', 'verify', '--store', store], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

async function validates(base: string, s: Issued): Promise<number> {
  return (await fetch(`${base}/v1/sessions/current`, { headers: { authorization: `Bearer ${s.token}` } })).status;
}

async function tryLogin(base: string, userId: string): Promise<{ status: number; error: string | null; issued: Issued | null }> {
  const res = await fetch(`${base}/v1/sessions`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  const body = await res.json() as { error?: string; token?: string; session?: { id: string } };
  return { status: res.status, error: body.error ?? null, issued: res.status === 201 ? { id: body.session!.id, token: body.token!, userId } : null };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 120_000);

describe('the service on SQLite, killed with SIGKILL during logins', () => {
  it('keeps every login answered 201 before the kill, and an audit chain that verifies', async () => {
    const store = `sqlite:${join(dir, 'killed', 'sessions.db')}`;
    const first = await startService(['--store', store, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    const acknowledged: Issued[] = [];
    let killed = false;
    const stream = async (worker: number): Promise<void> => {
      for (let i = 0; !killed; i += 1) {
        try {
          const r = await tryLogin(first.url, `killed-${worker}-${i}`);
          if (r.issued) acknowledged.push(r.issued);
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const streams = [0, 1, 2, 3].map(stream);
    await until('logins before the kill', () => acknowledged.length >= 60);
    first.child.kill('SIGKILL');
    killed = true;
    await first.stop();
    await Promise.all(streams);
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await startService(['--store', store, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    try {
      for (const s of acknowledged) {
        expect(await validates(second.url, s), `session ${s.id} acknowledged before the kill`).toBe(200);
        const trail = await fetch(`${second.url}/v1/audit?sessionId=${encodeURIComponent(s.id)}&type=session.created`, { headers: { 'x-api-key': ADMIN_KEY } });
        expect(((await trail.json()) as { events: unknown[] }).events).toHaveLength(1);
      }
      expect((await tryLogin(second.url, 'after-restart')).status).toBe(201);
    } finally {
      expect(await second.stop()).toBe(0);
    }
    const verified = auditVerify(store);
    expect(verified.out).toMatch(/^audit chain ok: \d+ events/);
    expect(verified.code).toBe(0);
  }, 120_000);
});

describe('the service on SQLite when the disk fills up or turns read-only', () => {
  const mnt = join(dir, 'tmpfs');
  let service: ServiceProcess | null = null;
  let mounted = false;
  beforeAll(() => {
    mkdirSync(mnt, { recursive: true });
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`this test mounts a small tmpfs (as root, like the chattr tests): ${r.stderr}`);
    mounted = true;
  });
  afterAll(async () => {
    await service?.stop();
    if (mounted) spawnSync('umount', [mnt]);
  });

  it('answers logins with 503 store_unavailable, keeps validating, writes again once there is room, and corrupts nothing', async () => {
    const path = join(mnt, 'sessions.db');
    const store = `sqlite:${path}`;
    service = await startService(['--store', store, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    const base = service.url;
    const before: Issued[] = [];
    for (let i = 0; i < 20; i += 1) before.push(await login(base, ADMIN_KEY, `disk-${i}`));

    // Fill the file system to the last block.
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const answered: { status: number; error: string | null }[] = [];
    const acknowledged = [...before];
    // SQLite may still have room inside pages it holds: log in until the disk says no.
    await until('a login refused for want of space', async () => {
      const r = await tryLogin(base, `disk-full-${answered.length}`);
      answered.push(r);
      if (r.issued) acknowledged.push(r.issued);
      return r.status === 503;
    });
    for (let i = 0; i < 5; i += 1) {
      const r = await tryLogin(base, `disk-full-more-${i}`);
      answered.push(r);
      if (r.issued) acknowledged.push(r.issued);
    }
    for (const r of answered) expect([201, 503]).toContain(r.status);
    for (const r of answered.filter((x) => x.status === 503)) expect(r.error).toBe('store_unavailable');
    for (const s of before) expect(await validates(base, s)).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // Room again: the same process writes without a restart.
    rmSync(filler);
    await until('logins after space was freed', async () => {
      const r = await tryLogin(base, 'disk-freed');
      if (r.issued) acknowledged.push(r.issued);
      return r.status === 201;
    });

    await pause(100);
    for (const s of acknowledged) expect(await validates(base, s), `session ${s.id}`).toBe(200);
    expect(await service.stop()).toBe(0);
    service = null;

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    const verified = auditVerify(store);
    expect(verified.out).toMatch(/^audit chain ok/);
    expect(verified.code).toBe(0);
  }, 120_000);

  it('answers logins with 503 store_unavailable while its files are immutable (read-only even to root), and writes again after', async () => {
    const path = join(dir, 'readonly', 'sessions.db');
    const store = `sqlite:${path}`;
    const ro = await startService(['--store', store, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    const locked: string[] = [];
    try {
      const acknowledged: Issued[] = [];
      for (let i = 0; i < 10; i += 1) acknowledged.push(await login(ro.url, ADMIN_KEY, `ro-${i}`));
      for (const file of [path, `${path}-wal`]) {
        expect(spawnSync('chattr', ['+i', file]).status).toBe(0);
        locked.push(file);
      }
      for (let i = 0; i < 3; i += 1) {
        const refused = await tryLogin(ro.url, `ro-refused-${i}`);
        expect(refused.status).toBe(503);
        expect(refused.error).toBe('store_unavailable');
      }
      for (const s of acknowledged) expect(await validates(ro.url, s)).toBe(200);
      for (const file of locked.splice(0)) expect(spawnSync('chattr', ['-i', file]).status).toBe(0);
      await until('logins after the files are writable again', async () => {
        const r = await tryLogin(ro.url, 'ro-writable');
        if (r.issued) acknowledged.push(r.issued);
        return r.status === 201;
      });
      for (const s of acknowledged) expect(await validates(ro.url, s)).toBe(200);
    } finally {
      for (const file of locked) spawnSync('chattr', ['-i', file]);
      expect(await ro.stop()).toBe(0);
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    expect(auditVerify(store).code).toBe(0);
  }, 120_000);
});
