// Tamper evidence through the real CLI (`node dist/cli/index.js audit verify` on a SQLite store):
// an edited row, an edited row whose own hash the attacker recomputed, and a deleted row are each
// reported at the first broken link. (test/cli/audit.test.ts covers the plain edit of a CLI-made
// trail; here the trail is written by the service and the attacker knows the hash function.)
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../src/audit/chain.js';
import type { StoredAuditEvent } from '../../src/core/types.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { auditFromRow, type AuditRow } from '../../src/stores/sqlite/rows.js';
import { cli, ensureBuilt, tempDir } from '../cli/helpers.js';
import { ADMIN_KEY, listeningService } from './helpers.js';

describe('audit verify finds tampering in a SQLite trail written by the service', () => {
  const tmp = tempDir();
  const fresh = async (name: string): Promise<string> => {
    const path = join(tmp.dir, `${name}.db`);
    const { app, url } = await listeningService([], { store: sqliteStore({ path }) });
    const admin = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
    for (const userId of ['alice', 'bob', 'carol']) {
      const res = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: admin, body: JSON.stringify({ userId }) });
      const { session } = await res.json() as { session: { id: string } };
      await fetch(`${url}/v1/sessions/${session.id}`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    }
    await app.close();
    return path;
  };
  const verify = (path: string) => cli(['audit', 'verify', '--json'], { SESSIONKIT_STORE: `sqlite:${path}` });
  const rowOf = (db: Database.Database, seq: number): StoredAuditEvent => auditFromRow(db.prepare('SELECT * FROM audit WHERE seq = ?').get(seq) as AuditRow);

  beforeAll(() => ensureBuilt());
  afterAll(() => tmp.cleanup());

  it('passes an untouched trail and fails at an edited row', async () => {
    const path = await fresh('edit');
    expect(JSON.parse((await verify(path)).stdout)).toEqual({ ok: true, checked: 6, firstSeq: 1, keyed: false, sealedThrough: null, unsealed: 0 });
    const db = new Database(path);
    db.prepare("UPDATE audit SET reason = 'logout' WHERE seq = 4").run();
    db.close();
    const r = await verify(path);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, brokenAt: 4, checked: 3, reason: 'event content does not match its hash' });
  });

  it('fails at the next row when the attacker also recomputes the edited row’s hash', async () => {
    const path = await fresh('rehash');
    const db = new Database(path);
    const e = rowOf(db, 3);
    const edited = { ...e, userId: 'mallory' };
    db.prepare('UPDATE audit SET user_id = ?, hash = ? WHERE seq = 3').run('mallory', chainHash(e.prevHash, 3, edited));
    db.close();
    const r = await verify(path);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, brokenAt: 4, checked: 3, reason: 'prevHash does not match the previous event' });
  });

  it('reports a deleted row as missing events', async () => {
    const path = await fresh('delete');
    const db = new Database(path);
    db.prepare('DELETE FROM audit WHERE seq = 2').run();
    db.close();
    const r = await verify(path);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, brokenAt: 3 });
    const text = await cli(['audit', 'verify'], { SESSIONKIT_STORE: `sqlite:${path}` });
    expect(text.stdout).toMatch(/^audit chain BROKEN at event #3: /);
  });
});

describe('audit verify with keyed checkpoints finds a deleted event whose tail was re-hashed (issue 18 Low 4)', () => {
  const tmp = tempDir();
  const masterKey = randomBytes(32).toString('base64');
  /** A trail of 6 events written by a service that holds the master key: it seals the chain as it closes. */
  const fresh = async (name: string): Promise<string> => {
    const path = join(tmp.dir, `${name}.db`);
    const { app, url } = await listeningService(['--master-key', masterKey], { store: sqliteStore({ path }) });
    const admin = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
    for (const userId of ['alice', 'bob', 'carol']) {
      const res = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: admin, body: JSON.stringify({ userId }) });
      const { session } = await res.json() as { session: { id: string } };
      await fetch(`${url}/v1/sessions/${session.id}`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } });
    }
    await app.close();
    return path;
  };
  const verify = (path: string, args: string[] = [], withKey = true) => cli(['audit', 'verify', '--json', ...args], {
    SESSIONKIT_STORE: `sqlite:${path}`, ...(withKey ? { SESSIONKIT_MASTER_KEY: masterKey } : {}),
  });
  /** The attack: delete one event, renumber and re-hash everything after it with the (public) unkeyed algorithm. */
  const deleteAndRehash = (path: string, seq: number): void => {
    const db = new Database(path);
    db.transaction(() => {
      const rows = (db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[]).map(auditFromRow);
      db.prepare('DELETE FROM audit').run();
      let prevHash = '0'.repeat(64);
      let next = 1;
      for (const e of rows.filter((r) => r.seq !== seq)) {
        const hash = chainHash(prevHash, next, e);
        db.prepare(`INSERT INTO audit (seq, type, at, session_id, user_id, ip, user_agent, reason, detail, actor, request_id, token_fingerprint, prev_hash, hash)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(next, e.type, e.at, e.sessionId, e.userId, e.ip, e.userAgent, e.reason,
          e.detail === null ? null : JSON.stringify(e.detail), e.actor, e.requestId, e.tokenFingerprint, prevHash, hash);
        prevHash = hash;
        next += 1;
      }
    })();
    db.close();
  };

  beforeAll(() => ensureBuilt());
  afterAll(() => tmp.cleanup());

  it('passes an untouched trail, sealed through its last event', async () => {
    const path = await fresh('sealed');
    const r = await verify(path);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, checked: 6, firstSeq: 1, keyed: true, sealedThrough: 6, unsealed: 0 });
  });

  it('fails when an event was deleted and the tail re-hashed, which the unkeyed chain alone cannot see', async () => {
    const path = await fresh('delete-rehash');
    deleteAndRehash(path, 3);
    // Without the key, only the unkeyed chain is checked, and the forgery holds: this is the finding.
    expect(JSON.parse((await verify(path, [], false)).stdout)).toMatchObject({ ok: true, checked: 5, keyed: false });
    const r = await verify(path);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, brokenAt: 6, reason: expect.stringMatching(/trail ends at #5: events were deleted/) });
  });

  it('fails when the attacker also appends a forged event to restore the sealed seq', async () => {
    const path = await fresh('delete-pad');
    deleteAndRehash(path, 2);
    const db = new Database(path);
    const last = auditFromRow(db.prepare('SELECT * FROM audit WHERE seq = 5').get() as AuditRow);
    const forged = { ...last, seq: 6, userId: 'mallory' };
    db.prepare(`INSERT INTO audit (seq, type, at, session_id, user_id, ip, user_agent, reason, detail, actor, request_id, token_fingerprint, prev_hash, hash)
      VALUES (6, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`).run(forged.type, forged.at, forged.sessionId, forged.userId, forged.ip, forged.userAgent, forged.reason,
      forged.actor, forged.requestId, forged.tokenFingerprint, last.hash, chainHash(last.hash, 6, forged));
    db.close();
    const r = await verify(path);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, brokenAt: 6, reason: expect.stringMatching(/does not match the checkpoint/) });
  });

  it('fails at a forged checkpoint, and at removed checkpoints given one exported earlier or a zero unsealed allowance', async () => {
    const path = await fresh('checkpoints');
    const sealed = await cli(['audit', 'seal'], { SESSIONKIT_STORE: `sqlite:${path}`, SESSIONKIT_MASTER_KEY: masterKey });
    expect(sealed.code).toBe(0);
    const exported = sealed.stdout.trim();
    expect(exported).toMatch(/^6:\d+:[0-9a-f]{64}$/);

    const db = new Database(path);
    const row = db.prepare("SELECT id, value FROM records WHERE kind = 'audit-checkpoint'").get() as { id: string; value: string };
    db.prepare("UPDATE records SET value = ? WHERE kind = 'audit-checkpoint' AND id = ?").run(JSON.stringify({ ...JSON.parse(row.value), seq: 5 }), row.id);
    expect(JSON.parse((await verify(path)).stdout)).toMatchObject({ ok: false, reason: expect.stringMatching(/forged or altered/) });

    db.prepare("DELETE FROM records WHERE kind = 'audit-checkpoint'").run();
    db.close();
    deleteAndRehash(path, 4);
    const withExport = await verify(path, ['--expect-checkpoint', exported]);
    expect(withExport.code).toBe(1);
    expect(JSON.parse(withExport.stdout)).toMatchObject({ ok: false, brokenAt: 6, reason: expect.stringMatching(/exported checkpoint #6 is not in the store/) });
    const strict = await verify(path, ['--max-unsealed', '0s']);
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ ok: false, brokenAt: 1, reason: expect.stringMatching(/not sealed by any checkpoint/) });
  });
});
