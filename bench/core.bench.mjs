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
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as crypto from 'node:crypto';
import { collectGarbage, measureAll, printTable, printTargets } from './lib.mjs';

const require = createRequire(import.meta.url);
/** The built library; BENCH_DIST points elsewhere to compare two builds. */
const dist = process.env.BENCH_DIST ? new URL(`file://${process.env.BENCH_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);

const SESSIONS = 10_000;
/** Seconds per operation, split into ROUNDS alternating rounds (the best round counts). */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** In-flight validations per measurement: a server has several requests open at once. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DEVICE = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7' };

export async function run({ log }) {
  log(`validations per second: each operation runs ${ROUNDS} rounds of ${(SECONDS / ROUNDS).toFixed(1)} s (after warm-up),`);
  log(`alternating with the others; the best round counts. ${CONCURRENCY} async calls in flight (the sync floors: 1).`);
  await memoryBench(log);
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
  const validateOp = (i) => sessions.validate(tokens[i % SESSIONS]);
  const expressOp = await expressSessionOp(SESSIONS);

  await expectValid(sessions, tokens);
  const [floor, memory, peer] = await measureAll([
    { name: 'floor', fn: floorOp },
    { name: 'memory validate', fn: validateOp, options: { concurrency: CONCURRENCY } },
    { name: 'express-session', fn: expressOp, options: { concurrency: CONCURRENCY } },
  ], { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
  await expectValid(sessions, tokens);
  floor.note = 'sha256(secret) + Map.get, sync';
  memory.note = 'sessionkit validate(token), memoryStore()';
  peer.note = 'cookie-signature unsign + express-session MemoryStore.get';

  printTable(log, [floor, memory, peer], { title: `memory store, ${SESSIONS.toLocaleString('en-US')} sessions`, baseline: floor.name });
  printTargets(log, [
    { label: 'memory validate / floor', value: memory.opsPerSec / floor.opsPerSec, min: 0.6 },
    { label: 'memory validate / express-session', value: memory.opsPerSec / peer.opsPerSec, min: 2 },
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

// Used by the SQLite part (added when the SQLite store lands).
void existsSync;
void mkdtempSync;
void rmSync;
void tmpdir;
void join;
