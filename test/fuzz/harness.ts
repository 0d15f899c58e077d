// Shared set-up of the fuzz suites: how many cases, which seed, the in-process service they hit,
// and the one check every response must pass (a documented 4xx or a success, never a 5xx).
//
// `npm test` runs every target with FUZZ_RUNS (default 200) cases and a fixed seed, in a few
// seconds; `npm run fuzz` (scripts/fuzz.mjs) runs the same targets with FUZZ_RUNS=100000.
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ERROR_STATUS, TOKEN_ERROR_CODES, type SessionErrorCode } from '../../src/core/errors.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';

/** Cases per target. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
/** The fixed seed: the same cases on every run, so a failure in CI reproduces locally. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_250_917);
/** Per-test timeout: generous in the long mode (an hour per target), the suite default otherwise. */
export const TIMEOUT = RUNS > 5000 ? 3_600_000 : 30_000;

if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`FUZZ_RUNS: expected a positive integer, got ${process.env.FUZZ_RUNS}`);

/**
 * Runs one property with the suite's seed and case count (or `runs`), and records the outcome in the file
 * named by FUZZ_REPORT (one JSON line per target; scripts/fuzz.mjs sums them up).
 *
 * @example await fuzz('cookie headers', fc.asyncProperty(fc.string(), async (s) => { ... }))
 */
export async function fuzz<T>(target: string, property: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, runs = RUNS): Promise<void> {
  const started = Date.now();
  const details = await fc.check(property as fc.IAsyncProperty<T>, { numRuns: runs, seed: SEED, endOnFailure: true });
  if (process.env.FUZZ_REPORT) {
    appendFileSync(process.env.FUZZ_REPORT, `${JSON.stringify({
      target, runs: details.numRuns, failures: details.failed ? 1 : 0, seed: SEED, ms: Date.now() - started,
      ...(details.failed ? { counterexample: fc.stringify(details.counterexample).slice(0, 2000), error: String(details.errorInstance).slice(0, 2000) } : {}),
    })}\n`);
  }
  if (details.failed) {
    throw new Error(`fuzz target "${target}" failed after ${details.numRuns} cases (seed ${SEED}, path ${details.counterexamplePath}):\n`
      + `counterexample: ${fc.stringify(details.counterexample).slice(0, 2000)}\n${String(details.errorInstance).slice(0, 4000)}`);
  }
}

export const ADMIN_KEY = 'fuzz-admin-key-0123456789abcdef0123';

export interface FuzzService {
  app: ServiceApp;
  /** A key with the `sessions` scope only. */
  sessionsKey: string;
  close(): Promise<void>;
}

/**
 * The service in-process on a memory store: trustProxy on (so X-Forwarded-For matters), insecure
 * cookie names (`sessionkit`), no sweeper, silent logs, and an attempt limit of `rateLimit`.
 *
 * @example const { app } = await fuzzService(); await app.inject({ method: 'GET', url: '/healthz' })
 */
export async function fuzzService(rateLimit = '1000000/1m'): Promise<FuzzService> {
  const store = memoryStore();
  const sessionsKey = (await createApiKey(store, { name: 'fuzz app', scopes: ['sessions'] })).key;
  const config = loadConfig({
    env: {},
    argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--trust-proxy', 'true', '--rate-limit', rateLimit,
      '--log-level', 'silent', '--sweep-interval', '0', '--key-rotation-interval', 'off'],
  });
  const app = await buildServer(config, { store });
  return { app, sessionsKey, close: () => app.close() };
}

/** Every error code the service may answer with, and its statuses. */
const CODES: Record<string, number[]> = {
  ...Object.fromEntries(Object.entries(ERROR_STATUS).map(([code, status]) => [code, [status]])),
  invalid_request: [400, 413, 415],
  // The revoke routes answer an unknown id with 404 session_not_found (docs/API.md, changes 2).
  session_not_found: [401, 404],
  not_found: [404],
  // A known path asked with a method it does not serve (docs/API.md, changes 2; issue 17).
  method_not_allowed: [405],
};

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * The property every response holds: no 5xx; a success, or a JSON error whose code is one of the
 * documented ones with its documented status (401 with `WWW-Authenticate`, 429 with
 * `Retry-After`). `allowed` narrows the statuses further for one route. Returns the parsed body.
 *
 * @example const body = documented(await app.inject({ method: 'GET', url: '/healthz' }))
 */
export function documented(res: Answer, what: string, allowed?: number[]): unknown {
  const context = `${what} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, context).toBeLessThan(500);
  if (allowed) expect(allowed, context).toContain(res.statusCode);
  if (res.statusCode < 400) return res.body && String(res.headers['content-type'] ?? '').startsWith('application/json') ? JSON.parse(res.body) : res.body;
  // HEAD answers carry no body: the status alone must be one the contract knows.
  if (res.body === '') {
    expect(Object.values(CODES).flat(), context).toContain(res.statusCode);
    return undefined;
  }
  expect(String(res.headers['content-type']), context).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error: string; message: string };
  expect(typeof body.message, context).toBe('string');
  expect(Object.keys(CODES), context).toContain(body.error);
  expect(CODES[body.error], context).toContain(res.statusCode);
  // A 401 says how to authenticate; the revoke routes' 404 session_not_found is no auth failure.
  if (res.statusCode === 401 && TOKEN_ERROR_CODES.has(body.error as SessionErrorCode)) expect(res.headers['www-authenticate'], context).toBe('Bearer error="invalid_token"');
  if (res.statusCode === 405) expect(String(res.headers.allow), context).toMatch(/^[A-Z]+(?:, [A-Z]+)*$/);
  if (res.statusCode === 429) expect(Number(res.headers['retry-after']), context).toBeGreaterThan(0);
  return body;
}

// ---- generators ----

/** Any string: ASCII, any code point (lone surrogates included), or bytes as latin1. */
export const anyText = (maxLength = 120): fc.Arbitrary<string> => fc.oneof(
  fc.string({ maxLength }),
  fc.string({ unit: 'binary', maxLength }),
  fc.string({ unit: 'grapheme', maxLength }),
  fc.uint8Array({ maxLength }).map((b) => Buffer.from(b).toString('latin1')),
);

/** Strings close to the shapes the service parses: token-like, base64url runs, separators. */
export const tokenLike: fc.Arbitrary<string> = fc.oneof(
  anyText(200),
  fc.tuple(fc.constantFrom('sk_', 'skr_', 'sk', 'eyJ', 'Sk_', ''), fc.base64String({ maxLength: 60 }), fc.constantFrom('.', '..', '', ' ', '.eyJ'), fc.base64String({ maxLength: 60 }))
    .map((parts) => parts.join('')),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([id, secret]) => `sk_${id}.${secret}`),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([id, secret]) => `skr_${id}.${secret}`),
  fc.string({ maxLength: 5000, unit: fc.constantFrom('A', '.', '_', '-', '=') }),
);

/** One edit of a string: replace, insert or delete a character, truncate, change case, pad. */
type Edit = { kind: 'replace' | 'insert'; at: number; ch: string } | { kind: 'delete' | 'truncate'; at: number } | { kind: 'case' | 'pad-start' | 'pad-end' | 'encode'; at: number; ch: string };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('replace' as const, 'insert' as const), at: fc.nat(), ch: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.=+/-]$/), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }),
  fc.record({ kind: fc.constantFrom('delete' as const, 'truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom('case' as const, 'pad-start' as const, 'pad-end' as const, 'encode' as const), at: fc.nat(), ch: fc.constantFrom(' ', '\t', '\n', '\0', '%20', '"') }),
);

function applyEdit(s: string, e: Edit): string {
  const at = s.length === 0 ? 0 : e.at % (s.length + (e.kind === 'insert' ? 1 : 0));
  switch (e.kind) {
    case 'replace': return `${s.slice(0, at)}${e.ch}${s.slice(at + 1)}`;
    case 'insert': return `${s.slice(0, at)}${e.ch}${s.slice(at)}`;
    case 'delete': return `${s.slice(0, at)}${s.slice(at + 1)}`;
    case 'truncate': return s.slice(0, at);
    case 'case': {
      const c = s[at] ?? '';
      const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return `${s.slice(0, at)}${flipped}${s.slice(at + 1)}`;
    }
    case 'pad-start': return `${e.ch}${s}`;
    case 'pad-end': return `${s}${e.ch}`;
    case 'encode': return s.replace(/[._-]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
}

/** 1 to 4 random edits of `base`. */
export function mutated(base: string): fc.Arbitrary<string> {
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => edits.reduce(applyEdit, base));
}

/** A value for a client IP header: real addresses, lists of them, and junk. */
export const forwardedFor: fc.Arbitrary<string> = fc.oneof(
  fc.ipV4(), fc.ipV6(), fc.ipV4Extended(),
  fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), anyText(20)), { minLength: 1, maxLength: 6 }).chain((ips) => fc.constantFrom(', ', ',', ' , ').map((sep) => ips.join(sep))),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 99999 })).map(([ip, port]) => `${ip}:${port}`),
  fc.ipV6().map((ip) => `[${ip}]:443`),
  fc.ipV4().map((ip) => `::ffff:${ip}`),
  anyText(300),
);

/** User agents: real ones, real ones cut or spliced, and junk (long ones too). */
export const userAgent: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'curl/8.5.0',
  ).chain((ua) => fc.oneof(fc.constant(ua), mutated(ua))),
  anyText(600),
  fc.string({ minLength: 4000, maxLength: 9000 }),
);
