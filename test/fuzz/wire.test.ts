// Fuzzing the real service process over TCP: raw requests that only a socket can send (broken
// request lines, bad header bytes, lying Content-Length, truncated bodies, pipelined garbage).
// Properties: every answer that comes back is not a 5xx, and the process never dies: it still
// answers /healthz and a valid session afterwards.
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, startService, type ServiceProcess } from '../service/process.js';
import { ADMIN_KEY, anyText, fuzz, RUNS, TIMEOUT, tokenLike, userAgent } from './harness.js';

/** Sends raw bytes, half-closes, and resolves with whatever came back within the deadline. */
function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.setTimeout(2000, done);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.end(bytes));
  });
}

describe('fuzzing the service process over raw TCP', () => {
  let service: ServiceProcess;
  let port: number;
  let token: string;

  beforeAll(async () => {
    ensureBuilt();
    service = await startService(['--store', 'memory:', '--trust-proxy', 'true', '--rate-limit', '1000000/1m', '--log-level', 'error'], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    port = Number(new URL(service.url).port);
    const res = await fetch(`${service.url}/v1/sessions`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'fuzz-wire' }) });
    token = ((await res.json()) as { token: string }).token;
  }, 60_000);
  afterAll(async () => {
    expect(service.child.exitCode, `the service died:\n${service.stderr()}`).toBeNull();
    expect(await service.stop()).toBe(0);
  });

  it('answers raw garbage with 4xx (or closes), never 5xx, and keeps serving', async () => {
    const method = fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'get', 'PRI'), anyText(8));
    const path = fc.oneof(fc.constantFrom('/v1/sessions', '/v1/sessions/current', '/v1/sessions/validate', '/v1/sessions/refresh', '/v1/audit?limit=5', '/healthz', '*', '', 'http://evil/', '/../../etc/passwd'), anyText(60));
    const header = fc.oneof(
      fc.tuple(fc.constantFrom('cookie', 'authorization', 'x-forwarded-for', 'user-agent', 'x-api-key', 'content-type', 'transfer-encoding', 'content-length', 'host', 'x-request-id', 'origin'), fc.oneof(anyText(80), tokenLike, userAgent))
        .map(([k, v]) => `${k}: ${v}`),
      anyText(80),
    );
    const request = fc.record({
      method, path, version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', ''), headers: fc.array(header, { maxLength: 6 }),
      body: fc.oneof(anyText(200), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))), lie: fc.integer({ min: -5, max: 5 }), newline: fc.constantFrom('\r\n', '\n', '\r'),
      withKey: fc.boolean(), withToken: fc.boolean(),
    }).map((r) => {
      const lines = [`${r.method} ${r.path} ${r.version}`.trimEnd(), 'host: 127.0.0.1', ...r.headers];
      if (r.withKey) lines.push(`x-api-key: ${ADMIN_KEY}`);
      if (r.withToken) lines.push(`authorization: Bearer ${token}`);
      lines.push(`content-length: ${Buffer.byteLength(r.body, 'latin1') + r.lie}`);
      return Buffer.from(`${lines.join(r.newline)}${r.newline}${r.newline}${r.body}`, 'latin1');
    });
    // The socket round trips are slow next to inject: a tenth of the other targets' cases.
    await fuzz('raw HTTP requests to the service process', fc.asyncProperty(request, async (bytes) => {
      const answer = await rawExchange(port, bytes);
      for (const status of answer.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)) {
        expect(Number(status[1]), `${bytes.toString('latin1').slice(0, 300)}\n=> ${answer.slice(0, 300)}`).toBeLessThan(500);
      }
    }), Math.max(20, Math.ceil(RUNS / 10)));
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const me = await fetch(`${service.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(service.stderr()).not.toMatch(/request failed/);
  }, TIMEOUT);
});
