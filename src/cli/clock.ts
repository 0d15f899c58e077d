import { parseStoreUrl } from '../config/store.js';

/** How far the store's clock is from ours, measured over one round trip. */
export interface ClockComparison {
  /** `PostgreSQL` or `Redis`. */
  source: string;
  /** Store time minus local time, in milliseconds (positive: the store is ahead). */
  offsetMs: number;
  /** The round trip the estimate rests on; the offset is only known to within half of it. */
  roundTripMs: number;
}

/**
 * Asks the store's server for its time (PostgreSQL `clock_timestamp()`, Redis `TIME`) and compares
 * it with ours, assuming the answer was taken half-way through the round trip. Resolves with null
 * for stores without a clock of their own (memory, SQLite: the same machine) or that cannot be asked
 * directly (Redis Cluster and Sentinel URLs, Memcached). The client libraries load lazily.
 *
 * @example const c = await compareStoreClock('postgres://127.0.0.1/test') // { source: 'PostgreSQL', offsetMs: 2, roundTripMs: 1 }
 */
export async function compareStoreClock(storeUrl: string): Promise<ClockComparison | null> {
  const target = parseStoreUrl(storeUrl);
  if (target.kind === 'postgres') return postgresClock(target.url);
  if (target.kind === 'redis' && /^rediss?:\/\//i.test(target.url)) return redisClock(target.url);
  return null;
}

async function postgresClock(url: string): Promise<ClockComparison> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const before = Date.now();
    const result = await client.query<{ ms: string }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS ms');
    const after = Date.now();
    return comparison('PostgreSQL', Number(result.rows[0]?.ms), before, after);
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisClock(url: string): Promise<ClockComparison> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, enableOfflineQueue: false });
  client.on('error', () => {}); // reported through the failing command instead
  await client.connect();
  try {
    const before = Date.now();
    const [seconds, micros] = await client.time();
    const after = Date.now();
    return comparison('Redis', Number(seconds) * 1000 + Number(micros) / 1000, before, after);
  } finally {
    client.disconnect();
  }
}

function comparison(source: string, storeMs: number, before: number, after: number): ClockComparison {
  if (!Number.isFinite(storeMs)) throw new Error(`${source} answered with an unreadable time`);
  return { source, offsetMs: Math.round(storeMs - (before + after) / 2), roundTripMs: after - before };
}
