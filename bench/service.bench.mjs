// The session service over HTTP: requests per second of `GET /v1/sessions/current` (Bearer
// session token) and `POST /v1/sessions/validate` (API key + JSON body) on the memory, SQLite and
// Redis stores, next to a bare Fastify route returning the same JSON (no session work at all).
//
// Every server is its own process: the service is the real `sessionkit serve` (dist/cli/index.js,
// log level warn so the comparison is not about log lines), the bare routes run from this file
// with `--serve-bare`. autocannon drives them from this process. Rounds alternate between the
// variants and the best round counts, so a noisy neighbour hurts all of them alike.
//
// One reference row, "library GET": the bare route behind sessionkit's own Fastify plugin
// (sessionkit/fastify, memory store, `requireSession`), answering the same JSON. It is the least
// any service route that validates a session token costs; the service adds what shared/API.md asks
// of every request on top (request ids, metrics, rate limiting, security headers, audit).
//
// Target (issue 6, point 8): on the memory store, each service route ≥ 0.7x the bare route.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, printTargets } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_KEY = `bench-admin-${randomBytes(16).toString('hex')}`;
const DEVICE = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7' };

if (process.argv[2] === '--serve-bare' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await serveBare(JSON.parse(process.argv[3]));
}
if (process.argv[2] === '--serve-library' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await serveLibrary(JSON.parse(process.argv[3]));
}

export async function run({ log }) {
  const { default: autocannon } = await import('autocannon');
  log(`HTTP requests per second, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${(SECONDS / ROUNDS).toFixed(1)} s per variant (best counts).`);
  log('Service processes run `sessionkit serve --log-level warn`; the bare Fastify route returns the same JSON without any session work.');
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-service-'));
  const children = [];
  const redisPrefix = `bench${randomBytes(4).toString('hex')}`;
  try {
    const stores = [
      ['memory', ['--store', 'memory:']],
      ['sqlite', ['--store', `sqlite:${join(dir, 'bench.db')}`]],
    ];
    if (await reachable(REDIS_URL)) {
      stores.push(['redis', ['--store', REDIS_URL, '--store-prefix', redisPrefix, '--master-key', randomBytes(32).toString('base64')]]);
    } else {
      log(`(Redis part skipped: nothing answers at ${REDIS_URL})`);
    }
    const services = [];
    for (const [name, args] of stores) {
      const service = await startService(args);
      children.push(service.child);
      const created = await (await fetch(`${service.url}/v1/sessions`, {
        method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'bench-user', roles: ['user'], device: DEVICE }),
      })).json();
      services.push({ name, url: service.url, token: created.token, pid: service.child.pid });
    }
    // The bare server answers with exactly the body the service sends for /v1/sessions/current.
    const sample = await (await fetch(`${services[0].url}/v1/sessions/current`, { headers: { authorization: `Bearer ${services[0].token}` } })).json();
    const bare = await startBare(sample);
    children.push(bare.child);
    const library = await startLibrary(sample);
    children.push(library.child);
    const libraryToken = (await (await fetch(`${library.url}/login`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } })).json()).token;

    const variants = [
      { name: 'bare GET', pid: bare.child.pid, url: `${bare.url}/current`, method: 'GET', headers: { authorization: `Bearer ${services[0].token}` } },
      { name: 'bare POST', pid: bare.child.pid, url: `${bare.url}/validate`, method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ token: services[0].token }) },
      { name: 'library GET', pid: library.child.pid, vs: 'bare GET', url: `${library.url}/current`, method: 'GET', headers: { authorization: `Bearer ${libraryToken}` } },
    ];
    for (const s of services) {
      variants.push({ name: `${s.name} current`, pid: s.pid, vs: 'bare GET', url: `${s.url}/v1/sessions/current`, method: 'GET', headers: { authorization: `Bearer ${s.token}` } });
      variants.push({ name: `${s.name} validate`, pid: s.pid, vs: 'bare POST', url: `${s.url}/v1/sessions/validate`, method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ token: s.token }) });
    }
    const best = new Map();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const v of variants) {
        const before = cpuTicks(v.pid);
        const r = await cannon(autocannon, v, SECONDS / ROUNDS);
        const cpu = cpuTicks(v.pid) - before;
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${v.name}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
        // Server CPU per request (Linux /proc, 10 ms ticks): comparable even when other processes load the machine.
        const cpuUs = Number.isFinite(cpu) && r.requests.total > 0 ? (cpu * 10_000) / r.requests.total : NaN;
        const row = { name: v.name, vs: v.vs, opsPerSec: r.requests.average, p50Us: r.latency.p50 * 1000, p99Us: r.latency.p99 * 1000, note: Number.isFinite(cpuUs) ? `${cpuUs.toFixed(0)} µs server CPU/request` : '' };
        if (!best.has(v.name) || best.get(v.name).opsPerSec < row.opsPerSec) best.set(v.name, row);
      }
    }
    const rows = variants.map((v) => best.get(v.name));
    printTable(log, rows, { title: 'session service over HTTP (requests/s; latency as autocannon measures it, µs)' });
    const ratio = (a, b) => best.get(a).opsPerSec / best.get(b).opsPerSec;
    return printTargets(log, [
      { label: 'memory current / bare GET', value: ratio('memory current', 'bare GET'), min: 0.7 },
      { label: 'memory validate / bare POST', value: ratio('memory validate', 'bare POST'), min: 0.7 },
      { label: 'library GET / bare GET (reference)', value: ratio('library GET', 'bare GET') },
    ], { title: 'targets (issue 6)' });
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    rmSync(dir, { recursive: true, force: true });
    if (await reachable(REDIS_URL)) await cleanRedis(redisPrefix).catch(() => {});
  }
}

/** utime + stime of a process in clock ticks, or NaN off Linux. */
function cpuTicks(pid) {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return NaN;
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function cannon(autocannon, v, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url: v.url, method: v.method, headers: v.headers, body: v.body, connections: CONNECTIONS, duration: seconds }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Starts `sessionkit serve` on a free port and resolves with its URL. */
function startService(args) {
  const child = spawn(process.execPath, [join(root, 'dist', 'cli', 'index.js'), 'serve', '--port', '0', '--log-level', 'warn', '--admin-key', ADMIN_KEY, ...args], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(),
  });
  return waitForUrl(child, /^sessionkit listening on (http:\/\/\S+)$/m);
}

function startBare(body) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-bare', JSON.stringify(body)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return waitForUrl(child, /^bare listening on (http:\/\/\S+)$/m);
}

function startLibrary(body) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-library', JSON.stringify(body)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return waitForUrl(child, /^library listening on (http:\/\/\S+)$/m);
}

function waitForUrl(child, pattern) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      const url = pattern.exec(out)?.[1];
      if (url) resolve({ url, child });
    });
    child.stderr.on('data', (d) => { err += d; });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}${err}`)));
  });
}

/** A bare Fastify 5 server: the same JSON, no session work, no logging. */
async function serveBare(body) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/current', async () => body);
  app.post('/validate', async (request, reply) => {
    if (typeof request.body?.token !== 'string') return reply.code(400).send({ error: 'invalid_request' });
    return body;
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`bare listening on ${url}\n`);
  process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
}

/**
 * The "library GET" reference: the bare route behind sessionkit's Fastify plugin on a memory store.
 * `POST /login` creates the session and answers its token in the body (never printed).
 */
async function serveLibrary(body) {
  const { default: Fastify } = await import('fastify');
  const { createSessionManager, memoryStore } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const { sessionkitFastify } = await import(pathToFileURL(join(root, 'dist', 'http', 'adapters', 'fastify.js')).href);
  const sessions = createSessionManager({ store: memoryStore() });
  const app = Fastify({ logger: false });
  await app.register(sessionkitFastify, { sessions });
  app.post('/login', async () => ({ token: (await sessions.create({ userId: 'bench-user', roles: ['user'], device: DEVICE })).token }));
  app.get('/current', { preHandler: app.requireSession }, async () => body);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`library listening on ${url}\n`);
  process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
}

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SESSIONKIT_')) env[k] = v;
  return env;
}

function reachable(address) {
  const url = new URL(address);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function cleanRedis(prefix) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
