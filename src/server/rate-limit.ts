/**
 * Counts failed credential attempts (invalid session tokens, refresh tokens, API keys) per client
 * IP in a fixed window. Once an IP reaches the limit, every credential it presents is refused
 * with 429 until the window ends, valid or not: answering valid ones would tell a guesser which
 * guess was right. Other IPs are unaffected.
 */
export interface AttemptLimiter {
  /** Milliseconds until `ip` may try again, or 0 when it is not blocked (sync when the counters are local). */
  blockedFor(ip: string): number | Promise<number>;
  /** Records one failed attempt of `ip`. */
  fail(ip: string): Promise<void>;
  close(): Promise<void>;
}

export interface LimitOptions {
  max: number;
  windowMs: number;
  now?: () => number;
}

/**
 * A limiter in this process's memory: right for the memory and SQLite stores (one machine).
 * Expired windows are dropped as the table grows, so a scan of many IPs cannot exhaust memory.
 *
 * @example const limiter = memoryLimiter({ max: 30, windowMs: 60_000 })
 */
export function memoryLimiter(options: LimitOptions): AttemptLimiter {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { count: number; resetAt: number }>();
  const prune = (t: number): void => {
    for (const [ip, w] of windows) if (w.resetAt <= t) windows.delete(ip);
  };
  return {
    blockedFor(ip) {
      const w = windows.get(ip);
      if (!w) return 0;
      const t = now();
      if (w.resetAt <= t) {
        windows.delete(ip);
        return 0;
      }
      return w.count >= options.max ? w.resetAt - t : 0;
    },
    async fail(ip) {
      const t = now();
      const w = windows.get(ip);
      if (w && w.resetAt > t) {
        w.count += 1;
        return;
      }
      if (windows.size >= 100_000) prune(t);
      windows.set(ip, { count: 1, resetAt: t + options.windowMs });
    },
    async close() {
      windows.clear();
    },
  };
}

/** The few ioredis calls the Redis limiter needs (a `Redis` or a `Cluster`). */
export interface RedisLike {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  quit?(): Promise<unknown>;
}

const FAIL_SCRIPT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;
const BLOCKED_SCRIPT = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c < tonumber(ARGV[1]) then return 0 end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then return tonumber(ARGV[2]) end
return t`;

/**
 * A limiter whose counters live in Redis, so every instance of the service shares them. Each
 * call is one round trip (a small Lua script, one key, so it works on a cluster).
 *
 * @example const limiter = redisLimiter(new Redis(url), { max: 30, windowMs: 60_000, prefix: 'sessionkit:' })
 */
export function redisLimiter(client: RedisLike, options: LimitOptions & { prefix: string; ownsClient?: boolean }): AttemptLimiter {
  const key = (ip: string): string => `${options.prefix}ratelimit:${ip}`;
  return {
    async blockedFor(ip) {
      const ms = Number(await client.eval(BLOCKED_SCRIPT, 1, key(ip), options.max, options.windowMs));
      return Number.isFinite(ms) && ms > 0 ? ms : 0;
    },
    async fail(ip) {
      await client.eval(FAIL_SCRIPT, 1, key(ip), options.windowMs);
    },
    async close() {
      if (options.ownsClient && client.quit) await client.quit().catch(() => {});
    },
  };
}
