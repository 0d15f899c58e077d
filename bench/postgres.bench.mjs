// PostgreSQL store: how fast `validate(token)` is through the session manager, next to the floor,
// a bare prepared primary-key SELECT on the same table over a pool of the same size, in one run.
//
//   floor             pool.query of a named `SELECT * FROM sessions WHERE id = $1` (pg, 10 connections)
//   store get         store.get(id): the same one round trip, plus row mapping and the call deadline
//   sessionkit validate  sessions.validate(token) on postgresStore(): parse, get, SHA-256, checks
//
// 2,000 sessions (BENCH_PG_SESSIONS) in a fresh schema (dropped afterwards), default touchInterval (60 s): as in
// production, almost every validation reads once and writes nothing. DATABASE_URL picks the
// server (default postgres://postgres@127.0.0.1:5432/test). Run: `npm run build && node bench/run.mjs postgres`.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { collectGarbage, measureAll, printTable, printTargets } from './lib.mjs';

const require = createRequire(import.meta.url);
const dist = process.env.BENCH_DIST ? new URL(`file://${process.env.BENCH_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SESSIONS = Number(process.env.BENCH_PG_SESSIONS ?? 2_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const POOL_SIZE = 10;
const DEVICE = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7' };

export async function run({ log }) {
  const pg = require('pg');
  const { createSessionManager } = await import(new URL('index.js', dist).href);
  const { postgresStore } = await import(new URL('stores/postgres.js', dist).href);
  const schema = `sk_bench_${randomBytes(5).toString('hex')}`;
  const floorPool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_SIZE });
  floorPool.on('error', () => {});
  try {
    await floorPool.query('SELECT 1');
  } catch (err) {
    log(`skipped: no PostgreSQL answers at DATABASE_URL (${redacted(DATABASE_URL)}): ${err.message}`);
    await floorPool.end();
    return;
  }
  const store = postgresStore({ connectionString: DATABASE_URL, schema, poolSize: POOL_SIZE });
  try {
    const { applied } = await store.ready();
    log(`schema ${schema} (migrations applied: ${applied.join(', ')}); ${SESSIONS.toLocaleString('en-US')} sessions; ` +
      `${CONCURRENCY} calls in flight; pool of ${POOL_SIZE} connections for the store and for the floor;`);
    log(`each operation runs ${ROUNDS} rounds of ${(SECONDS / ROUNDS).toFixed(1)} s, alternating; the best round counts.`);
    const sessions = createSessionManager({ store });
    const started = performance.now();
    const tokens = await createSessions(sessions, SESSIONS);
    log(`created the sessions through the manager in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const ids = tokens.map((t) => t.slice(t.indexOf('_') + 1, t.indexOf('.')));
    await floorPool.query(`ANALYZE "${schema}".sessions`);
    await expectValid(sessions, tokens);

    const floorSql = `SELECT * FROM "${schema}".sessions WHERE id = $1`;
    const floorOp = async (i) => {
      const r = await floorPool.query({ name: 'bench_floor', text: floorSql, values: [ids[i % SESSIONS]] });
      if (r.rows.length !== 1) throw new Error('floor lost a row');
    };
    const getOp = async (i) => {
      if (!(await store.get(ids[i % SESSIONS]))) throw new Error('store lost a session');
    };
    const validateOp = (i) => sessions.validate(tokens[i % SESSIONS]);
    const options = { concurrency: CONCURRENCY };
    const [floor, get, validate] = await measureAll([
      { name: 'floor', fn: floorOp, options },
      { name: 'store get', fn: getOp, options },
      { name: 'sessionkit validate', fn: validateOp, options },
    ], { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
    await expectValid(sessions, tokens);
    floor.note = 'pg pool.query, named SELECT * by primary key';
    get.note = 'postgresStore().get(id)';
    validate.note = 'sessions.validate(token) on postgresStore()';
    printTable(log, [floor, get, validate], { title: `PostgreSQL store, ${SESSIONS.toLocaleString('en-US')} sessions`, baseline: floor.name });
    printTargets(log, [
      { label: 'sessionkit validate / floor', value: validate.opsPerSec / floor.opsPerSec, min: 0.6 },
    ]);
  } finally {
    await store.close();
    await floorPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await floorPool.end();
  }
}

/** Logins of distinct users, many at once: their commits share WAL flushes (group commit). */
async function createSessions(sessions, count) {
  const tokens = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      tokens[i] = (await sessions.create({ userId: `user${i}`, roles: ['user'], device: DEVICE, data: { plan: 'pro' } })).token;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return tokens;
}

/** A few validations outside the timed loop, so a broken setup cannot pass as a fast one. */
async function expectValid(sessions, tokens) {
  for (const i of [0, 1, tokens.length >> 1, tokens.length - 1]) {
    const s = await sessions.validate(tokens[i]);
    if (s.userId !== `user${i}`) throw new Error(`validate returned the wrong session for token ${i}`);
  }
}

function redacted(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable)';
  }
}
