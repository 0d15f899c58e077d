// GET /v1/events: the audit trail as Server-Sent Events, on a real socket (inject cannot stream).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/server/api-keys.js';
import type { ServiceApp } from '../../src/server/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { ADMIN_KEY, eventually, listeningService, openStream } from './helpers.js';

describe('GET /v1/events', () => {
  let app: ServiceApp;
  let url: string;
  let sessionsKey: string;
  const admin = { 'x-api-key': ADMIN_KEY };
  const streams: Awaited<ReturnType<typeof openStream>>[] = [];
  const stream = async (path: string, headers: Record<string, string> = admin) => {
    const s = await openStream(`${url}${path}`, headers);
    streams.push(s);
    return s;
  };
  const create = async (userId: string) => {
    const res = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
    expect(res.status).toBe(201);
    return (await res.json()) as { session: { id: string }; token: string };
  };

  beforeAll(async () => {
    const store = memoryStore();
    sessionsKey = (await createApiKey(store, { name: 'app', scopes: ['sessions'] })).key;
    ({ app, url } = await listeningService([], { store }));
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await app.close();
  });

  it('refuses a caller without an admin API key or dashboard cookie', async () => {
    const none = await fetch(`${url}/v1/events`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'token_missing' });
    const weak = await fetch(`${url}/v1/events`, { headers: { 'x-api-key': sessionsKey } });
    expect(weak.status).toBe(403);
    expect(await weak.json()).toMatchObject({ error: 'insufficient_scope' });
    const bad = await fetch(`${url}/v1/events`, { headers: { ...admin, 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
  });

  it('streams the events written after it opened, each as id + one line of JSON', async () => {
    await create('before-stream');
    const live = await stream('/v1/events');
    expect(live.res.status).toBe(200);
    expect(live.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(live.res.headers.get('cache-control')).toBe('no-store');
    const forged = 'eve\r\ndata: {"type":"session.revoked"}\r\n\r\nid: 999';
    const { session } = await create(forged);
    const events = await eventually(() => (live.audit().some((e) => e.userId === forged) ? live.audit() : undefined), 5000, 'the live event');
    expect(events.map((e) => e.userId)).not.toContain('before-stream');
    const created = events.find((e) => e.userId === forged)!;
    expect(created).toMatchObject({ type: 'session.created', sessionId: session.id, userId: forged });
    expect(live.events.find((e) => e.data.includes('eve'))!.id).toBe(String(created.seq));
    // The user id's line breaks arrive escaped inside the JSON: no forged SSE field or event.
    expect(live.raw()).not.toContain('\r');
    expect(live.raw()).not.toMatch(/^data: \{"type":"session.revoked"\}$/m);
    expect(live.raw()).not.toMatch(/^id: 999$/m);
  });

  it('resumes after Last-Event-ID with the missed events first, in order, then live ones', async () => {
    const first = await create('resume-1');
    const a = await stream('/v1/events?userId=resume-1');
    await eventually(() => (a.res.status === 200 ? true : undefined));
    const { seq } = await eventually(async () => {
      const page = await (await fetch(`${url}/v1/audit?userId=resume-1`, { headers: admin })).json() as { events: { seq: number }[] };
      return page.events[0];
    });
    await a.close();
    // Missed while disconnected: two more events of the user.
    await create('resume-1');
    await fetch(`${url}/dashboard/api/sessions/${first.session.id}`, { method: 'DELETE', headers: admin });
    const b = await stream('/v1/events?userId=resume-1', { ...admin, 'last-event-id': String(seq) });
    const missed = await eventually(() => (b.audit().length >= 2 ? b.audit() : undefined), 5000, 'the missed events');
    expect(missed.map((e) => e.type)).toEqual(['session.created', 'session.revoked']);
    expect(missed[0]!.seq).toBeGreaterThan(seq);
    expect(missed[1]!.seq).toBeGreaterThan(missed[0]!.seq);
    await create('resume-1');
    const all = await eventually(() => (b.audit().length >= 3 ? b.audit() : undefined), 5000, 'the live event after the replay');
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((x, y) => x - y));
    // The query form of the cursor, for clients that cannot set headers.
    const c = await stream(`/v1/events?userId=resume-1&lastEventId=${seq}`);
    await eventually(() => (c.audit().length >= 3 ? true : undefined), 5000, 'the replay by query');
    expect(c.audit().map((e) => e.seq)).toEqual(all.map((e) => e.seq));
  });

  it('filters by type and session', async () => {
    const s = await stream('/v1/events?type=session.revoked');
    const { session } = await create('filtered');
    await fetch(`${url}/dashboard/api/sessions/${session.id}`, { method: 'DELETE', headers: admin });
    const got = await eventually(() => (s.audit().length >= 1 ? s.audit() : undefined), 5000, 'the revoked event');
    expect(got.every((e) => e.type === 'session.revoked')).toBe(true);
    expect(got.some((e) => e.sessionId === session.id)).toBe(true);
  });

  it('ends open streams when the service closes, so closing never hangs', async () => {
    const { app: other, url: otherUrl } = await listeningService();
    const s = await openStream(`${otherUrl}/v1/events`, admin);
    expect(s.res.status).toBe(200);
    await other.close();
    await s.done;
    expect(s.ended()).toBe(true);
  });

  it('delivers events written by another process on the same store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-events-'));
    const path = join(dir, 'shared.db');
    const { app: service, url: serviceUrl } = await listeningService([], { store: sqliteStore({ path }) });
    const other = createSessionManager({ store: sqliteStore({ path }) });
    try {
      const s = await openStream(`${serviceUrl}/v1/events`, admin);
      // The headers come only after the stream's cursor is set: what is written now must arrive.
      expect(s.res.status).toBe(200);
      const { session } = await other.create({ userId: 'from-the-cli' });
      const got = await eventually(() => s.audit().find((e) => e.sessionId === session.id), 5000, 'the other process\'s event');
      expect(got).toMatchObject({ type: 'session.created', userId: 'from-the-cli' });
      await s.close();
    } finally {
      await other.close();
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
