import type { ServiceConfig } from '../config/schema.js';
import { parseStoreUrl } from '../config/store.js';
import type { SessionStore } from '../stores/types.js';
import { memoryLimiter, redisLimiter, type AttemptLimiter, type RedisLike } from './rate-limit.js';

/**
 * The limiter of failed credential attempts that fits the store: with Redis the counters live in
 * Redis (on the store's own client), so every instance of the service shares them; otherwise
 * they live in this process (SQLite and memory are one-machine stores; with PostgreSQL each
 * instance counts on its own, documented in docs/API.md).
 *
 * @example const limiter = await createLimiter(config, store)
 */
export async function createLimiter(config: Pick<ServiceConfig, 'store' | 'storePrefix' | 'rateLimit'>, store: SessionStore): Promise<AttemptLimiter> {
  const { max, windowMs } = config.rateLimit;
  const client = (store as { client?: unknown }).client;
  if (parseStoreUrl(config.store).kind === 'redis' && client && typeof (client as RedisLike).eval === 'function') {
    return redisLimiter(client as RedisLike, { max, windowMs, prefix: `${config.storePrefix}:` });
  }
  return memoryLimiter({ max, windowMs });
}
