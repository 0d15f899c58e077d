// Revocation of stateless access tokens: the three checkRevocation modes, the staleness bound of
// 'cached' measured on a fake clock, failing closed when the watch stream cannot be trusted, and a
// real second process on a shared SQLite file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import type { SessionStore, StoreChange } from '../../src/stores/types.js';
import { countingStore } from '../../src/testing/index.js';
import { expectCode, setup } from './helpers.js';

/** The same store seen through a watch that delivers nothing (a broken or absent change stream). */
function deaf(inner: SessionStore): SessionStore {
  return { ...inner, watch: () => () => {} };
}

/** The same store with a watch the test controls: heartbeats on demand, events can be muted. */
function heartbeats(inner: SessionStore) {
  const listeners = new Set<(c: StoreChange) => void>();
  const control = { muted: false, beat: () => { for (const l of listeners) l({ type: 'sync', at: 0 } as unknown as StoreChange); } };
  inner.watch((c) => {
    if (!control.muted) for (const l of listeners) l(c);
  });
  const store: SessionStore = { ...inner, watch: (l) => { listeners.add(l); return () => listeners.delete(l); } };
  return { store, control };
}

/** Steps the clock by `step` ms until validation fails; returns how long after `from` it did. */
async function msUntilRejected(validate: () => Promise<unknown>, clock: { now: () => number; advance: (ms: number) => void }, from: number, step = 10): Promise<{ after: number; code: string }> {
  for (let i = 0; i < 10_000; i += 1) {
    try {
      await validate();
    } catch (err) {
      return { after: clock.now() - from, code: (err as { code: string }).code };
    }
    clock.advance(step);
  }
  throw new Error('never rejected');
}

describe("checkRevocation: 'cached'", () => {
  it('honours a revocation within the staleness bound even when the watch says nothing (measured)', async () => {
    for (const [staleness, bound] of [[undefined, 1000], ['250ms', 250]] as const) {
      const shared = memoryStore();
      const a = setup({ store: shared });
      const counted = countingStore(deaf(shared));
      const b = setup({ store: counted, revocationStaleness: staleness });
      b.clock.set(a.clock.now());
      const issued = await a.sessions.create({ userId: 'u', tokenType: 'jwt' });
      await b.sessions.validate(issued.accessToken);
      const confirmedAt = b.clock.now();
      const reads = counted.calls.get ?? 0;
      // Inside the bound, validations cost no store read.
      for (let i = 0; i < 5; i += 1) {
        b.clock.advance(bound / 10);
        a.clock.set(b.clock.now());
        await b.sessions.validate(issued.accessToken);
      }
      expect(counted.calls.get ?? 0).toBe(reads);
      await a.sessions.revoke(issued.session.id, { reason: 'logout' });
      const revokedAt = a.clock.now();
      const { after, code } = await msUntilRejected(() => b.sessions.validate(issued.accessToken), b.clock, revokedAt);
      expect(code).toBe('session_revoked');
      // The measured staleness: noticed at the first validation (10 ms steps) once the bound ran out.
      expect(after).toBeLessThanOrEqual(bound);
      expect(revokedAt + after - (confirmedAt + bound)).toBeGreaterThanOrEqual(0);
      expect(revokedAt + after - (confirmedAt + bound)).toBeLessThan(10);
    }
  });

  it('fails closed at start-up: a manager that has seen no events looks the session up', async () => {
    const shared = memoryStore();
    const a = setup({ store: shared });
    const issued = await a.sessions.create({ userId: 'u', tokenType: 'jwt' });
    await a.sessions.revokeAllForUser('u');
    const b = setup({ store: deaf(shared) });
    b.clock.set(a.clock.now());
    await expectCode(b.sessions.validate(issued.accessToken), 'session_revoked');
  });

  it('fails closed when the store cannot answer once the lease has run out', async () => {
    const { sessions, clock, store } = setup();
    const issued = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    clock.advance(2000);
    await sessions.validate(issued.accessToken);
    await store.close();
    clock.advance(999);
    await sessions.validate(issued.accessToken);
    clock.advance(1);
    await expectCode(sessions.validate(issued.accessToken), 'store_unavailable');
  });

  it('reads nothing while heartbeats prove the stream healthy, and looks up again after a gap', async () => {
    const shared = memoryStore();
    const a = setup({ store: shared });
    const { store: watched, control } = heartbeats(shared);
    const counted = countingStore(watched);
    const b = setup({ store: counted });
    const sync = (ms: number) => {
      b.clock.advance(ms);
      a.clock.set(b.clock.now());
    };
    control.beat();
    const one = await a.sessions.create({ userId: 'u', tokenType: 'jwt' });
    const two = await a.sessions.create({ userId: 'v', tokenType: 'jwt' });
    await b.sessions.validate(one.accessToken);
    await b.sessions.validate(two.accessToken);
    const reads = counted.calls.get ?? 0;
    for (let i = 0; i < 50; i += 1) {
      sync(100);
      if (i % 5 === 0) control.beat();
      await b.sessions.validate(one.accessToken);
    }
    expect(counted.calls.get ?? 0).toBe(reads);
    // Revocations arrive through the stream at once.
    await a.sessions.revoke(two.session.id);
    await expectCode(b.sessions.validate(two.accessToken), 'session_revoked');
    // The stream goes quiet and misses a revocation: caught within the bound by a lookup.
    control.muted = true;
    await a.sessions.revoke(one.session.id);
    const { after, code } = await msUntilRejected(() => b.sessions.validate(one.accessToken), b.clock, b.clock.now());
    expect(code).toBe('session_revoked');
    expect(after).toBeLessThanOrEqual(1000);
    // After the gap, heartbeats alone do not vouch for sessions confirmed before it.
    const three = await a.sessions.create({ userId: 'w', tokenType: 'jwt' });
    await b.sessions.validate(three.accessToken);
    sync(1500);
    control.muted = false;
    control.beat();
    const before = counted.calls.get ?? 0;
    await b.sessions.validate(three.accessToken);
    expect(counted.calls.get).toBe(before + 1);
    sync(300);
    control.beat();
    await b.sessions.validate(three.accessToken);
    expect(counted.calls.get).toBe(before + 1);
  });

  it('makes access tokens fail after a refresh-token theft is detected', async () => {
    const { sessions, clock } = setup({ refreshGrace: 0 });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const next = await sessions.refresh(first.refreshToken);
    await sessions.validate(next.accessToken);
    clock.advance(1);
    await expectCode(sessions.refresh(first.refreshToken), 'refresh_reused');
    await expectCode(sessions.validate(next.accessToken), 'session_revoked');
    await expectCode(sessions.validate(first.accessToken), 'session_revoked');
  });
});

describe("checkRevocation: 'always' and 'never'", () => {
  it("'always' reads the store on every validation and sees a revocation at once", async () => {
    const shared = memoryStore();
    const counted = countingStore(deaf(shared));
    const a = setup({ store: shared });
    const b = setup({ store: counted, checkRevocation: 'always' });
    const issued = await a.sessions.create({ userId: 'u', tokenType: 'jwt' });
    for (let i = 0; i < 3; i += 1) await b.sessions.validate(issued.accessToken);
    expect(counted.calls.get).toBe(3);
    await a.sessions.revoke(issued.session.id, { reason: 'admin' });
    const err = await expectCode(b.sessions.validate(issued.accessToken), 'session_revoked');
    expect(err.details.reason).toBe('admin');
  });

  it("'never' reads nothing, so a revoked session's access token works until exp (the documented risk)", async () => {
    const counted = countingStore(memoryStore());
    const { sessions, clock } = setup({ store: counted, checkRevocation: 'never' });
    const issued = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const reads = counted.calls.get ?? 0;
    await sessions.revoke(issued.session.id);
    await sessions.validate(issued.accessToken);
    expect(counted.calls.get).toBe(reads + 1); // the revoke's own read, none for validation
    clock.set(issued.accessTokenExpiresAt.getTime() + 5000);
    await expectCode(sessions.validate(issued.accessToken), 'session_expired');
    await expectCode(sessions.refresh(issued.refreshToken), 'session_revoked');
  });
});

describe('a second process on a shared SQLite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-jwt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects access tokens after logout and logout-all made in this process, and follows key rotations', async () => {
    const path = join(dir, 'shared.db');
    const store = sqliteStore({ path });
    const sessions = createSessionManager({
      store, secret: 'jwt-cross-process-secret-0123456789abcdef', masterKey: Buffer.alloc(32, 5),
      jwt: { issuer: 'https://auth.example.test', audience: 'https://api.example.test' },
    });
    // A real second Node process running the TypeScript sources (the SQLite tests' loader hook).
    const child = spawn(process.execPath, ['--import', './test/stores/helpers/register-ts.mjs', 'test/jwt/worker.ts', path], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w(m);
      else lines.push(m);
    });
    const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
      const m = lines.shift();
      if (m) resolve(m);
      else {
        waiters.push(resolve);
        child.once('exit', () => reject(new Error(`worker exited: ${stderr}`)));
      }
    });
    const ask = async (command: object) => {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      return next();
    };
    try {
      expect(await next()).toEqual({ ready: true });
      const one = await sessions.create({ userId: 'alice', tokenType: 'jwt' });
      const two = await sessions.create({ userId: 'alice', tokenType: 'jwt' });
      expect(await ask({ validate: one.accessToken })).toEqual({ code: 'ok' });
      expect(await ask({ validate: two.accessToken })).toEqual({ code: 'ok' });

      const waiting = ask({ untilRejected: one.accessToken });
      await sessions.revoke(one.session.id, { reason: 'logout' });
      const revokedAt = Date.now();
      const seen = await waiting;
      expect(seen.code).toBe('session_revoked');
      console.log(`second process saw the logout ${Number(seen.at) - revokedAt} ms after it (bound: 1000 ms + one 10 ms validation interval)`);

      const waitingAll = ask({ untilRejected: two.accessToken });
      await sessions.revokeAllForUser('alice');
      const seenAll = await waitingAll;
      expect(seenAll.code).toBe('session_revoked');

      const three = await sessions.create({ userId: 'bob', tokenType: 'jwt' });
      await sessions.keys.rotate();
      const rotated = await sessions.refresh(three.refreshToken);
      expect(await ask({ validate: rotated.accessToken })).toEqual({ code: 'ok' });
      expect(await ask({ validate: three.accessToken })).toEqual({ code: 'ok' });
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
      await sessions.close();
    }
  });
});
