/**
 * The PostgreSQL store. `pg` is imported on first use, so applications that never touch
 * PostgreSQL never load it. The schema is created and migrated on start (see postgres/schema.ts);
 * every multi-row change runs in one transaction together with its audit events and its NOTIFY,
 * so other processes hear of a revocation exactly when it committed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClientConfig, Pool, PoolClient, PoolConfig } from 'pg';
import { parseDuration, type Duration } from '../core/duration.js';
import { SessionError } from '../core/errors.js';
import type { AuditEvent, StoredSession } from '../core/types.js';
import { appendEvents, auditQuerySql } from './postgres/audit.js';
import { startListener, type Listener } from './postgres/listener.js';
import { rowToAudit, rowToSession, SESSION_COLUMNS, SESSION_SELECT, sessionParams, type AuditRow, type SessionRow } from './postgres/rows.js';
import { checkedSchema, migrate, tablesOf } from './postgres/schema.js';
import { ignoreClientError, retryingOnStaleConnection, settleWithin, transaction, withDeadline } from './postgres/sql.js';
import type { CreateOptions, CreateResult, RevokeAllOptions, RevokeOptions, SessionStore, StoreChange } from './types.js';

export const name = 'postgres';

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`; the store makes and owns its pool. */
  connectionString?: string | undefined;
  /** A pool the application owns (it is not ended by `close`). Give it timeouts of its own. */
  pool?: Pool;
  /** Schema holding the tables. Default `'sessionkit'`. */
  schema?: string;
  /**
   * The longest any call may take before it rejects with `store_unavailable`; also the pool's
   * connect timeout and the statement timeout of a pool the store makes. Default `'2s'`.
   */
  timeout?: Duration;
  /** Connections in the pool the store makes. Default 10. */
  poolSize?: number;
  /** How long start-up may wait for another process's migration. Default `'30s'`. */
  migrationTimeout?: Duration;
}

/** A PostgreSQL `SessionStore`, plus start-up and listener controls. */
export interface PostgresStore extends SessionStore {
  readonly schema: string;
  /** Connects and migrates (once; later calls share the result); resolves with the versions this process applied. */
  ready(): Promise<{ applied: number[] }>;
  /** Resolves once the LISTEN connection of `watch` is active (a watcher must be registered). */
  listening(): Promise<void>;
}

type PgModule = typeof import('pg');

/** Loads pg once per process; a missing install becomes a clear error instead of a crash at import. */
let pgModule: Promise<PgModule> | null = null;
function loadPg(): Promise<PgModule> {
  pgModule ??= import('pg').then((m) => ((m as unknown as { default?: PgModule }).default ?? m)).catch((err: unknown) => {
    pgModule = null;
    throw new SessionError('store_unavailable', 'postgres store: the "pg" package is not installed (npm install pg)', {}, { cause: err });
  });
  return pgModule;
}

/**
 * Creates a PostgreSQL store. Nothing connects until the first call (or `ready()`); a server that
 * goes away makes calls reject with `store_unavailable` within `timeout`, and the same store
 * recovers by itself when the server returns.
 *
 * @example
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL });
 * await store.ready(); // optional: migrate at start-up rather than on the first request
 * const sessions = createSessionManager({ store });
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  if (typeof options !== 'object' || options === null) throw new SessionError('invalid_request', 'postgresStore: expected { connectionString } or { pool }');
  const { connectionString, pool: givenPool } = options;
  if ((connectionString === undefined) === (givenPool === undefined)) {
    throw new SessionError('invalid_request', 'postgresStore: give exactly one of connectionString or pool');
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString.length === 0)) {
    throw new SessionError('invalid_request', 'option connectionString: expected a postgres:// URL');
  }
  if (givenPool !== undefined && (typeof givenPool !== 'object' || givenPool === null || typeof givenPool.connect !== 'function')) {
    throw new SessionError('invalid_request', 'option pool: expected a pg Pool');
  }
  const schema = checkedSchema(options.schema ?? 'sessionkit');
  const timeout = parseDuration(options.timeout ?? '2s', 'timeout');
  if (timeout < 1) throw new SessionError('invalid_request', 'option timeout: must be at least 1 ms');
  const migrationTimeout = parseDuration(options.migrationTimeout ?? '30s', 'migrationTimeout');
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new SessionError('invalid_request', 'option poolSize: expected a positive integer');

  const t = tablesOf(schema);
  const channel = `sk:${schema}`;
  /** Tags our own notifications, which are already delivered locally when the change commits. */
  const origin = randomBytes(9).toString('base64url');
  const getStatement = `sk_get_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
  const listeners = new Set<(change: StoreChange) => void>();
  let listener: Listener | null = null;
  let listenerStarting: Promise<void> | null = null;
  let pool: Pool | null = givenPool ?? null;
  let started: Promise<{ applied: number[] }> | null = null;
  let readyPool: Pool | null = null;
  let closed = false;

  const clientConfig = (): ClientConfig => (givenPool
    ? { ...(givenPool as unknown as { options: ClientConfig }).options }
    : { connectionString, connectionTimeoutMillis: timeout, keepAlive: true, keepAliveInitialDelayMillis: 10_000, application_name: 'sessionkit-listen' });

  const poolConfig = (): PoolConfig => ({
    connectionString, max: poolSize, connectionTimeoutMillis: timeout, query_timeout: timeout,
    statement_timeout: timeout,
    // A transaction stranded by a vanished client must not hold row or advisory locks for long.
    idle_in_transaction_session_timeout: Math.max(10_000, 5 * timeout),
    keepAlive: true, keepAliveInitialDelayMillis: 10_000, application_name: 'sessionkit',
  });

  /** Connects and migrates once; a failure is forgotten so the next call tries again. */
  function start(): Promise<{ applied: number[] }> {
    if (closed) return Promise.reject(new SessionError('store_unavailable', 'postgres store is closed'));
    started ??= (async () => {
      const pg = await loadPg();
      if (!pool) {
        pool = new pg.Pool(poolConfig());
        // Idle connections error when the server goes away; the pool drops them. Without a
        // listener that event would crash the process.
        pool.on('error', () => {});
      }
      const client = await pool.connect();
      client.on('error', ignoreClientError);
      let applied: number[];
      try {
        applied = await migrate(client, t, migrationTimeout);
      } catch (err) {
        client.removeListener('error', ignoreClientError);
        client.release(err instanceof SessionError ? undefined : (err as Error));
        throw err;
      }
      client.removeListener('error', ignoreClientError);
      client.release();
      readyPool = pool;
      return { applied };
    })();
    started.catch(() => { started = null; });
    return started;
  }

  /** Every call goes through here: start-up if needed, the deadline, and error mapping. */
  function run<T>(what: string, work: (pool: Pool) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new SessionError('store_unavailable', 'postgres store is closed'));
    const p = readyPool;
    const job = p ? work(p) : start().then(() => work(readyPool as Pool));
    return withDeadline(job, timeout, what);
  }

  const tx = <T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> => run(what, (p) => transaction(p, fn));
  /** A statement safe to repeat: run again on a fresh connection if its connection was dead. */
  const repeatable = <T>(what: string, work: (pool: Pool) => Promise<T>): Promise<T> => run(what, (p) => retryingOnStaleConnection(() => work(p)));

  function deliver(changes: StoreChange[]): void {
    for (const change of changes) {
      for (const l of listeners) {
        try {
          l(change);
        } catch {
          // one watcher's failure must not hide the change from the others
        }
      }
    }
  }

  /** Queues NOTIFYs in the caller's transaction: they are sent only if it commits. */
  async function notify(c: PoolClient, changes: StoreChange[]): Promise<void> {
    if (changes.length === 0) return;
    await c.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [channel, changes.map((change) => JSON.stringify({ o: origin, c: change }))]);
  }

  function onPayload(payload: string): void {
    let parsed: { o?: unknown; c?: StoreChange };
    try {
      parsed = JSON.parse(payload) as { o?: unknown; c?: StoreChange };
    } catch {
      return;
    }
    if (parsed.o === origin || !parsed.c || typeof parsed.c.type !== 'string') return;
    deliver([parsed.c]);
  }

  function ensureListener(): void {
    if (listener || listenerStarting || closed) return;
    listenerStarting = loadPg().then((pg) => {
      listenerStarting = null;
      if (closed || listeners.size === 0) return;
      listener = startListener({
        makeClient: (config) => new pg.Client(config), config: clientConfig(), channel, onPayload,
        heartbeatMs: Math.max(1_000, 5 * timeout), heartbeatTimeoutMs: timeout,
      });
    }, () => { listenerStarting = null; });
  }

  const revokedChange = (s: StoredSession, at: number): StoreChange => ({ type: 'revoked', sessionId: s.id, userId: s.userId, at });
  /** The record as it was before a revoke that bumped the version and set the revocation. */
  const beforeRevoke = (s: StoredSession): StoredSession => ({ ...s, revokedAt: null, revokeReason: null, version: s.version - 1 });
  const byAge = (a: StoredSession, b: StoredSession): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
  const lockUser = (c: PoolClient, userId: string) => c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [schema, userId]);
  const fallbackEvent = (at: number): AuditEvent => ({
    type: 'session.revoked', at, sessionId: null, userId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null,
  });

  const placeholders = SESSION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
  const updateAll = SESSION_COLUMNS.slice(1).map((col, i) => `${col} = $${i + 2}`).join(', ');

  const store: PostgresStore = {
    name,
    schema,
    capabilities: { exactUserLimit: true, persistentAudit: true, crossProcessEvents: true },

    ready: () => (closed ? Promise.reject(new SessionError('store_unavailable', 'postgres store is closed'))
      : withDeadline(start(), migrationTimeout + timeout, 'start-up')),

    listening() {
      ensureListener();
      return (listenerStarting ?? Promise.resolve()).then(() => listener?.listening());
    },

    get(id) {
      return repeatable('get', async (p) => {
        // A named statement: parsed and planned once per connection, then only bound and run.
        const r = await p.query<SessionRow>({ name: getStatement, text: `SELECT ${SESSION_SELECT} FROM ${t.sessions} WHERE id = $1`, values: [id] });
        const row = r.rows[0];
        return row ? rowToSession(row) : null;
      });
    },

    async create(session: StoredSession, opts: CreateOptions): Promise<CreateResult> {
      const { revoked, changes } = await tx('create', async (c) => {
        const template = opts.events[0] ?? fallbackEvent(opts.now);
        const events = [...opts.events];
        const out: StoredSession[] = [];
        // Creates of one user queue here, so counting live sessions and inserting cannot interleave.
        if (opts.limit) await lockUser(c, session.userId);
        if (opts.replaces) {
          const r = await c.query<SessionRow>(
            `UPDATE ${t.sessions} SET revoked_at = $2, revoke_reason = 'replaced', version = version + 1
             WHERE id = $1 AND revoked_at IS NULL RETURNING ${SESSION_SELECT}`, [opts.replaces, opts.now]);
          for (const row of r.rows) {
            const old = rowToSession(row);
            out.push(old);
            events.push({ ...template, type: 'session.revoked', sessionId: old.id, userId: old.userId, reason: 'replaced' });
          }
        }
        if (opts.limit) {
          const live = await c.query<{ id: string }>(
            `SELECT id FROM ${t.sessions} WHERE user_id = $1 AND revoked_at IS NULL
             AND idle_expires_at > $2 AND absolute_expires_at > $2 ORDER BY created_at, id`, [session.userId, opts.now]);
          const excess = live.rows.length + 1 - opts.limit.max;
          if (excess > 0) {
            if (opts.limit.policy === 'reject') {
              throw new SessionError('session_limit_reached', `the user already has ${live.rows.length} sessions (limit ${opts.limit.max})`);
            }
            const r = await c.query<SessionRow>(
              `UPDATE ${t.sessions} SET revoked_at = $2, revoke_reason = 'evicted', version = version + 1
               WHERE id = ANY($1::text[]) AND revoked_at IS NULL RETURNING ${SESSION_SELECT}`,
              [live.rows.slice(0, excess).map((row) => row.id), opts.now]);
            for (const old of r.rows.map(rowToSession).sort(byAge)) {
              out.push(old);
              events.push({ ...template, type: 'session.revoked', sessionId: old.id, userId: old.userId, reason: 'evicted' });
            }
          }
        }
        const inserted = await c.query(`INSERT INTO ${t.sessions} (${SESSION_SELECT}) VALUES (${placeholders}) ON CONFLICT (id) DO NOTHING`, sessionParams(session));
        if (inserted.rowCount !== 1) throw new SessionError('invalid_request', 'a session with this id exists');
        const changes = out.map((s) => revokedChange(s, opts.now));
        await notify(c, changes);
        await appendEvents(c, t, events);
        return { revoked: out.map(beforeRevoke), changes };
      });
      deliver(changes);
      return { revoked };
    },

    async replace(next, expectedVersion, events) {
      const changes = next.revokedAt !== null ? [revokedChange(next, next.revokedAt)] : [];
      const sql = `UPDATE ${t.sessions} SET ${updateAll} WHERE id = $1 AND version = $${SESSION_COLUMNS.length + 1} AND revoked_at IS NULL`;
      const params = [...sessionParams(next), expectedVersion];
      let written: boolean;
      if (events.length === 0 && changes.length === 0) {
        // One statement is its own transaction: the compare and the swap cannot be split.
        written = await run('replace', async (p) => (await p.query(sql, params)).rowCount === 1);
      } else {
        written = await tx('replace', async (c) => {
          if ((await c.query(sql, params)).rowCount !== 1) return false;
          await notify(c, changes);
          await appendEvents(c, t, events);
          return true;
        });
      }
      if (written) deliver(changes);
      return written;
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      await repeatable('touch', (p) => p.query(
        `UPDATE ${t.sessions} SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1 AND revoked_at IS NULL AND last_seen_at < $2`,
        [id, lastSeenAt, idleExpiresAt]));
    },

    async revoke(id, opts: RevokeOptions) {
      const revoked = await tx('revoke', async (c) => {
        const r = await c.query<SessionRow>(
          `UPDATE ${t.sessions} SET revoked_at = $2, revoke_reason = $3, version = version + 1
           WHERE id = $1 AND revoked_at IS NULL RETURNING ${SESSION_SELECT}`, [id, opts.at, opts.reason]);
        const row = r.rows[0];
        if (!row) return null;
        const s = rowToSession(row);
        await notify(c, [revokedChange(s, opts.at)]);
        await appendEvents(c, t, opts.events);
        return s;
      });
      if (!revoked) return null;
      deliver([revokedChange(revoked, opts.at)]);
      return beforeRevoke(revoked);
    },

    async revokeAllForUser(userId, opts: RevokeAllOptions) {
      const revoked = await tx('revokeAllForUser', async (c) => {
        // Same lock as create: an eviction and a revoke-all of one user never lock rows in opposite orders.
        await lockUser(c, userId);
        const r = await c.query<SessionRow>(
          `UPDATE ${t.sessions} SET revoked_at = $2, revoke_reason = $3, version = version + 1
           WHERE user_id = $1 AND revoked_at IS NULL AND ($4::text IS NULL OR id <> $4) RETURNING ${SESSION_SELECT}`,
          [userId, opts.at, opts.reason, opts.except ?? null]);
        const rows = r.rows.map(rowToSession).sort(byAge);
        await notify(c, rows.map((s) => revokedChange(s, opts.at)));
        await appendEvents(c, t, rows.map((s) => ({ ...opts.event, sessionId: s.id, userId: s.userId })));
        return rows;
      });
      deliver(revoked.map((s) => revokedChange(s, opts.at)));
      return revoked.map(beforeRevoke);
    },

    listForUser(userId, now) {
      return repeatable('listForUser', async (p) => {
        const r = await p.query<SessionRow>(
          `SELECT ${SESSION_SELECT} FROM ${t.sessions} WHERE user_id = $1 AND revoked_at IS NULL
           AND idle_expires_at > $2 AND absolute_expires_at > $2 ORDER BY created_at, id`, [userId, now]);
        return r.rows.map(rowToSession);
      });
    },

    sweepExpired(now, limit) {
      return run('sweepExpired', async (p) => {
        // SKIP LOCKED: sweepers in several processes take disjoint batches instead of queueing,
        // and a row a request is changing right now is left for the next round.
        const r = await p.query<SessionRow>(
          `DELETE FROM ${t.sessions} WHERE id IN (
             SELECT id FROM ${t.sessions} WHERE retain_until <= $1 ORDER BY retain_until LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING ${SESSION_SELECT}`, [now, limit]);
        return r.rows.map(rowToSession);
      });
    },

    async appendAudit(events) {
      if (events.length === 0) return;
      await tx('appendAudit', async (c) => { await appendEvents(c, t, events); });
    },

    queryAudit(q) {
      const { text, values } = auditQuerySql(t, q ?? {});
      return repeatable('queryAudit', async (p) => (await p.query<AuditRow>(text, values)).rows.map(rowToAudit));
    },

    getRecord<T>(kind: string, id: string) {
      return repeatable('getRecord', async (p) => {
        const r = await p.query<{ value: T }>(`SELECT value FROM ${t.records} WHERE kind = $1 AND id = $2`, [kind, id]);
        return r.rows[0] ? r.rows[0].value : null;
      });
    },

    async putRecord<T>(kind: string, id: string, value: T, opts: { ifAbsent?: boolean } = {}) {
      const json = JSON.stringify(value);
      if (json === undefined) throw new SessionError('invalid_request', 'putRecord: the value must be serialisable as JSON');
      const sql = `INSERT INTO ${t.records} (kind, id, value) VALUES ($1, $2, $3::jsonb) ON CONFLICT (kind, id) DO `
        + (opts.ifAbsent ? 'NOTHING' : 'UPDATE SET value = EXCLUDED.value');
      const changes: StoreChange[] = kind === 'signing-keys' ? [{ type: 'keys', at: Date.now() }] : [];
      const written = await tx('putRecord', async (c) => {
        if ((await c.query(sql, [kind, id, json])).rowCount !== 1) return false;
        await notify(c, changes);
        return true;
      });
      if (written) deliver(changes);
      return written;
    },

    listRecords<T>(kind: string) {
      return repeatable('listRecords', async (p) => {
        const r = await p.query<{ value: T }>(`SELECT value FROM ${t.records} WHERE kind = $1 ORDER BY id`, [kind]);
        return r.rows.map((row) => row.value);
      });
    },

    async deleteRecord(kind, id) {
      const changes: StoreChange[] = kind === 'signing-keys' ? [{ type: 'keys', at: Date.now() }] : [];
      const deleted = await tx('deleteRecord', async (c) => {
        if ((await c.query(`DELETE FROM ${t.records} WHERE kind = $1 AND id = $2`, [kind, id])).rowCount !== 1) return false;
        await notify(c, changes);
        return true;
      });
      if (deleted) deliver(changes);
      return deleted;
    },

    watch(fn) {
      listeners.add(fn);
      ensureListener();
      return () => {
        listeners.delete(fn);
        if (listeners.size === 0 && listener) {
          const l = listener;
          listener = null;
          void l.stop();
        }
      };
    },

    async ping() {
      await repeatable('ping', (p) => p.query('SELECT 1'));
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      const l = listener;
      listener = null;
      await l?.stop();
      // Wait for a start-up in flight, so its pool exists and is ended below.
      await started?.catch(() => {});
      if (!givenPool && pool) await settleWithin(pool.end(), timeout);
    },
  };
  return store;
}

export default postgresStore;
