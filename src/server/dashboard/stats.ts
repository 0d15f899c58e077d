/**
 * The numbers the dashboard shows, kept up to date from the audit trail instead of by scanning
 * sessions (no store can count its live sessions cheaply: Redis has no global index at all).
 *
 * - Per-minute counts of the last hour: seeded once by reading the trail newest first
 *   (`queryAudit({ before })`, seq order, an index on every store) until an hour back or a cap,
 *   then updated from the feed.
 * - Active sessions and their devices: the sessions created within the longest absolute timeout
 *   that no later event ended, each looked up once (`store.get`, one read) for its device and
 *   expiry. A session whose idle expiry passed is looked up again (a touch may have moved it).
 *   `complete` is false when the trail did not reach back far enough (pruned, or over the cap),
 *   or when more sessions are live than the model tracks (`maxTracked`).
 */
import type { StoredAuditEvent, StoredSession } from '../../core/types.js';
import { isLive, type SessionStore } from '../../stores/types.js';
import type { AuditFeed } from './feed.js';

const MINUTE = 60_000;
export const CHART_MINUTES = 60;
/** The series of the charts, and the event types each counts. */
export const SERIES = {
  created: ['session.created'],
  renewed: ['session.renewed', 'session.refreshed'],
  revoked: ['session.revoked'],
  rejected: ['session.rejected'],
  expired: ['session.expired'],
} as const;
export type SeriesName = keyof typeof SERIES;

const SERIES_OF = new Map<string, SeriesName>(
  (Object.entries(SERIES) as [SeriesName, readonly string[]][]).flatMap(([name, types]) => types.map((t) => [t, name] as [string, SeriesName])),
);
const ENDS_SESSION = new Set(['session.revoked', 'session.expired', 'session.refresh_reuse_detected']);

interface LiveEntry {
  userId: string;
  type: string;
  browser: string;
  os: string;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
}

export interface StatsOptions {
  store: SessionStore;
  feed: AuditFeed;
  now: () => number;
  /** How far back sessions can still be live: the longest absolute timeout. */
  lifetime: number;
  /** Most events read to seed the numbers. Default 100,000. */
  maxSeedEvents?: number;
  /** Parallel `store.get` calls while looking sessions up. Default 8. */
  lookupConcurrency?: number;
  /** Most live sessions tracked (memory bound); beyond it the count is a floor and `complete` false. Default 200,000. */
  maxTracked?: number;
  /** The stats keep the feed running this long after they were last asked for. Default 2 min. */
  keepAlive?: number;
}

export interface DashboardStats {
  at: string;
  activeSessions: number;
  /** False when the trail did not reach back over the whole lifetime (pruned or over the cap). */
  complete: boolean;
  perMinute: { start: string; minutes: number; series: Record<SeriesName, number[]> };
  devices: { type: Record<string, number>; browser: Record<string, number>; os: Record<string, number> };
  lastSeq: number;
}

/**
 * Builds the stats model over the feed. `snapshot()` seeds it on first use (bounded reads) and
 * answers from memory afterwards.
 *
 * @example
 * const stats = dashboardStats({ store, feed, now: Date.now, lifetime: 8 * 3600_000 });
 * reply.send(await stats.snapshot());
 */
export function dashboardStats(options: StatsOptions) {
  const { store, feed, now } = options;
  const maxSeed = options.maxSeedEvents ?? 100_000;
  const concurrency = options.lookupConcurrency ?? 8;
  const keepAlive = options.keepAlive ?? 2 * MINUTE;
  const maxTracked = options.maxTracked ?? 200_000;
  let overflow = false;
  /** minute (epoch ms / 60000) -> counts per series. */
  const buckets = new Map<number, Record<SeriesName, number>>();
  const live = new Map<string, LiveEntry>();
  /** Sessions ended by an event, so a lookup that raced with the end never re-adds them. */
  const ended = new Set<string>();
  const pending = new Set<string>();
  let queue: string[] = [];
  let lookups = 0;
  let seeded: Promise<void> | null = null;
  let complete = true;
  let lastAsked = 0;
  let unsubscribe: (() => void) | null = null;
  let idleTimer: NodeJS.Timeout | null = null;

  function count(e: StoredAuditEvent): void {
    const series = SERIES_OF.get(e.type);
    if (!series) return;
    const minute = Math.floor(e.at / MINUTE);
    if (minute <= Math.floor(now() / MINUTE) - CHART_MINUTES) return;
    let bucket = buckets.get(minute);
    if (!bucket) buckets.set(minute, (bucket = { created: 0, renewed: 0, revoked: 0, rejected: 0, expired: 0 }));
    bucket[series] += 1;
  }

  function track(e: StoredAuditEvent): void {
    if (e.sessionId === null) return;
    if (e.type === 'session.created' && !ended.has(e.sessionId)) lookUp(e.sessionId);
    else if (ENDS_SESSION.has(e.type)) {
      live.delete(e.sessionId);
      ended.add(e.sessionId);
      if (ended.size > 100_000) ended.clear();
    }
  }

  function apply(events: StoredAuditEvent[]): void {
    for (const e of events) {
      count(e);
      track(e);
    }
  }

  function lookUp(id: string): void {
    if (pending.has(id)) return;
    pending.add(id);
    queue.push(id);
    drain();
  }

  function drain(): void {
    while (lookups < concurrency && queue.length > 0) {
      const id = queue.shift() as string;
      lookups += 1;
      store.get(id).then((record) => remember(id, record), () => {
        // The store blipped: leave the session out; the next idle re-check or event corrects it.
      }).finally(() => {
        lookups -= 1;
        pending.delete(id);
        drain();
      });
    }
  }

  function remember(id: string, record: StoredSession | null): void {
    if (!record || ended.has(id) || !isLive(record, now())) {
      live.delete(id);
      return;
    }
    if (!live.has(id) && live.size >= maxTracked) {
      overflow = true;
      return;
    }
    live.set(id, {
      userId: record.userId, type: record.device.type || 'unknown', browser: record.device.browser ?? 'unknown',
      os: record.device.os ?? 'unknown', idleExpiresAt: record.idleExpiresAt, absoluteExpiresAt: record.absoluteExpiresAt,
    });
  }

  /**
   * Reads the trail newest first from `top` down until the lifetime is covered (or the cap), and
   * applies it oldest first. Events after `top` come from the feed, so none is counted twice.
   */
  async function seed(top: number): Promise<void> {
    const since = now() - options.lifetime;
    const collected: StoredAuditEvent[] = [];
    let before = top + 1;
    let reachedBack = false;
    for (;;) {
      const want = Math.min(1000, maxSeed - collected.length);
      if (want <= 0) break;
      const page = await store.queryAudit({ before, limit: want });
      for (const e of page) {
        if (e.at < since) {
          reachedBack = true;
          break;
        }
        collected.push(e);
      }
      if (reachedBack) break;
      const last = page[page.length - 1];
      if (!last || page.length < want) {
        // The start of the trail: complete only if nothing before it was pruned.
        reachedBack = (last?.seq ?? before) <= 1;
        break;
      }
      before = last.seq;
    }
    complete = reachedBack;
    apply(collected.reverse());
  }

  function watch(): void {
    lastAsked = now();
    if (!unsubscribe) {
      unsubscribe = feed.subscribe((events) => {
        // Events the seed already read (at or below its start) are not counted twice.
        apply(events.filter((e) => e.seq > seedTop));
      });
      idleTimer = setInterval(() => {
        if (now() - lastAsked > keepAlive) reset();
      }, Math.min(keepAlive, 30_000));
      idleTimer.unref();
    }
  }
  let seedTop = 0;

  /** Forgets everything: the next snapshot seeds again (nobody looked for a while). */
  function reset(): void {
    unsubscribe?.();
    unsubscribe = null;
    if (idleTimer) clearInterval(idleTimer);
    idleTimer = null;
    seeded = null;
    overflow = false;
    buckets.clear();
    live.clear();
    ended.clear();
    queue = [];
  }

  /** Drops what has certainly ended; looks again (bounded) at sessions whose idle expiry passed. */
  function prune(t: number): void {
    const oldest = Math.floor(t / MINUTE) - CHART_MINUTES;
    for (const minute of buckets.keys()) if (minute <= oldest) buckets.delete(minute);
    let rechecks = 0;
    for (const [id, entry] of live) {
      if (entry.absoluteExpiresAt <= t) live.delete(id);
      else if (entry.idleExpiresAt <= t && rechecks < 200) {
        rechecks += 1;
        entry.idleExpiresAt = Number.POSITIVE_INFINITY; // looked up once, not on every snapshot
        lookUp(id);
      }
    }
  }

  async function snapshot(): Promise<DashboardStats> {
    watch();
    if (!seeded) {
      seedTop = Number.POSITIVE_INFINITY; // nothing from the feed counts until the seed's top is known
      seeded = (async () => {
        await feed.ready();
        // Read synchronously after subscribing: every event up to here is the seed's, every later one the feed's.
        seedTop = feed.head;
        await seed(seedTop);
      })();
      seeded.catch(() => reset());
    }
    await seeded;
    await settled();
    const t = now();
    prune(t);
    const current = Math.floor(t / MINUTE);
    const first = current - CHART_MINUTES + 1;
    const series = Object.fromEntries(Object.keys(SERIES).map((name) => [name, new Array<number>(CHART_MINUTES).fill(0)])) as Record<SeriesName, number[]>;
    for (const [minute, counts] of buckets) {
      const i = minute - first;
      if (i < 0 || i >= CHART_MINUTES) continue;
      for (const name of Object.keys(SERIES) as SeriesName[]) (series[name] as number[])[i] = counts[name];
    }
    // The names come from the user agent (user-controlled): counted in maps, never as keys of a
    // plain object, where `constructor` or `__proto__` would read or set the prototype's.
    const type = new Map<string, number>();
    const browser = new Map<string, number>();
    const os = new Map<string, number>();
    for (const entry of live.values()) {
      type.set(entry.type, (type.get(entry.type) ?? 0) + 1);
      browser.set(entry.browser, (browser.get(entry.browser) ?? 0) + 1);
      os.set(entry.os, (os.get(entry.os) ?? 0) + 1);
    }
    const devices = { type: countsObject(type), browser: countsObject(browser), os: countsObject(os) };
    return {
      at: new Date(t).toISOString(), activeSessions: live.size, complete: complete && !overflow,
      perMinute: { start: new Date(first * MINUTE).toISOString(), minutes: CHART_MINUTES, series },
      devices, lastSeq: Math.max(seedTop, feed.head),
    };
  }

  /** Waits (briefly) for the lookups in flight, so a snapshot right after a change includes it. */
  async function settled(): Promise<void> {
    for (let i = 0; i < 50 && (lookups > 0 || queue.length > 0); i += 1) await new Promise((r) => setTimeout(r, 10));
  }

  return { snapshot, close: reset };
}

/** Counts as a JSON object without a prototype, so any name (even `__proto__`) is an own key. */
function countsObject(counts: Map<string, number>): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const [name, n] of counts) out[name] = n;
  return out;
}

export type DashboardStatsModel = ReturnType<typeof dashboardStats>;
