// The PHP JWKS refetch limit across processes (issue 22): under PHP-FPM every request is a fresh
// process, so the limit (one refetch per minRefetchInterval, 10 s here) must live in the shared
// cache file, not in memory. Many PHP processes ask a counting JWKS server for made-up kids.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from './service.js';

const PROBE = 'clients/php/tests/fixtures/jwks-probe.php';
const PROCESSES = 16;
const PARALLEL = 8;
/** An Ed25519 public key (RFC 8037, appendix A.2). */
const KEY = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', use: 'sig', alg: 'EdDSA' };

let server: Server;
let url = '';
let fetches = 0;
let kids = ['k1'];
let dir = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: kids.map((kid) => ({ ...KEY, kid })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  dir = mkdtempSync(join(tmpdir(), 'sessionkit-php-jwks-'));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function probe(cacheFile: string, kid: string, now: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('php', [PROBE, url, cacheFile, kid, String(now)], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `count` probes, `PARALLEL` at a time, each its own PHP process. */
async function probes(count: number, cacheFile: string, kid: (i: number) => string, now: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < count; i += PARALLEL) {
    const batch = Array.from({ length: Math.min(PARALLEL, count - i) }, (_, j) => probe(cacheFile, kid(i + j), now));
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

describe('the PHP JWKS cache across processes', () => {
  it('fetches once for many PHP processes asking for made-up kids within the refetch interval', async () => {
    fetches = 0;
    const cacheFile = join(dir, 'made-up.json');
    const now = Math.floor(Date.now() / 1000);
    const answers = await probes(PROCESSES, cacheFile, (i) => `made-up-${i}`, now);
    expect(answers.every((a) => a === 'missing')).toBe(true);
    expect(fetches).toBe(1);
    // After the interval, one more fetch for all of them again.
    await probes(PARALLEL, cacheFile, (i) => `made-up-later-${i}`, now + 10);
    expect(fetches).toBe(2);
  }, 120_000);

  it('still sees a rotated key at once: the first process that meets the new kid fetches it, the others read the file', async () => {
    fetches = 0;
    kids = ['k1'];
    const cacheFile = join(dir, 'rotation.json');
    const now = Math.floor(Date.now() / 1000);
    expect(await probes(PARALLEL, cacheFile, () => 'k1', now)).toEqual(Array(PARALLEL).fill('found'));
    expect(fetches).toBe(1);
    kids = ['k1', 'k2'];
    expect(await probes(PROCESSES, cacheFile, () => 'k2', now + 10)).toEqual(Array(PROCESSES).fill('found'));
    expect(fetches).toBe(2);
  }, 120_000);
});
