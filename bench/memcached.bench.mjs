// Memcached store: validations per second through the session manager on Memcached (one server, and
// two servers behind the consistent-hash ring), next to the same validation on the Redis store and
// the bare client reads under each (memcache-client GET, ioredis GET), all in this one process and
// run; plus round trips per validate and per create, counted at the Memcached client.
//
// Servers: memcached processes this module starts on free ports (BENCH_MEMCACHED_SERVERS=h:p,h:p
// to use others), and a redis-server it starts (BENCH_REDIS_URL to use another). Without a
// memcached binary the module is skipped; without Redis the Redis rows are left out.
// Run: `npm run build && node bench/run.mjs memcached`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectGarbage, freePort, measureAll, printTable, printTargets } from './lib.mjs';

const require = createRequire(import.meta.url);
const dist = process.env.BENCH_DIST ? new URL(`file://${process.env.BENCH_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const TOKENS = 1_000;
const DEVICE = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7' };
const SECRET = 'memcached-benchmark-secret-0123456789abcdef';

export async function run({ log }) {
  const cleanup = [];
  try {
    const memcached = await memcachedServers(log, cleanup);
    if (!memcached) return;
    const redis = await redisServer(cleanup);
    const { createSessionManager } = await import(new URL('index.js', dist).href);
    const { memcachedStore } = await import(new URL('stores/memcached.js', dist).href);
    const { sqliteStore } = await import(new URL('stores/sqlite.js', dist).href);
    const { MemcacheClient } = require('memcache-client');
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-memcached-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));

    const open = async (servers, name) => {
      const store = await memcachedStore({ servers, prefix: `b${name}:`, audit: sqliteStore({ path: join(dir, `${name}.db`), synchronous: 'normal' }) });
      cleanup.push(() => store.close());
      return store;
    };
    const one = await open(memcached.servers.slice(0, 1), 'one');
    const two = memcached.servers.length > 1 ? await open(memcached.servers, 'two') : null;
    const prepare = async (store) => {
      const sessions = createSessionManager({ store, secret: SECRET, maxSessionsPerUser: 10 });
      const tokens = [];
      for (let i = 0; i < TOKENS; i += 1) tokens.push((await sessions.create({ userId: `user-${i}`, roles: ['user'], device: DEVICE })).token);
      return { sessions, tokens };
    };
    const onOne = await prepare(one);
    const onTwo = two ? await prepare(two) : null;
    const floorClient = new MemcacheClient({ server: memcached.servers[0], noDelay: true });
    cleanup.push(() => floorClient.shutdown());
    await floorClient.set('floor', 'x'.repeat(250), { lifetime: 3600 });
    await floorClient.set('floor2', JSON.stringify({ 'user-1': [['x'.repeat(32), Date.now(), Date.now()]] }), { lifetime: 3600 });

    let onRedis = null;
    let ioredis = null;
    if (redis) {
      const { redisStore } = await import(new URL('stores/redis.js', dist).href);
      const store = await redisStore({ url: redis.url, prefix: 'bmc:' });
      cleanup.push(() => store.close());
      onRedis = await prepare(store);
      ioredis = store.client;
      await ioredis.set('bmc:floor', 'x'.repeat(250));
    }

    log(`memcached: ${memcached.label}; redis: ${redis ? redis.label : 'none (rows left out)'}`);
    log(`${CONCURRENCY} calls in flight; ${TOKENS} sessions read round-robin; default touchInterval (60 s), so a validation reads`);
    log(`once and writes nothing. ${ROUNDS} rounds of ${(SECONDS / ROUNDS).toFixed(1)} s per operation, alternating; the best round counts.`);
    const entries = [
      { name: 'memcache-client GET (floor)', fn: () => floorClient.get('floor'), options: { concurrency: CONCURRENCY } },
      // What a validation reads: the record and the user's index, in one multi-key get.
      { name: 'memcache-client GET of 2 keys', fn: () => floorClient.get(['floor', 'floor2']), options: { concurrency: CONCURRENCY } },
      { name: 'validate, Memcached (1 server)', fn: (i) => onOne.sessions.validate(onOne.tokens[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      ...(onTwo ? [{ name: 'validate, Memcached (2 servers, ring)', fn: (i) => onTwo.sessions.validate(onTwo.tokens[i % TOKENS]), options: { concurrency: CONCURRENCY } }] : []),
      ...(onRedis ? [
        { name: 'ioredis GET (floor)', fn: () => ioredis.get('bmc:floor'), options: { concurrency: CONCURRENCY } },
        { name: 'validate, Redis', fn: (i) => onRedis.sessions.validate(onRedis.tokens[i % TOKENS]), options: { concurrency: CONCURRENCY } },
      ] : []),
    ];
    const results = await measureAll(entries, { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
    const byName = new Map(results.map((r) => [r.name, r]));
    const mcFloor = byName.get('memcache-client GET (floor)');
    const mine = byName.get('validate, Memcached (1 server)');
    const ring = byName.get('validate, Memcached (2 servers, ring)');
    const onRedisRow = byName.get('validate, Redis');
    mine.vs = 'memcache-client GET of 2 keys';
    byName.get('memcache-client GET of 2 keys').vs = mcFloor.name;
    if (ring) ring.vs = mine.name;
    if (onRedisRow) onRedisRow.vs = 'ioredis GET (floor)';
    printTable(log, results, { title: 'validations per second (Memcached next to Redis)', baseline: mcFloor.name });

    const sent = countCommands(one);
    const perValidate = await roundTrips(sent, 500, (i) => onOne.sessions.validate(onOne.tokens[i % TOKENS]));
    const perCreate = await roundTrips(sent, 200, (i) => onOne.sessions.create({ userId: `rt-${i % 20}`, device: DEVICE }));
    log(`\nMemcached commands per operation (one server): validate ${perValidate.toFixed(2)}, create ${perCreate.toFixed(2)} (limit 10 per user, so most creates also evict one)`);
    printTargets(log, [
      ...(onRedisRow ? [{ label: 'validate on Memcached / validate on Redis', value: mine.opsPerSec / onRedisRow.opsPerSec, min: 0.8 }] : []),
      { label: 'Memcached commands per validate', value: perValidate, max: 1 },
    ], { title: 'targets' });
  } finally {
    for (const step of cleanup.reverse()) {
      try {
        await step();
      } catch {
        // keep cleaning up
      }
    }
  }
}

/** Counts the commands the store sends (wraps every server's client of the store). */
function countCommands(store) {
  const counter = { n: 0 };
  // The store keeps its per-server clients private; count at memcache-client's socket writes instead.
  const { MemcacheClient } = require('memcache-client');
  const original = MemcacheClient.prototype.xsend;
  MemcacheClient.prototype.xsend = function counted(...args) {
    counter.n += 1;
    return original.apply(this, args);
  };
  counter.restore = () => { MemcacheClient.prototype.xsend = original; };
  void store;
  return counter;
}

async function roundTrips(counter, n, fn) {
  await fn(0);
  const before = counter.n;
  for (let i = 1; i <= n; i += 1) await fn(i);
  return (counter.n - before) / n;
}


function answers(port, probe, expect) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(probe));
    socket.once('data', (d) => done(d.toString().includes(expect)));
  });
}

async function waitFor(port, probe, expect) {
  for (let i = 0; i < 200; i += 1) {
    if (await answers(port, probe, expect)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing answers on port ${port}`);
}

/** BENCH_MEMCACHED_SERVERS, or two memcached processes of our own, or null (skipped). */
async function memcachedServers(log, cleanup) {
  if (process.env.BENCH_MEMCACHED_SERVERS) {
    const servers = process.env.BENCH_MEMCACHED_SERVERS.split(',');
    return { servers, label: servers.join(', ') };
  }
  const binary = ['memcached', '/usr/bin/memcached'].find((b) => spawnSync(b, ['-V']).status === 0);
  if (!binary) {
    log('skipped: no memcached binary (apt-get install memcached) and BENCH_MEMCACHED_SERVERS is not set');
    return null;
  }
  const version = spawnSync(binary, ['-V'], { encoding: 'utf8' }).stdout.trim();
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  const servers = [];
  for (let i = 0; i < 2; i += 1) {
    const port = await freePort();
    const child = spawn(binary, ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '256', ...asRoot], { stdio: 'ignore' });
    cleanup.push(() => child.kill('SIGKILL'));
    await waitFor(port, 'version\r\n', 'VERSION');
    servers.push(`127.0.0.1:${port}`);
  }
  return { servers, label: `two ${version} processes started by this module (${servers.join(', ')})` };
}

/** BENCH_REDIS_URL, or a redis-server of our own (no persistence), or null. */
async function redisServer(cleanup) {
  if (process.env.BENCH_REDIS_URL) return { url: process.env.BENCH_REDIS_URL, label: process.env.BENCH_REDIS_URL };
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-mc-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  cleanup.push(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(port, 'PING\r\n', 'PONG');
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1];
  return { url: `redis://127.0.0.1:${port}`, label: `redis-server ${version} started by this module on port ${port} (no persistence)` };
}
