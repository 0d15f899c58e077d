// Redis store: validations per second through the session manager next to express-session's
// connect-redis@9 `get` (node-redis 5, JSON.parse included) on the same Redis server, with the same
// number of calls in flight for every row and 1,000 sessions read round-robin by each; round trips
// per validate and per create (commands the server receives, watched with MONITOR); Redis memory per
// session (`used_memory` delta over 100,000 sessions, each in its user's index) next to connect-redis.
//
// The server: BENCH_REDIS_URL if set, else a redis-server this module starts on a free port (so the
// memory figures and MONITOR see nothing else), else it is skipped.
// Run: `npm run build && node bench/run.mjs redis` (BENCH_DIST=<absolute dir> reads another build).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectGarbage, freePort, formatNumber, measureAll, printTable, printTargets } from './lib.mjs';

const require = createRequire(import.meta.url);
const dist = process.env.BENCH_DIST ? pathToFileURL(`${resolve(process.env.BENCH_DIST)}/`) : new URL('../dist/', import.meta.url);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const TOKENS = 1_000;
const MEMORY_SESSIONS = Number(process.env.BENCH_REDIS_MEMORY_SESSIONS ?? 100_000);
const DEVICE = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7' };
const SECRET = 'redis-benchmark-secret-0123456789abcdef';

export async function run({ log }) {
  const server = await redisServer(log);
  if (!server) return;
  const { Redis } = require('ioredis');
  const { createClient } = require('redis');
  const { RedisStore } = await import('connect-redis');
  const { createSessionManager } = await import(new URL('index.js', dist).href);
  const { redisStore } = await import(new URL('stores/redis.js', dist).href);
  const admin = new Redis(server.url);
  const nodeRedis = createClient({ url: server.url });
  nodeRedis.on('error', () => {});
  await nodeRedis.connect();
  const store = await redisStore({ url: server.url, prefix: 'skb:' });
  try {
    log(`server ${server.label}; ${CONCURRENCY} calls in flight; ${TOKENS} sessions read round-robin; default touchInterval (60 s),`);
    log(`so a validation reads once and writes nothing. ${ROUNDS} rounds of ${(SECONDS / ROUNDS).toFixed(1)} s per operation, alternating; the best round counts.`);
    const sessions = createSessionManager({ store, secret: SECRET, maxSessionsPerUser: 10 });
    const tokens = [];
    for (let i = 0; i < TOKENS; i += 1) tokens.push((await sessions.create({ userId: `user-${i}`, roles: ['user'], device: DEVICE })).token);
    const connectStore = new RedisStore({ client: nodeRedis, prefix: 'cr:' });
    const sids = tokens.map((_, i) => `sid-${i}`);
    for (const sid of sids) await connectStore.set(sid, expressSession(sid));
    await admin.set('floor', 'x'.repeat(250));

    const ioredis = new Redis(server.url, { enableAutoPipelining: true });
    const ids = tokens.map((t) => t.slice(t.indexOf('_') + 1, t.indexOf('.')));
    const crKeys = sids.map((sid) => `cr:${sid}`);
    // The store's read lane on its own (the same connection type `store.get` uses), reading the
    // record keys without decoding them: the ceiling of any validation through this store.
    const { getLane } = await import(new URL('stores/redis/get-lane.js', dist).href);
    const { hostname, port } = new URL(server.url);
    const lane = getLane({ open: () => netConnect(Number(port), hostname), db: 0, timeout: 2000, down: () => null });
    const recordKeys = ids.map((id) => `skb:{${id.slice(0, 11)}}:s:${id.slice(11)}`);
    if (typeof (await lane.get(recordKeys[0])) !== 'string') throw new Error('the read-lane row would read missing keys');
    const [floor, connect, io, bareLane, get, mine] = await measureAll([
      { name: 'node-redis GET (floor)', fn: (i) => nodeRedis.get(crKeys[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      { name: 'connect-redis get', fn: (i) => connectStore.get(sids[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      { name: 'ioredis GET (auto-pipelined)', fn: (i) => ioredis.get(crKeys[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      { name: 'read lane GET, no decode (reference)', fn: (i) => lane.get(recordKeys[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      { name: 'sessionkit store.get', fn: (i) => store.get(ids[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      { name: 'sessionkit validate', fn: (i) => sessions.validate(tokens[i % TOKENS]), options: { concurrency: CONCURRENCY } },
    ], { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
    ioredis.disconnect();
    lane.close();
    mine.vs = connect.name;
    get.vs = connect.name;
    bareLane.vs = connect.name;
    connect.vs = floor.name;
    printTable(log, [floor, connect, io, bareLane, get, mine], { title: 'validations per second (Redis)', baseline: floor.name });
    const spread = (r) => `${formatNumber(Math.min(...r.rounds))}-${formatNumber(Math.max(...r.rounds))}`;
    log(`\nrounds (min-max ops/s): ${[floor, connect, io, bareLane, get, mine].map((r) => `${r.name} ${spread(r)}`).join('; ')}`);

    // Round trips: the commands the server receives from clients (MONITOR; a script's own commands left out).
    const monitor = await watchCommands(admin);
    const perValidate = await roundTrips(monitor, 1000, (i) => sessions.validate(tokens[i % TOKENS]));
    const perCreate = await roundTrips(monitor, 1000, (i) => sessions.create({ userId: `rt-${i % 50}`, device: DEVICE }));
    const perRevoke = await roundTrips(monitor, 200, async (i) => {
      const s = await store.listForUser(`rt-${i % 50}`, Date.now());
      if (s[0]) await store.revoke(s[0].id, { reason: 'logout', at: Date.now(), events: [] });
    });
    monitor.stop();
    log(`\nround trips: validate ${perValidate.toFixed(2)}, create ${perCreate.toFixed(2)} (with the per-user limit), list + revoke ${perRevoke.toFixed(2)}`);

    // Memory: a clean database per measurement.
    const memory = [];
    for (const perUser of MEMORY_SESSIONS > 0 ? [1, 10] : []) {
      await admin.flushall();
      const freshStore = await redisStore({ url: server.url, prefix: 'skm:' });
      const m = createSessionManager({ store: freshStore, secret: SECRET, maxSessionsPerUser: 20 });
      const bytes = await usedMemoryDelta(admin, async () => {
        await inFlight(MEMORY_SESSIONS, CONCURRENCY, (i) => m.create({ userId: `member-${Math.floor(i / perUser)}@example.com`, roles: ['user'], device: DEVICE }));
      });
      // The audit trail (one chained `session.created` event per session) is measured apart: connect-redis keeps none.
      const auditBytes = Number(await admin.call('MEMORY', 'USAGE', 'skm:{a}:log', 'SAMPLES', '0'));
      memory.push({ label: `sessionkit, ${perUser} session(s) per user`, perSession: (bytes - auditBytes) / MEMORY_SESSIONS,
        auditPerEvent: auditBytes / MEMORY_SESSIONS, recordBytes: await recordBytes(admin) });
      await freshStore.close();
    }
    // The layout's floor, with no session data at all: per session a key named like ours holding one
    // byte, and per user a one-member sorted set named like our index, each with its PEXPIREAT.
    if (MEMORY_SESSIONS > 0) {
      await admin.flushall();
      const at = String(Date.now() + 3_600_000);
      const floorBytes = await usedMemoryDelta(admin, async () => {
        for (let start = 0; start < MEMORY_SESSIONS; start += 1000) {
          const batch = admin.pipeline();
          for (let i = start; i < Math.min(start + 1000, MEMORY_SESSIONS); i += 1) {
            const tag = `t${String(i).padStart(10, '0')}`;
            const rest = `r${String(i).padStart(31, '0')}`;
            batch.set(`skm:{${tag}}:s:${rest}`, 'x', 'PXAT', at);
            batch.zadd(`skm:{${tag}}:u`, '1', rest);
            batch.pexpireat(`skm:{${tag}}:u`, at);
          }
          await batch.exec();
        }
      });
      memory.push({ label: 'floor, no session data: a 1-byte key per session + a one-member index per user, both with expiry', perSession: floorBytes / MEMORY_SESSIONS, recordBytes: 1 });
    }
    if (MEMORY_SESSIONS > 0) await admin.flushall();
    const sample = JSON.stringify(expressSession('sid-x'));
    const crBytes = MEMORY_SESSIONS === 0 ? 0 : await usedMemoryDelta(admin, async () => {
      await inFlight(MEMORY_SESSIONS, CONCURRENCY, (i) => connectStore.set(`s${i}-${'x'.repeat(24)}`, expressSession(`s${i}`)));
    });
    if (MEMORY_SESSIONS > 0) memory.push({ label: `connect-redis (${sample.length}-byte session JSON)`, perSession: crBytes / MEMORY_SESSIONS, recordBytes: sample.length });
    log(`\n### Redis memory per session (${formatNumber(MEMORY_SESSIONS)} sessions, used_memory delta)\n`);
    log('| store | bytes per session (record + user index) | stored value bytes | audit stream bytes per event |');
    log('| --- | ---: | ---: | ---: |');
    for (const r of memory) log(`| ${r.label} | ${r.perSession.toFixed(0)} | ${r.recordBytes} | ${r.auditPerEvent === undefined ? 'none kept' : r.auditPerEvent.toFixed(0)} |`);

    printTargets(log, [
      { label: 'sessionkit validate / connect-redis get', value: mine.opsPerSec / connect.opsPerSec, min: 1.5 },
      { label: 'round trips per validate', value: perValidate, max: 1 },
      { label: 'round trips per create', value: perCreate, max: 1 },
      ...(memory[0] ? [{ label: 'bytes per session (1 per user) / 400', value: memory[0].perSession / 400, max: 1 }] : []),
    ], { title: 'targets' });
  } finally {
    await admin.flushall().catch(() => {});
    await store.close();
    await nodeRedis.quit().catch(() => {});
    admin.disconnect();
    server.stop();
  }
}

/** An express-session record as connect-redis stores it (cookie + a user id). */
function expressSession(sid) {
  return { cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000).toISOString(), secure: true, httpOnly: true, path: '/', sameSite: 'lax' }, userId: `user-${sid}` };
}

/** Counts the commands clients send, as MONITOR reports them (an ECHO marker on another connection ends each count). */
async function watchCommands(admin) {
  const markers = admin.duplicate();
  await markers.ping();
  const monitor = await admin.monitor();
  let seen = 0;
  let marker = null;
  monitor.on('monitor', (_time, args, source) => {
    if (source === 'lua') return;
    if (String(args[0]).toLowerCase() === 'echo' && marker && args[1] === marker.name) marker.resolve();
    else seen += 1;
  });
  let n = 0;
  return {
    /** Resolves once every command sent before it has been reported; returns the count so far. */
    async settle() {
      const name = `mark-${(n += 1)}`;
      await new Promise((resolve) => {
        marker = { name, resolve };
        void markers.echo(name);
      });
      return seen;
    },
    stop() {
      monitor.disconnect();
      markers.disconnect();
    },
  };
}

async function roundTrips(monitor, n, fn) {
  await fn(0);
  const before = await monitor.settle();
  for (let i = 1; i <= n; i += 1) await fn(i);
  return ((await monitor.settle()) - before) / n;
}

async function inFlight(total, concurrency, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await fn(next++);
  }));
}

async function usedMemory(admin) {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function usedMemoryDelta(admin, work) {
  const before = await usedMemory(admin);
  await work();
  return (await usedMemory(admin)) - before;
}

async function recordBytes(admin) {
  const [, keys] = await admin.scan('0', 'MATCH', 'skm:{*}:s:*', 'COUNT', 100);
  const value = keys[0] ? await admin.get(keys[0]) : '';
  return Buffer.byteLength(value ?? '');
}


/** BENCH_REDIS_URL, or a redis-server of our own (no persistence), or null (skipped). */
async function redisServer(log) {
  if (process.env.BENCH_REDIS_URL) return { url: process.env.BENCH_REDIS_URL, label: process.env.BENCH_REDIS_URL, stop: () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('skipped: no redis-server on the PATH and BENCH_REDIS_URL is not set');
    return null;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i += 1) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1];
  return {
    url: `redis://127.0.0.1:${port}`,
    label: `redis-server ${version} started by this module on port ${port} (no persistence)`,
    stop: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
