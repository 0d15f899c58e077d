/**
 * The PostgreSQL schema and its migrations. Every store runs `migrate` on start: inside one
 * transaction it takes a transaction-scoped advisory lock named after the schema, creates the
 * schema and the version table if missing, and applies the migrations it has not seen. Two
 * processes starting together therefore migrate once: the second waits on the lock, then finds
 * every version already recorded.
 */
import type { PoolClient } from 'pg';
import { GENESIS_HASH } from '../../audit/chain.js';
import { SessionError } from '../../core/errors.js';

/**
 * Schema names we accept: plain identifiers (quoted everywhere, so case is kept), short enough
 * that the NOTIFY channel `sk:<schema>` fits PostgreSQL's 63-byte identifier limit.
 */
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,59}$/;

export function checkedSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new SessionError('invalid_request', 'option schema: expected an identifier of at most 60 letters, digits or underscores, not starting with a digit');
  }
  return schema;
}

/** Fully qualified table names of one schema, quoted once here. */
export interface Tables {
  schema: string;
  migrations: string;
  sessions: string;
  audit: string;
  auditHead: string;
  records: string;
}

export function tablesOf(schema: string): Tables {
  const q = `"${schema}"`;
  return {
    schema,
    migrations: `${q}.schema_migrations`,
    sessions: `${q}.sessions`,
    audit: `${q}.audit`,
    auditHead: `${q}.audit_head`,
    records: `${q}.records`,
  };
}

interface Migration {
  version: number;
  name: string;
  sql: (t: Tables) => string;
}

/** Append-only: a released migration is never edited, a change is a new version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, audit trail, named records',
    sql: (t) => `
      CREATE TABLE ${t.sessions} (
        id text PRIMARY KEY,
        user_id text NOT NULL,
        secret_hash text NOT NULL,
        previous_secret_hash text,
        previous_secret_expires_at bigint,
        used_secret_hashes text[] NOT NULL DEFAULT '{}',
        generation integer NOT NULL,
        token_type text NOT NULL,
        roles text[] NOT NULL,
        created_at bigint NOT NULL,
        last_seen_at bigint NOT NULL,
        idle_expires_at bigint NOT NULL,
        absolute_expires_at bigint NOT NULL,
        idle_timeout bigint NOT NULL,
        absolute_timeout bigint NOT NULL,
        policy text,
        authenticated_at bigint NOT NULL,
        auth_methods text[] NOT NULL,
        device jsonb NOT NULL,
        data jsonb NOT NULL,
        version integer NOT NULL,
        revoked_at bigint,
        revoke_reason text,
        -- When the row may be deleted (retentionOf in stores/types.ts): revoked rows are kept
        -- until their absolute expiry so a revoked token keeps saying "revoked".
        retain_until bigint GENERATED ALWAYS AS (
          CASE WHEN revoked_at IS NULL THEN LEAST(idle_expires_at, absolute_expires_at)
               ELSE absolute_expires_at END) STORED
      );
      CREATE INDEX sessions_user_idx ON ${t.sessions} (user_id, created_at, id);
      CREATE INDEX sessions_retention_idx ON ${t.sessions} (retain_until);

      CREATE TABLE ${t.audit} (
        seq bigint PRIMARY KEY,
        at bigint NOT NULL,
        type text NOT NULL,
        session_id text,
        user_id text,
        ip text,
        user_agent text,
        reason text,
        detail text,
        actor text,
        request_id text,
        token_fingerprint text,
        prev_hash text NOT NULL,
        hash text NOT NULL
      );
      CREATE INDEX audit_user_idx ON ${t.audit} (user_id, seq);
      CREATE INDEX audit_session_idx ON ${t.audit} (session_id, seq);
      CREATE INDEX audit_type_idx ON ${t.audit} (type, seq);
      CREATE INDEX audit_at_idx ON ${t.audit} (at, seq);

      -- The end of the hash chain. Appends lock this one row, so events are linked one writer
      -- at a time and seq has no gaps (a sequence would leave gaps on rollback).
      CREATE TABLE ${t.auditHead} (
        id integer PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
      );
      INSERT INTO ${t.auditHead} (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

      CREATE TABLE ${t.records} (
        kind text NOT NULL,
        id text NOT NULL,
        value jsonb NOT NULL,
        PRIMARY KEY (kind, id)
      );
    `,
  },
  {
    version: 2,
    name: 'audit trail by client IP',
    sql: (t) => `CREATE INDEX IF NOT EXISTS audit_ip_idx ON ${t.audit} (ip, seq);`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the schema to `LATEST_VERSION`; resolves with the versions this call applied (empty when
 * another process had done it). Refuses a schema newer than this code knows.
 */
export async function migrate(client: PoolClient, t: Tables, timeoutMs: number): Promise<number[]> {
  const q = (text: string, values: unknown[] = []) => client.query({ text, values, query_timeout: timeoutMs } as never);
  await q('BEGIN');
  try {
    // Waiting for another process's migration may take longer than a normal statement.
    await q(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    await q('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sessionkit.migrate:${t.schema}`]);
    await q(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
    await q(`CREATE TABLE IF NOT EXISTS ${t.migrations} (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await q(`SELECT version FROM ${t.migrations}`) as unknown as { rows: { version: number }[] };
    const seen = new Set(done.rows.map((r) => r.version));
    const newest = Math.max(0, ...seen);
    if (newest > LATEST_VERSION) {
      throw new SessionError('store_unavailable', `schema "${t.schema}" is at version ${newest}, newer than this sessionkit knows (${LATEST_VERSION}); upgrade sessionkit`);
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (seen.has(m.version)) continue;
      await q(m.sql(t));
      await q(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    await q('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
