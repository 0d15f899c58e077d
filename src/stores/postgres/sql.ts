/**
 * Small helpers the PostgreSQL store runs every statement through: a transaction wrapper that
 * never returns a broken connection to the pool, a deadline so no call outlives the configured
 * timeout, and the mapping of driver failures to `store_unavailable`.
 */
import type { Pool, PoolClient } from 'pg';
import { SessionError } from '../../core/errors.js';

/** An error the server sent (it has a SQLSTATE): the connection itself is still usable. */
export function isServerError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error) || !('severity' in err)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** Deadlock and serialization failures: the transaction may simply be run again. */
function isRetryable(err: unknown): boolean {
  return isServerError(err) && (err.code === '40P01' || err.code === '40001');
}

/**
 * A failure of the connection rather than of the statement: a pooled connection the server
 * closed (a restart, a failover), a reset, a refused connect. Timeouts are not among them: a
 * retry would only wait again.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof SessionError) return false;
  // The server ending the session (shutdown, terminated backend) or a connection exception.
  if (isServerError(err)) return err.code.startsWith('08') || err.code.startsWith('57P0');
  const message = err instanceof Error ? err.message : String(err);
  return !/timeout|timed out/i.test(message);
}

const ATTEMPTS = 3;

/**
 * Runs a statement that is safe to repeat (a read, an idempotent write) again on a fresh
 * connection when the one it got turned out to be dead, so the first request after the server
 * returns does not fail on a connection left over from before.
 *
 * @example const r = await retryingOnStaleConnection(() => pool.query(sql, values));
 */
export async function retryingOnStaleConnection<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isConnectionError(err)) throw err;
    }
  }
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one pooled connection. On a server error (or a `SessionError`
 * the callback threw to refuse a change) the transaction is rolled back and the connection reused;
 * on anything else (timeout, reset) the connection is destroyed, since its state is unknown.
 * Deadlocks and serialization failures are run again, and so is a transaction whose connection
 * failed before BEGIN went through (nothing was done yet).
 *
 * @example await transaction(pool, async (c) => { await c.query('UPDATE ...'); });
 */
export async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      if (attempt < ATTEMPTS && isConnectionError(err)) continue;
      throw err;
    }
    // A checked-out client has no 'error' listener (the pool removes its own): a connection that
    // drops between two queries of the transaction would emit an unhandled 'error' and end the
    // process. The failure reaches us through the next query anyway.
    client.on('error', ignoreClientError);
    let begun = false;
    let destroy: Error | undefined;
    try {
      await client.query('BEGIN');
      begun = true;
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isServerError(err) || err instanceof SessionError) {
        await client.query('ROLLBACK').catch((e: unknown) => { destroy = e instanceof Error ? e : new Error(String(e)); });
      } else {
        destroy = err instanceof Error ? err : new Error(String(err));
      }
      if (attempt < ATTEMPTS && (isRetryable(err) || (!begun && isConnectionError(err)))) continue;
      throw err;
    } finally {
      client.removeListener('error', ignoreClientError);
      client.release(destroy);
    }
  }
}

/** The 'error' listener of checked-out clients (see `transaction`). */
export function ignoreClientError(): void {
  // the query in flight (or the next one) rejects with the same failure
}

/** Any failure as a `SessionError`: the store's own refusals pass through, the rest is `store_unavailable`. */
export function storeError(err: unknown, what: string): SessionError {
  if (err instanceof SessionError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SessionError('store_unavailable', `postgres store: ${what} failed: ${reason}`, {}, { cause: err });
}

/**
 * Settles with `work`, or rejects with `store_unavailable` once `ms` have passed: whatever the
 * driver does (a pool without timeouts, a server that stopped answering), the caller gets an
 * answer in time. The work itself is not cancelled; the pool's own timeouts end it.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new SessionError('store_unavailable', `postgres store: ${what} did not answer within ${ms} ms`));
    }, ms);
    work.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err: unknown) => { clearTimeout(timer); reject(storeError(err, what)); },
    );
  });
}

/**
 * Waits for `work` at most `ms`, never rejecting: for shutdown steps (ending a pool or a client)
 * that could otherwise wait on a peer that will never answer.
 *
 * @example await settleWithin(pool.end(), 2000);
 */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    work.then(() => { clearTimeout(timer); resolve(); }, () => { clearTimeout(timer); resolve(); });
  });
}
