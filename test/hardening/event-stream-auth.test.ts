// Issue 18, medium 3: an open GET /v1/events stream kept delivering after its admin key was
// revoked or after POST /dashboard/logout. A stream now re-checks its credential every
// eventStreamRecheck (ending within that bound), ends at once on a sign-out on this instance,
// and ends after eventStreamMaxLifetime whatever happens.
import { afterEach, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { eventually, listeningService, openStream } from '../audit/helpers.js';

describe('GET /v1/events and the credential that opened it', () => {
  const open: { app: ServiceApp; close: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  async function service(argv: string[] = ['--event-stream-recheck', '100ms']) {
    const store = memoryStore();
    const key = await createApiKey(store, { name: 'ops', scopes: ['admin'] });
    const { app, url } = await listeningService(argv, { store });
    const streams: Awaited<ReturnType<typeof openStream>>[] = [];
    open.push({ app, close: async () => { for (const s of streams) await s.close(); await app.close(); } });
    const stream = async (headers: Record<string, string>) => {
      const s = await openStream(`${url}/v1/events`, headers);
      streams.push(s);
      expect(s.res.status).toBe(200);
      return s;
    };
    const login = async (userId: string) => {
      const res = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'x-api-key': key.key, 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
      expect(res.status).toBe(201);
    };
    return { app, url, store, key, stream, login };
  }

  it('ends a stream opened with an API key once the key is revoked', async () => {
    const { store, key, stream, login } = await service();
    const s = await stream({ 'x-api-key': key.key });
    await login('before-revoke');
    await eventually(() => (s.audit().some((e) => e.userId === 'before-revoke') ? true : undefined), 10_000, 'the first event');
    await revokeApiKey(store, key.id);
    await eventually(() => (s.ended() ? true : undefined), 10_000, 'the stream to end');
    expect(s.events.at(-1)).toMatchObject({ event: 'error', data: '{"error":"token_invalid"}' });
  });

  it('ends a dashboard stream at once when that dashboard signs out, and another sign-in\'s stream goes on', async () => {
    const { url, key, stream, login } = await service(['--event-stream-recheck', '1h']);
    const signIn = async () => {
      const res = await fetch(`${url}/dashboard/login`, { method: 'POST', headers: { 'x-api-key': key.key, 'sec-fetch-site': 'same-origin' } });
      expect(res.status).toBe(200);
      return { cookie: (res.headers.get('set-cookie') as string).split(';')[0] as string, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
    };
    const mine = await signIn();
    const theirs = await signIn();
    const a = await stream({ cookie: mine.cookie });
    const b = await stream({ cookie: theirs.cookie });
    const out = await fetch(`${url}/dashboard/logout`, { method: 'POST', headers: { cookie: mine.cookie, 'x-csrf-token': mine.csrf, 'sec-fetch-site': 'same-origin' } });
    expect(out.status).toBe(204);
    // The recheck is an hour away: only the sign-out itself can have ended it.
    await eventually(() => (a.ended() ? true : undefined), 10_000, 'the signed-out stream to end');
    expect(a.events.at(-1)).toMatchObject({ event: 'error', data: '{"error":"token_invalid"}' });
    await login('after-sign-out');
    await eventually(() => (b.audit().some((e) => e.userId === 'after-sign-out') ? true : undefined), 10_000, 'the other stream to go on');
    expect(b.ended()).toBe(false);
  });

  it('ends a dashboard stream whose sign-in was removed elsewhere (another instance) within the recheck', async () => {
    const { url, store, key, stream } = await service();
    const res = await fetch(`${url}/dashboard/login`, { method: 'POST', headers: { 'x-api-key': key.key, 'sec-fetch-site': 'same-origin' } });
    const cookie = (res.headers.get('set-cookie') as string).split(';')[0] as string;
    const s = await stream({ cookie });
    // What another instance's sign-out does: delete the record in the shared store.
    for (const r of await store.listRecords<{ id: string }>('dashboard-sessions')) await store.deleteRecord('dashboard-sessions', r.id);
    await eventually(() => (s.ended() ? true : undefined), 10_000, 'the stream to end');
    expect(s.events.at(-1)).toMatchObject({ event: 'error', data: '{"error":"token_invalid"}' });
  });

  it('ends every stream after its maximum lifetime with event: end', async () => {
    const { key, stream } = await service(['--event-stream-max-lifetime', '1s', '--event-stream-recheck', '1h']);
    const s = await stream({ 'x-api-key': key.key });
    await eventually(() => (s.ended() ? true : undefined), 10_000, 'the stream to end');
    expect(s.events.at(-1)).toMatchObject({ event: 'end', data: '{"reason":"max_lifetime"}' });
  });
});
