// HTTP overhead: requests per second of one protected route, with sessionkit's adapter, with no
// session handling at all (bare), and with the framework's usual session library, all on the
// memory store. Each server runs in its own child process (this file with `--serve <variant>`);
// autocannon drives it from this process, so load generator and server do not share a thread.
//
//   fastify bare          GET /protected answers { userId } without looking at any session
//   fastify + 2 empty preHandlers   the same with the hooks our plugin uses, doing nothing: the
//                         framework's own price for any plugin shaped like ours (reference)
//   fastify + sessionkit  the sessionkit plugin (preHandler) + app.requireSession
//   @fastify/session      @fastify/cookie + @fastify/session (MemoryStore), route checks session.user
//   fastify bare + one SHA-256      the bare route hashing the cookie's 43-character secret once: the
//                         one cost every validation of a stored-hash token must pay (reference)
//   fastify + sessionkit, validation free   the whole plugin with `sessions.validate` answering a
//                         ready Session: what the adapter and HTTP layer cost without the
//                         validation itself (reference)
//   express bare / express + 2 empty middlewares / express + sessionkit / express-session
//                         (MemoryStore), and the same two references: the same on Express 5
//
// Two figures per variant: requests/s as autocannon sees them, and requests per second of the
// server process's own CPU time (process.cpuUsage over the IPC channel, before and after each
// run), which stays comparable when other processes load the machine.
//
// Each client is logged in first (POST /login, as a browser would be) and sends that cookie: for
// sessionkit, the session cookie and the readable CSRF cookie, as a browser sends both.
// Targets (issue 5, point 7): sessionkit keeps ≥ 0.8x bare Fastify and ≥ 0.9x bare Express.
import { spawn } from 'node:child_process';
import { hash as cryptoHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { printTable, printTargets } from './lib.mjs';

const dist = process.env.BENCH_DIST ? new URL(`file://${process.env.BENCH_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
/** Seconds per measurement round, rounds per variant (alternating; the best round counts). */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const VARIANTS = ['fastify-bare', 'fastify-noop', 'fastify-hash', 'fastify-free', 'fastify-sessionkit', 'fastify-session',
  'express-bare', 'express-noop', 'express-hash', 'express-free', 'express-sessionkit', 'express-session'];
const LABELS = {
  'fastify-bare': 'fastify bare', 'fastify-noop': 'fastify + 2 empty preHandlers', 'express-noop': 'express + 2 empty middlewares', 'fastify-sessionkit': 'fastify + sessionkit', 'fastify-session': 'fastify + @fastify/session',
  'express-bare': 'express bare', 'express-sessionkit': 'express + sessionkit', 'express-session': 'express + express-session',
  'fastify-hash': 'fastify bare + one SHA-256', 'express-hash': 'express bare + one SHA-256',
  'fastify-free': 'fastify + sessionkit, validation free', 'express-free': 'express + sessionkit, validation free',
};
const SECRET = 'bench-secret-bench-secret-bench-secret!';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BARE_COOKIE = `__Host-sessionkit=sk_${'a'.repeat(43)}.${'b'.repeat(43)}; sessionkit-csrf=${'c'.repeat(43)}`;

if (process.argv[2] === '--serve' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await serve(process.argv[3]);
}

export async function run({ log }) {
  const { default: autocannon } = await import('autocannon');
  log(`requests/s of GET /protected, ${CONNECTIONS} connections, autocannon in the parent process, the server in a child;`);
  log(`${ROUNDS} alternating rounds of ${SECONDS} s per variant (after a 1 s warm-up), the best round counts.`);
  const servers = {};
  try {
    for (const variant of VARIANTS) servers[variant] = await start(variant);
    const best = {};
    const bestCpu = {};
    for (const variant of VARIANTS) await load(autocannon, servers[variant], 1);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const variant of VARIANTS) {
        const r = await load(autocannon, servers[variant], SECONDS);
        if (!best[variant] || r.opsPerSec > best[variant].opsPerSec) best[variant] = r;
        if (!bestCpu[variant] || r.perCpuSecond > bestCpu[variant].opsPerSec) bestCpu[variant] = { ...r, opsPerSec: r.perCpuSecond };
      }
    }
    const tables = (results, what) => {
      const row = (variant, vs) => ({ name: LABELS[variant], ...results[variant], ...(vs ? { vs: LABELS[vs] } : {}) });
      for (const [fw, title] of [['fastify', 'Fastify 5'], ['express', 'Express 5']]) {
        const bare = `${fw}-bare`;
        printTable(log, [row(bare), ...['noop', 'hash', 'free', 'sessionkit', 'session'].map((v) => row(`${fw}-${v}`, bare))], { title: `${title}, ${what}` });
      }
    };
    tables(best, 'requests/s measured by autocannon (memory stores)');
    // The server's own CPU time per request: unlike wall-clock rates, it does not move when other
    // processes compete for the cores, so its ratios hold on a busy machine.
    tables(bestCpu, 'requests per second of server CPU time (user + system)');
    const checks = (results, what) => {
      const ratio = (a, b) => results[a].opsPerSec / results[b].opsPerSec;
      return [
        { label: `fastify + sessionkit / fastify bare (${what})`, value: ratio('fastify-sessionkit', 'fastify-bare'), min: 0.8 },
        { label: `express + sessionkit / express bare (${what})`, value: ratio('express-sessionkit', 'express-bare'), min: 0.9 },
        { label: `@fastify/session / fastify bare (${what}, reference)`, value: ratio('fastify-session', 'fastify-bare') },
        { label: `express-session / express bare (${what}, reference)`, value: ratio('express-session', 'express-bare') },
        { label: `fastify + sessionkit, validation free / fastify bare (${what}, reference)`, value: ratio('fastify-free', 'fastify-bare') },
        { label: `express + sessionkit, validation free / express bare (${what}, reference)`, value: ratio('express-free', 'express-bare') },
        { label: `fastify bare + one SHA-256 / fastify bare (${what}, reference)`, value: ratio('fastify-hash', 'fastify-bare') },
        { label: `express bare + one SHA-256 / express bare (${what}, reference)`, value: ratio('express-hash', 'express-bare') },
      ];
    };
    printTargets(log, [...checks(best, 'req/s'), ...checks(bestCpu, 'per CPU s')], { title: 'targets' });
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGTERM');
  }
}

/** Starts one variant in a child process and logs a client in; resolves with its URL and cookie. */
export function start(variant) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--serve', variant], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
    child.stdout.on('data', async (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n')[0];
      if (!buffered.includes('\n')) return;
      child.stdout.removeAllListeners('data');
      try {
        const { port } = JSON.parse(line);
        const url = `http://127.0.0.1:${port}`;
        // A browser's login form is same-origin; sessionkit refuses a login that shows neither (login CSRF).
        const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } });
        if (res.status !== 200) throw new Error(`${variant}: login answered ${res.status}`);
        // The bare servers get a cookie of a session cookie's size too: browsers send it anyway,
        // and the bytes on the wire should not differ between the variants.
        const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') || BARE_COOKIE;
        const check = await fetch(`${url}/protected`, { headers: { cookie } });
        const body = await check.json();
        if (check.status !== 200 || body.userId !== 'u1') throw new Error(`${variant}: the protected route answered ${check.status} ${JSON.stringify(body)}`);
        resolve({ variant, url, cookie, child });
      } catch (err) {
        child.kill('SIGTERM');
        reject(err);
      }
    });
  });
}

/** The server process's CPU time so far (µs, user + system), asked over the IPC channel. */
function serverCpu(server) {
  return new Promise((resolve) => {
    server.child.once('message', (m) => resolve(m.cpu));
    server.child.send('cpu');
  });
}

export async function load(autocannon, server, seconds) {
  const cpuBefore = await serverCpu(server);
  const result = await autocannon({
    url: `${server.url}/protected`, connections: CONNECTIONS, duration: seconds,
    headers: { cookie: server.cookie },
  });
  const cpuUs = (await serverCpu(server)) - cpuBefore;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${server.variant}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return {
    opsPerSec: result.requests.total / (result.duration || seconds), perCpuSecond: result.requests.total / (cpuUs / 1e6),
    p50Us: result.latency.p50 * 1000, p99Us: result.latency.p99 * 1000,
  };
}

/** The child side: one server variant on an ephemeral port, its port printed as a JSON line. */
async function serve(variant) {
  const app = await (variant.startsWith('fastify') ? fastifyApp(variant) : expressApp(variant));
  const port = await app.listen();
  process.on('message', (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ cpu: user + system });
    }
  });
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

/**
 * The bare route's extra work in the "+ one SHA-256" rows: the hash a validation of a stored-hash
 * token cannot skip, of the 43 characters after `sk_<id>.` in the session cookie. Answers 'u1'.
 */
function hashSecretOf(cookie) {
  const secret = typeof cookie === 'string' ? cookie.slice(cookie.indexOf('.') + 1, cookie.indexOf('.') + 44) : '';
  return cryptoHash('sha256', secret, 'hex').length === 64 ? 'u1' : 'none';
}

/**
 * The "validation free" rows: `sessions.validate` answers the Session of the first
 * token it validated for real, so the row costs everything but the validation (no hash, no store
 * read, no checks). A reference only: nothing ships this way.
 */
function validationFree(sessions) {
  const real = sessions.validate;
  let ready = null;
  sessions.validate = (token, ctx) => (ready !== null ? Promise.resolve(ready) : real(token, ctx).then((s) => (ready = s)));
}

/** sessionkit's store for a variant: Redis for the `-redis` rows (a prefix of its own), else memory. */
async function benchStore(variant) {
  if (!variant.endsWith('-redis')) {
    const { memoryStore } = await import(new URL('index.js', dist).href);
    return memoryStore();
  }
  const { redisStore } = await import(new URL('stores/redis.js', dist).href);
  return redisStore({ url: REDIS_URL, prefix: `bench-http-${process.pid}:` });
}

/** connect-redis on node-redis, the store express-session and @fastify/session users put on Redis. */
async function connectRedisStore() {
  const { createClient } = await import('redis');
  const { RedisStore } = await import('connect-redis');
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  return new RedisStore({ client, prefix: `bench-http-peer-${process.pid}:` });
}

async function fastifyApp(variant) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (variant === 'fastify-bare') {
    app.post('/login', async () => ({ ok: true }));
    app.get('/protected', async () => ({ userId: 'u1' }));
  } else if (variant === 'fastify-noop') {
    app.addHook('preHandler', (_req, _reply, done) => done());
    app.post('/login', async () => ({ ok: true }));
    app.get('/protected', { preHandler: (_req, _reply, done) => done() }, async () => ({ userId: 'u1' }));
  } else if (variant === 'fastify-hash') {
    app.post('/login', async () => ({ ok: true }));
    app.get('/protected', async (req) => ({ userId: hashSecretOf(req.headers.cookie) }));
  } else if (variant === 'fastify-sessionkit' || variant === 'fastify-free' || variant === 'fastify-sessionkit-redis') {
    const { createSessionManager } = await import(new URL('index.js', dist).href);
    const { sessionkitFastify, login } = await import(new URL('http/adapters/fastify.js', dist).href);
    const sessions = createSessionManager({ store: await benchStore(variant) });
    if (variant === 'fastify-free') validationFree(sessions);
    await app.register(sessionkitFastify, { sessions });
    app.post('/login', async (_req, reply) => {
      await login(reply, { userId: 'u1' });
      return { ok: true };
    });
    app.get('/protected', { preHandler: app.requireSession }, async (req) => ({ userId: req.session.userId }));
  } else {
    const { default: cookie } = await import('@fastify/cookie');
    const { default: session } = await import('@fastify/session');
    await app.register(cookie);
    const store = variant === 'fastify-session-redis' ? await connectRedisStore() : undefined;
    await app.register(session, { secret: SECRET, cookie: { secure: false }, saveUninitialized: false, ...(store ? { store } : {}) });
    app.post('/login', async (req) => {
      req.session.set('userId', 'u1');
      return { ok: true };
    });
    app.get('/protected', async (req, reply) => {
      const userId = req.session.get('userId');
      if (!userId) return reply.code(401).send({ error: 'token_missing' });
      return { userId };
    });
  }
  return { listen: async () => { await app.listen({ port: 0, host: '127.0.0.1' }); return app.server.address().port; } };
}

async function expressApp(variant) {
  const { default: express } = await import('express');
  const app = express();
  app.disable('etag');
  if (variant === 'express-bare') {
    app.post('/login', (_req, res) => res.json({ ok: true }));
    app.get('/protected', (_req, res) => res.json({ userId: 'u1' }));
  } else if (variant === 'express-noop') {
    app.use((_req, _res, next) => next());
    app.post('/login', (_req, res) => res.json({ ok: true }));
    app.get('/protected', (_req, _res, next) => next(), (_req, res) => res.json({ userId: 'u1' }));
  } else if (variant === 'express-hash') {
    app.post('/login', (_req, res) => res.json({ ok: true }));
    app.get('/protected', (req, res) => res.json({ userId: hashSecretOf(req.headers.cookie) }));
  } else if (variant === 'express-sessionkit' || variant === 'express-free' || variant === 'express-sessionkit-redis') {
    const { createSessionManager } = await import(new URL('index.js', dist).href);
    const { sessionkit, requireSession, login } = await import(new URL('http/adapters/express.js', dist).href);
    const sessions = createSessionManager({ store: await benchStore(variant) });
    if (variant === 'express-free') validationFree(sessions);
    app.use(sessionkit({ sessions }));
    app.post('/login', async (_req, res) => {
      await login(res, { userId: 'u1' });
      res.json({ ok: true });
    });
    app.get('/protected', requireSession(), (req, res) => res.json({ userId: req.session.userId }));
  } else {
    const { default: session } = await import('express-session');
    const store = variant === 'express-session-redis' ? await connectRedisStore() : undefined;
    app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, ...(store ? { store } : {}) }));
    app.post('/login', (req, res) => {
      req.session.userId = 'u1';
      res.json({ ok: true });
    });
    app.get('/protected', (req, res) => {
      if (!req.session.userId) return res.status(401).json({ error: 'token_missing' });
      res.json({ userId: req.session.userId });
    });
  }
  return {
    listen: () => new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port));
    }),
  };
}
