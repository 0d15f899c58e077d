/**
 * Where the PostgreSQL tests connect, whether they run, and the per-run schemas they use.
 * `DATABASE_URL` overrides the default (the trust-auth `postgres` role on 127.0.0.1, database
 * `test`). Each store a test makes gets its own random schema; `dropSchema` removes it after.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeIfAvailable, tcpReachable } from './availability.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The URL without its password, for messages. */
export function redactedUrl(url = DATABASE_URL): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** `describe` for suites that need PostgreSQL: skipped (loudly) locally when none answers, failing under CI. */
export const describePg = describeIfAvailable(await tcpReachable(DATABASE_URL), 'PostgreSQL', 'DATABASE_URL', redactedUrl());

/** A fresh schema name for one store (lowercase, unique per call). */
export function randomSchema(tag = 't'): string {
  return `sk_${tag}_${randomBytes(6).toString('hex')}`;
}

let admin: pg.Pool | null = null;

/** A small pool straight to the server (never through a test proxy), for set-up and clean-up. */
export function adminPool(): pg.Pool {
  if (!admin) {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
    admin.on('error', () => {});
  }
  return admin;
}

export async function dropSchema(schema: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`refusing to drop schema ${JSON.stringify(schema)}`);
  await adminPool().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export async function closeAdminPool(): Promise<void> {
  const p = admin;
  admin = null;
  await p?.end();
}
