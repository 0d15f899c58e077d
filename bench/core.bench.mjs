// Core session engine: how fast `validate(token)` is on the memory and SQLite stores, next to the
// cheapest thing that could possibly do the job (the floors) and to express-session, all in one run.
//
// Memory store (10,000 sessions):
//   floor            one SHA-256 of the 43-char secret + one Map.get (sync: no promise at all)
//   memory validate  sessions.validate(token) on memoryStore(), default touchInterval (60 s)
//   express-session  cookie-signature unsign + express-session MemoryStore.get (callback → promise)
// SQLite store (10,000 and 1,000,000 sessions, same file):
//   SQLite floor     a bare prepared primary-key SELECT on the store's own sessions table
//   sqlite validate  sessions.validate(token) on sqliteStore({ path })
// Targets (issue 2, point 9): memory ≥ 0.6x floor and ≥ 2x express-session; SQLite at 1M sessions
// ≥ 0.6x the SQLite floor and ≥ 0.8x its own rate at 10k sessions.
//
// Validations run with the default touchInterval (60 s) and sessions created less than a minute
// before they are measured... except the bulk-loaded ones, whose lastSeenAt is also "now": so, as
// in production, almost every validation writes nothing.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as crypto from 'node:crypto';
import { collectGarbage, measureAll, printTable, printTargets } from './lib.mjs';

const require = createRequire(import.meta.url);
/**
 * The built library; BENCH_DIST points elsewhere to compare two builds. BENCH_CORE_PARTS=sqlite
 * (or memory) runs one part; BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONCURRENCY and
 * BENCH_SQLITE_SESSIONS change the defaults below.
 */
const dist = process.env.BENCH_DIST ? new URL(`file://${process.env.BENCH_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);

const SESSIONS = 10_000;
/** Seconds per operation, split into ROUNDS alternating rounds (the best round counts). */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** In-flight validations per measurement: a server has several requests open at once. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DEVICE = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7' };

export async function run({ log }) {
  log(`validations per second: each operation runs ${ROUNDS} rounds of ${(SECONDS / ROUNDS).toFixed(1)} s (after warm-up),`);
  log(`alternating with the others; the best round counts. ${CONCURRENCY} async calls in flight (the sync floors: 1).`);
  const parts = (process.env.BENCH_CORE_PARTS ?? 'memory,sqlite').split(',');
  if (parts.includes('memory')) await memoryBench(log);
  if (!parts.includes('sqlite')) return;
  if (existsSync(new URL('stores/sqlite.js', dist))) await sqliteBench(log);
  else log('\n(SQLite part skipped: dist/stores/sqlite.js is missing; run `npm run build`)');
}

async function memoryBench(log) {
  const { createSessionManager } = await import(new URL('index.js', dist).href);
  const { memoryStore } = await import(new URL('stores/memory.js', dist).href);
  const sessions = createSessionManager({ store: memoryStore() });
  const tokens = await createSessions(sessions, SESSIONS);
  const parts = tokens.map(splitToken);

  // The floor: what validation cannot avoid, a hash of the presented secret and one lookup, with
  // the fastest SHA-256 call node has (the one the library uses too).
  const floorMap = new Map(parts.map((p) => [p.id, { secretHash: sha256Hex(p.secret) }]));
  const floorOp = (i) => {
    const p = parts[i % SESSIONS];
    return floorMap.get(p.id).secretHash === sha256Hex(p.secret);
  };
  // Rungs between the floor and validate(), to show where the difference goes: the library's own
  // token parser and constant-time compare, then the same work as an awaited async function.
  const { opaqueTokenParser, hashesEqual } = await import(new URL('tokens/opaque.js', dist).href);
  const parse = opaqueTokenParser('sk');
  const parsedOp = (i) => {
    const p = parse(tokens[i % SESSIONS]);
    return hashesEqual(floorMap.get(p.id).secretHash, sha256Hex(p.secret));
  };
  const asyncOp = async (i) => parsedOp(i);
  // A reference floor that starts where validate() starts, from the token string: the id and the
  // secret sliced at their fixed offsets (fresh strings, so the Map hashes the key and SHA-256
  // reads a slice, as in any validator), no format check, a plain === compare.
  const idStart = 'sk_'.length;
  const tokenFloorOp = (i) => {
    const t = tokens[i % SESSIONS];
    return floorMap.get(t.slice(idStart, idStart + 43)).secretHash === sha256Hex(t.slice(idStart + 44));
  };
  const validateOp = (i) => sessions.validate(tokens[i % SESSIONS]);
  const expressOp = await expressSessionOp(SESSIONS);

  await expectValid(sessions, tokens);
  const [floor, tokenFloor, parsed, asyncParsed, memory, peer] = await measureAll([
    { name: 'floor', fn: floorOp },
    { name: 'floor from the token string', fn: tokenFloorOp },
    { name: '+ parse token, constant-time compare', fn: parsedOp },
    { name: '+ as an awaited async function', fn: asyncOp, options: { concurrency: CONCURRENCY } },
    { name: 'memory validate', fn: validateOp, options: { concurrency: CONCURRENCY } },
    { name: 'express-session', fn: expressOp, options: { concurrency: CONCURRENCY } },
  ], { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
  await expectValid(sessions, tokens);
  floor.note = 'sha256(secret) + Map.get, sync (the target\'s floor)';
  tokenFloor.note = 'the floor, slicing id and secret off the token (reference)';
  parsed.note = 'from the token string, sync';
  asyncParsed.note = 'the above, awaited: no store, no copy, no Session object';
  memory.note = 'sessionkit validate(token), memoryStore()';
  peer.note = 'cookie-signature unsign + express-session MemoryStore.get';

  printTable(log, [floor, tokenFloor, parsed, asyncParsed, memory, peer], { title: `memory store, ${SESSIONS.toLocaleString('en-US')} sessions`, baseline: floor.name });
  printTargets(log, [
    { label: 'memory validate / floor', value: memory.opsPerSec / floor.opsPerSec, min: 0.6 },
    { label: 'memory validate / express-session', value: memory.opsPerSec / peer.opsPerSec, min: 2 },
    { label: '(reference) memory validate / floor from the token string', value: memory.opsPerSec / tokenFloor.opsPerSec },
  ]);
  await sessions.close();
}

/** express-session's own per-request work for a session cookie: unsign it, then get the session. */
async function expressSessionOp(count) {
  const { unsign, sign } = require('cookie-signature');
  const MemoryStore = require('express-session/session/memory.js');
  const store = new MemoryStore();
  const secret = 'keyboard cat keyboard cat keyboard cat 0123';
  const cookies = [];
  const expires = new Date(Date.now() + 8 * 3_600_000).toISOString();
  for (let i = 0; i < count; i += 1) {
    const sid = createHash('sha256').update(`sid${i}`).digest('base64url').slice(0, 32);
    // What express-session stores for a fresh session with a cookie, plus a user id.
    store.set(sid, { cookie: { originalMaxAge: 8 * 3_600_000, expires, secure: true, httpOnly: true, path: '/', sameSite: 'lax' }, userId: `user${i}` });
    cookies.push(sign(sid, secret));
  }
  const get = (sid) => new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))));
  const op = async (i) => {
    const sid = unsign(cookies[i % count], secret);
    if (sid === false) throw new Error('bad signature');
    const s = await get(sid);
    if (!s) throw new Error('express-session lost a session');
    return s;
  };
  await op(0);
  return op;
}

async function createSessions(sessions, count) {
  const tokens = new Array(count);
  for (let i = 0; i < count; i += 1) {
    tokens[i] = (await sessions.create({ userId: `user${i}`, roles: ['user'], device: DEVICE, data: { plan: 'pro' } })).token;
  }
  return tokens;
}

/** A few validations outside the timed loop, so a broken setup cannot pass as a fast one. */
async function expectValid(sessions, tokens) {
  for (const i of [0, 1, tokens.length >> 1, tokens.length - 1]) {
    const s = await sessions.validate(tokens[i]);
    if (s.userId !== `user${i}`) throw new Error(`validate returned the wrong session for token ${i}`);
  }
}

/** `<prefix>_<id>.<secret>` → { id, secret }. */
function splitToken(token) {
  const body = token.slice(token.indexOf('_') + 1);
  const dot = body.indexOf('.');
  return { id: body.slice(0, dot), secret: body.slice(dot + 1) };
}

/** `crypto.hash` where node has it (20.12+), else a Hash object: as in src/tokens/opaque.ts. */
const sha256Hex = typeof crypto.hash === 'function'
  ? (s) => crypto.hash('sha256', s, 'hex')
  : (s) => createHash('sha256').update(s).digest('hex');

/**
 * Sessions looked up per SQLite phase (the hot set): the same number at 10k and at 1M stored, and
 * small enough to stay in SQLite's page cache (16 MiB by default) in both, so the comparison shows
 * what the table's size costs. A wider hot set at 1M is measured too, for information.
 */
const SQLITE_HOT = 1_000;
const SQLITE_WIDE = 20_000;
const SQLITE_TOTAL = Number(process.env.BENCH_SQLITE_SESSIONS ?? 1_000_000);

/**
 * SQLite: 10,000 sessions created through the API, measured; then grown to 1,000,000 by a bulk
 * insert on another connection, measured again. Each phase validates tokens of the hot set next
 * to the SQLite floor (a bare prepared primary-key SELECT of the same ids on that second
 * connection) and the store's own `get(id)`.
 */
async function sqliteBench(log) {
  const { createSessionManager } = await import(new URL('index.js', dist).href);
  const { sqliteStore } = await import(new URL('stores/sqlite.js', dist).href);
  const Database = require('better-sqlite3');
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-'));
  const path = join(dir, 'sessions.db');
  // synchronous 'normal' only makes the set-up's commits skip the fsync; reads are the same.
  const store = sqliteStore({ path, synchronous: 'normal' });
  const sessions = createSessionManager({ store });
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  const select = raw.prepare('SELECT * FROM sessions WHERE id = ?');
  const label = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
  try {
    let started = performance.now();
    const tokens = await createSessions(sessions, SESSIONS);
    log(`\nSQLite (file in ${tmpdir()}): ${SESSIONS.toLocaleString('en-US')} sessions created through sessions.create() in ${seconds(started)} s`);
    const small = await sqlitePhase(sessions, store, select, tokens.slice(-SQLITE_HOT), `${label(SESSIONS)} stored`);

    started = performance.now();
    // The bulk insert gets its own connection with a large page cache and no fsync, closed
    // afterwards: the floor's connection keeps the default cache, like the store's.
    const bulk = new Database(path);
    bulk.pragma('synchronous = OFF');
    bulk.pragma('cache_size = -262144');
    const fresh = bulkInsert(bulk, SQLITE_TOTAL - SESSIONS, SQLITE_WIDE);
    bulk.pragma('wal_checkpoint(TRUNCATE)');
    bulk.close();
    log(`grown to ${SQLITE_TOTAL.toLocaleString('en-US')} sessions by a bulk insert (third connection, 50,000 rows per transaction) in ${seconds(started)} s`);
    const large = await sqlitePhase(sessions, store, select, fresh.slice(-SQLITE_HOT), `${label(SQLITE_TOTAL)} stored`);
    const wide = await sqlitePhase(sessions, store, select, fresh, `${label(SQLITE_TOTAL)} stored, ${label(SQLITE_WIDE)} hot`, false);

    printTable(log, [small.floor, small.get, small.validate, large.floor, large.get, large.validate, wide.floor, wide.validate],
      { title: `SQLite store: ${label(SESSIONS)} and ${label(SQLITE_TOTAL)} sessions stored, ${SQLITE_HOT.toLocaleString('en-US')} of them looked up (the hot set)` });
    printTargets(log, [
      { label: `validate / SQLite floor, ${label(SQLITE_TOTAL)} stored`, value: large.validate.opsPerSec / large.floor.opsPerSec, min: 0.6 },
      { label: `validate at ${label(SQLITE_TOTAL)} / at ${label(SESSIONS)} stored`, value: large.validate.opsPerSec / small.validate.opsPerSec, min: 0.8 },
      { label: `(reference) validate / SQLite floor, ${label(SESSIONS)} stored`, value: small.validate.opsPerSec / small.floor.opsPerSec, min: 0.6 },
      { label: `(reference) validate / SQLite floor, ${label(SQLITE_TOTAL)} stored, ${label(SQLITE_WIDE)} hot`, value: wide.validate.opsPerSec / wide.floor.opsPerSec, min: 0.6 },
    ]);
  } finally {
    raw.close();
    await sessions.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Validations of `tokens`, next to the bare SELECT (and the store's get) of the same ids. */
async function sqlitePhase(sessions, store, select, tokens, phase, withGet = true) {
  const n = tokens.length;
  const ids = tokens.map((t) => splitToken(t).id);
  await expectValidSome(sessions, tokens);
  const entries = [
    { name: `SQLite floor, ${phase}`, fn: (i) => select.get(ids[i % n]) },
    { name: `sqlite validate, ${phase}`, fn: (i) => sessions.validate(tokens[i % n]), options: { concurrency: CONCURRENCY } },
  ];
  if (withGet) entries.push({ name: `store.get(id), ${phase}`, fn: (i) => store.get(ids[i % n]), options: { concurrency: CONCURRENCY } });
  const [floor, validate, get] = await measureAll(entries, { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
  await expectValidSome(sessions, tokens);
  floor.note = 'prepared SELECT * FROM sessions WHERE id = ?, sync';
  validate.note = 'sessionkit validate(token), sqliteStore()';
  validate.vs = floor.name;
  if (get) {
    get.note = 'the store\'s read alone (row → record), awaited';
    get.vs = floor.name;
  }
  return { floor, validate, get };
}

/**
 * Adds `count` sessions in 50,000-row transactions, each row shaped like one the store wrote (its
 * body JSON with a new secret hash and user), and returns tokens for the last `keep` of them. Those
 * are inserted last, so their lastSeenAt is fresh when they are measured (with the default
 * touchInterval of 60 s they write nothing); their random ids still spread them over the table.
 */
function bulkInsert(db, count, keep) {
  const template = db.prepare('SELECT * FROM sessions LIMIT 1').get();
  // The template's JSON with its secret hash cut out: each row only splices its own hash in.
  const [head, tail] = JSON.stringify({ ...JSON.parse(template.body), secretHash: '@HASH@' }).split('@HASH@');
  const insert = db.prepare(`INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason, version, body)
    VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 1, ?)`);
  const idle = 30 * 60_000;
  const absolute = 8 * 3_600_000;
  const kept = [];
  const batch = 50_000;
  for (let done = 0; done < count; done += batch) {
    const rows = Math.min(batch, count - done);
    const bytes = crypto.randomBytes(rows * 64);
    db.transaction(() => {
      const t = Date.now();
      for (let k = 0; k < rows; k += 1) {
        const id = bytes.subarray(k * 64, k * 64 + 32).toString('base64url');
        const secret = bytes.subarray(k * 64 + 32, k * 64 + 64).toString('base64url');
        insert.run(id, `user${SESSIONS + done + k}`, t, t, t + idle, t + absolute, head + sha256Hex(secret) + tail);
        if (count - (done + k) <= keep) kept.push(`sk_${id}.${secret}`);
      }
    })();
  }
  return kept;
}

async function expectValidSome(sessions, tokens) {
  for (const i of [0, 1, tokens.length >> 1, tokens.length - 1]) {
    const s = await sessions.validate(tokens[i]);
    if (!s.userId.startsWith('user')) throw new Error(`validate returned an unexpected session for token ${i}`);
  }
}

function seconds(since) {
  return ((performance.now() - since) / 1000).toFixed(1);
}
