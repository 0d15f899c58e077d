// Tamper evidence through the real CLI (`node dist/cli/index.js audit verify` on a SQLite store):
// an edited row, an edited row whose own hash the attacker recomputed, and a deleted row are each
// reported at the first broken link. (test/cli/audit.test.ts covers the plain edit of a CLI-made
// trail; here the trail is written by the service and the attacker knows the hash function.)
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
    expect(JSON.parse((await verify(path)).stdout)).toEqual({ ok: true, checked: 6, firstSeq: 1 });
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
