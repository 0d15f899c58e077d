/**
 * Skip-if-unavailable for suites that need a real server (Redis, PostgreSQL). Locally, a missing
 * server skips the suite with one loud line naming the variable to set; under `CI` the suite runs
 * anyway and fails, so a broken CI set-up can never pass silently.
 *
 * @example
 * const available = await tcpReachable(redisUrl);
 * describeIfAvailable(available, 'Redis', 'REDIS_URL', redisUrl)('redis store', () => { ... });
 */
import { connect } from 'node:net';
import { describe } from 'vitest';

/** Resolves true when something accepts a TCP connection at the URL's (or `host:port`'s) address. */
export function tcpReachable(address: string, timeoutMs = 1000): Promise<boolean> {
  let host = '127.0.0.1';
  let port = 0;
  try {
    const url = new URL(address.includes('://') ? address : `tcp://${address}`);
    host = url.hostname.replace(/^\[|\]$/g, '') || host;
    port = Number(url.port);
  } catch {
    return Promise.resolve(false);
  }
  if (!port) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** What `describeIfAvailable` returns: a `describe` that may skip (named, so callers can export it). */
// An interface (not a type alias) so declaration output names it instead of vitest's internal types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ConditionalDescribe extends SkipIfDescribe {}
type SkipIfDescribe = ReturnType<typeof describe.skipIf>;

/**
 * `describe`, or a skipping `describe` when the server is unavailable outside CI. Prints the
 * reason once, loudly, so a skipped suite is never mistaken for a passing one.
 */
export function describeIfAvailable(available: boolean, server: string, variable: string, target: string): ConditionalDescribe {
  const skip = !available && !process.env.CI;
  if (!available) {
    console.warn(skip
      ? `\n*** SKIPPED: no ${server} answers at ${target}. Start one or set ${variable} to run these tests (under CI=true they fail instead). ***\n`
      : `\n*** ${server} is not reachable at ${target} (${variable}); CI is set, so these tests run and fail. ***\n`);
  }
  return describe.skipIf(skip);
}
