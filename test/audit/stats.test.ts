// GET /v1/stats on a fake clock: per-minute counts over the last hour, active sessions and their
// devices, seeded from the trail that existed before the first call and kept current afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { auditFeed } from '../../src/server/dashboard/feed.js';
import { dashboardStats } from '../../src/server/dashboard/stats.js';
import type { ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { ADMIN_KEY, eventually, listeningService } from './helpers.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const START = Date.parse('2030-06-01T12:00:10Z');
const admin = { 'x-api-key': ADMIN_KEY };

interface Stats {
  activeSessions: number;
  complete: boolean;
  lastSeq: number;
  perMinute: { start: string; minutes: number; series: Record<string, number[]> };
  devices: { type: Record<string, number>; browser: Record<string, number>; os: Record<string, number> };
  signingKeys: { kid: string; state: string }[];
}

describe('GET /v1/stats', () => {
  const apps: ServiceApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  async function service(store = memoryStore(), clock = { now: START }) {
    const { app, url } = await listeningService([], { store, now: () => clock.now });
    apps.push(app);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method, headers: { ...admin, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, unknown> };
    };
    const stats = async () => (await call('GET', '/v1/stats')).body as unknown as Stats;
    return { app, url, call, stats, clock };
  }

  it('needs an admin API key', async () => {
    const { url } = await service();
    expect((await fetch(`${url}/v1/stats`)).status).toBe(401);
    expect((await fetch(`${url}/v1/stats`, { headers: { 'x-api-key': 'ska_nope' } })).status).toBe(401);
  });

  it('counts events per minute, active sessions and their devices, and follows new events', async () => {
    const { call, stats, clock } = await service();
    const a = await call('POST', '/v1/sessions', { userId: 'u1', device: { userAgent: FIREFOX } });
    await call('POST', '/v1/sessions', { userId: 'u2', device: { userAgent: IPHONE } });
    clock.now += 60_000;
    const c = await call('POST', '/v1/sessions', { userId: 'u3', device: { userAgent: IPHONE } });
    await call('DELETE', `/v1/sessions/${(a.body.session as { id: string }).id}`);
    clock.now += 120_000;
    await call('POST', '/v1/sessions/validate', { token: 'sk_' + 'A'.repeat(43) + '.' + 'B'.repeat(43) });
    await call('POST', '/v1/sessions/current/renew');

    const first = await stats();
    expect(first.complete).toBe(true);
    expect(first.activeSessions).toBe(2);
    expect(first.devices.type).toEqual({ mobile: 2 });
    expect(first.devices.browser).toEqual({ Safari: 2 });
    expect(first.devices.os).toEqual({ iOS: 2 });
    const { series, minutes, start } = first.perMinute;
    expect(minutes).toBe(60);
    // The last slot is the current minute; the sessions were created 3 and 2 minutes before it... and so on.
    const slot = (t: number) => Math.floor(t / 60_000) - Math.floor(Date.parse(start) / 60_000);
    expect(series.created![slot(START)]).toBe(2);
    expect(series.created![slot(START + 60_000)]).toBe(1);
    expect(series.revoked![slot(START + 60_000)]).toBe(1);
    expect(series.rejected![slot(clock.now)]).toBe(1);
    expect(slot(clock.now)).toBe(59);
    expect(series.created!.reduce((x, y) => x + y)).toBe(3);
    expect(first.signingKeys).toEqual([]);

    // New events arrive through the feed, without a second read of the trail.
    await call('DELETE', `/v1/sessions/${(c.body.session as { id: string }).id}`);
    await call('POST', '/v1/sessions', { userId: 'u4', device: { userAgent: FIREFOX } });
    const later = await eventually(async () => {
      const s = await stats();
      return s.lastSeq >= first.lastSeq + 2 ? s : undefined;
    }, 5000, 'the stats to see the new events');
    expect(later.activeSessions).toBe(2);
    expect(later.devices.browser).toEqual({ Safari: 1, Firefox: 1 });
    expect(later.perMinute.series.created!.reduce((x, y) => x + y)).toBe(4);
    expect(later.perMinute.series.revoked!.reduce((x, y) => x + y)).toBe(2);

    // An hour on, the charts are empty; sessions past their absolute lifetime (8 h) are no longer live.
    clock.now += 3600_000;
    const hourLater = await stats();
    expect(hourLater.perMinute.series.created!.reduce((x, y) => x + y)).toBe(0);
    expect(hourLater.activeSessions).toBe(2);
    clock.now += 8 * 3600_000;
    expect((await stats()).activeSessions).toBe(0);

    // The signing keys, with their state.
    const { kid } = (await call('POST', '/v1/keys/rotate')).body as { kid: string };
    const second = ((await call('POST', '/v1/keys/rotate')).body as { kid: string }).kid;
    expect((await stats()).signingKeys.find((k) => k.kid === second)).toMatchObject({ state: 'pending' });
    clock.now += 120_000; // past keyPropagation (default 2m): the newest key signs
    const keys = (await stats()).signingKeys;
    expect(keys.find((k) => k.kid === second)).toMatchObject({ state: 'active' });
    expect(keys.find((k) => k.kid === kid)).toMatchObject({ state: 'verify-only' });
  });

  it('seeds from a trail written before it started (another process), and never counts an event twice', async () => {
    const store = memoryStore();
    const clock = { now: START };
    // Written by "another process" on the same store before the service starts.
    const other = createSessionManager({ store, now: () => clock.now });
    const s1 = await other.create({ userId: 'old-1', device: { userAgent: FIREFOX } });
    await other.create({ userId: 'old-2', device: { userAgent: IPHONE } });
    await other.revoke(s1.session.id);
    clock.now += 30_000;
    const { stats, call } = await service(store, clock);
    const seeded = await stats();
    expect(seeded.activeSessions).toBe(1);
    expect(seeded.perMinute.series.created!.reduce((x, y) => x + y)).toBe(2);
    expect(seeded.perMinute.series.revoked!.reduce((x, y) => x + y)).toBe(1);
    await other.create({ userId: 'old-3', device: { userAgent: IPHONE } });
    await call('POST', '/v1/sessions', { userId: 'new-1' });
    const after = await eventually(async () => {
      const s = await stats();
      return s.lastSeq >= seeded.lastSeq + 2 ? s : undefined;
    }, 5000, 'the stats to see the new events');
    expect(after.activeSessions).toBe(3);
    expect(after.perMinute.series.created!.reduce((x, y) => x + y)).toBe(4);
    expect(after.devices.type).toEqual({ mobile: 2, unknown: 1 });
  });

  it('says the numbers are incomplete when the trail was pruned inside the session lifetime', async () => {
    const store = memoryStore({ auditLimit: 3 });
    const clock = { now: START };
    const other = createSessionManager({ store, now: () => clock.now });
    for (let i = 0; i < 5; i += 1) await other.create({ userId: `p${i}` });
    const { stats } = await service(store, clock);
    const s = await stats();
    expect(s.complete).toBe(false);
    expect(s.activeSessions).toBe(3);
  });

  it('tracks at most maxTracked live sessions and then says the count is a floor', async () => {
    const store = memoryStore();
    const sessions = createSessionManager({ store });
    for (let i = 0; i < 3; i += 1) await sessions.create({ userId: `m${i}` });
    const feed = auditFeed(store);
    const stats = dashboardStats({ store, feed, now: Date.now, lifetime: 3600_000, maxTracked: 2 });
    const s = await stats.snapshot();
    expect(s).toMatchObject({ activeSessions: 2, complete: false });
    stats.close();
    feed.close();
  });
});
