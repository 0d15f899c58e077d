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
  /** IPs counted now (the memory limiter; for tests and metrics). */
  readonly tracked?: number;
}

export interface LimitOptions {
  max: number;
  windowMs: number;
  now?: () => number;
  /** Memory limiter: most IPs counted at once (default 100,000). */
  maxTracked?: number;
}

interface AttemptWindow {
  count: number;
  resetAt: number;
}

/**
 * A limiter in this process's memory: right for the memory and SQLite stores (one machine).
 *
 * Memory is bounded and every call is O(1). Every window has the same length, so the windows
 * opened within one window length can be kept together: two generations, the current one and
 * the one before. When the current generation is a window length old it becomes the previous
 * one and the previous one is dropped whole: every window in it had ended (each opened more than
 * one window length ago). At most `maxTracked` IPs are counted at once: when that many are,
 * a new IP's failures are not counted until the oldest generation ends, while every IP already
 * counted (a blocked one too) keeps its count. An attacker with that many addresses is beyond
 * any per-IP limit; what it must never do is free the IPs already blocked.
 *
 * @example const limiter = memoryLimiter({ max: 30, windowMs: 60_000 })
 */
export function memoryLimiter(options: LimitOptions): AttemptLimiter {
  const now = options.now ?? Date.now;
  const maxTracked = options.maxTracked ?? 100_000;
  if (!Number.isInteger(maxTracked) || maxTracked < 1) throw new RangeError('memoryLimiter: maxTracked must be a positive integer');
  let current = new Map<string, AttemptWindow>();
  let previous = new Map<string, AttemptWindow>();
  let currentSince = now();

  /** Moves the generations on; after two window lengths of quiet both are dropped. */
  function age(t: number): void {
    if (t - currentSince < options.windowMs) return;
    previous = t - currentSince < 2 * options.windowMs ? current : new Map();
    current = new Map();
    currentSince = t;
  }

  function find(ip: string, t: number): AttemptWindow | undefined {
    const w = current.get(ip) ?? previous.get(ip);
    return w && w.resetAt > t ? w : undefined;
  }

  return {
    blockedFor(ip) {
      const t = now();
      age(t);
      const w = find(ip, t);
      return w && w.count >= options.max ? w.resetAt - t : 0;
    },
    async fail(ip) {
      const t = now();
      age(t);
      const w = find(ip, t);
      if (w) {
        w.count += 1;
        return;
      }
      // An ended window in the previous generation is replaced by a new one in the current.
      previous.delete(ip);
      if (current.size + previous.size >= maxTracked) return;
      current.set(ip, { count: 1, resetAt: t + options.windowMs });
    },
    async close() {
      current.clear();
      previous.clear();
    },
    get tracked() {
      return current.size + previous.size;
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
