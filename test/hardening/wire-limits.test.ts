// Issue 18, low 11: a body over the limit announced with `Expect: 100-continue` got
// `100 Continue` (so the client started sending) before the 413; an empty `Bearer` was
// token_malformed instead of token_missing; device.ip was stored unchecked.
import http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';

const ADMIN_KEY = 'hardening-admin-key-0123456789abcdef';

describe('the service at the edge of the wire', () => {
  let app: ServiceApp;
  let port: number;
  beforeAll(async () => {
    app = await buildServer(loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--log-level', 'silent', '--sweep-interval', '0'] }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  function post(size: number): Promise<{ continued: boolean; status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path: '/v1/sessions',
        headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json', 'content-length': size, expect: '100-continue' },
      });
      let continued = false;
      req.on('continue', () => {
        continued = true;
        const body = JSON.stringify({ userId: 'expect-user', data: { pad: 'x'.repeat(Math.max(0, size - 40)) } });
        req.end(body.length === size ? body : `{"userId":"expect-user"}${' '.repeat(size - 24)}`);
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
  }

  it('answers a body over the limit announced with Expect: 100-continue with the 413 JSON, before any 100 Continue', async () => {
    const answer = await post(5_000_000);
    expect(answer).toEqual({ continued: false, status: 413, body: JSON.stringify({ error: 'invalid_request', message: 'request body larger than 65536 bytes' }) });
    // On a raw socket: the first status line is the 413.
    const first = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => { got += d.toString(); if (got.includes('\r\n\r\n')) socket.destroy(); });
      socket.on('close', () => resolve(got));
      socket.write(`POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 70000\r\nExpect: 100-continue\r\n\r\n`);
    });
    expect(first.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('still says 100 Continue to a body within the limit', async () => {
    const answer = await post(100);
    expect(answer.continued).toBe(true);
    expect(answer.status).toBe(201);
  });

  it('answers an empty Bearer with 401 token_missing', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'bearer    ']) {
      const res = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { authorization } });
      expect(res.statusCode).toBe(401);
      expect((res.json() as { error: string }).error).toBe('token_missing');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
  });

  it('refuses a device.ip that is no IP address with 400 invalid_request, and keeps IPv4 and IPv6 ones', async () => {
    const create = (ip: string) => app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY }, payload: { userId: 'ip-user', device: { ip } } });
    for (const ip of ['not-an-ip', '203.0.113.7, 10.0.0.1', '<script>', '999.1.1.1', '203.0.113.7:443']) {
      const res = await create(ip);
      expect(res.statusCode, ip).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', message: 'device.ip: expected an IPv4 or IPv6 address' });
    }
    for (const ip of ['203.0.113.7', '2001:db8::7', '::ffff:203.0.113.7']) {
      const res = await create(ip);
      expect(res.statusCode, ip).toBe(201);
      expect((res.json() as { session: { device: { ip: string } } }).session.device.ip).toBe(ip);
    }
  });
});
