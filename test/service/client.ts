// A tiny HTTP client for the service tests: the same calls run in-process (Fastify inject) and
// over real HTTP (fetch), and every response is checked against the service's /openapi.json.
import type { FastifyInstance } from 'fastify';
import { openApiChecker } from './openapi-check.js';

export interface Reply {
  status: number;
  header(name: string): string | undefined;
  setCookies: string[];
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** A JSON body (serialised), or a raw string body. */
  json?: unknown;
  raw?: string;
  /** The client IP, sent as X-Forwarded-For (the service runs with trustProxy in these tests). */
  ip?: string;
}

export type Send = (method: string, url: string, headers: Record<string, string>, body: string | undefined) => Promise<{ status: number; headers: Record<string, string>; setCookies: string[]; text: string }>;

export function injectSend(app: FastifyInstance): Send {
  return async (method, url, headers, body) => {
    const res = await app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: body } : {}) });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== 'set-cookie') out[k] = String(v);
    const raw = res.headers['set-cookie'];
    return { status: res.statusCode, headers: out, setCookies: raw === undefined ? [] : Array.isArray(raw) ? raw : [raw], text: res.body };
  };
}

export function fetchSend(base: string): Send {
  return async (method, url, headers, body) => {
    const res = await fetch(`${base}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => { if (k !== 'set-cookie') out[k] = v; });
    return { status: res.status, headers: out, setCookies: res.headers.getSetCookie(), text: await res.text() };
  };
}

let ipCounter = 0;
/** A fresh client IP per call unless one is given, so error cases never trip the attempt limit by accident. */
function freshIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export async function serviceClient(send: Send) {
  const docRes = await send('GET', '/openapi.json', {}, undefined);
  const doc = JSON.parse(docRes.text);
  const checker = openApiChecker(doc);
  async function call(method: string, url: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { 'x-forwarded-for': options.ip ?? freshIp(), ...(options.headers ?? {}) };
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] ??= 'application/json';
    }
    const res = await send(method, url, headers, body);
    const lower = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const parsed = res.status === 404 && !isDocumented(doc, method, url) ? JSON.parse(res.text) : checker.check(method, url, res.status, lower['content-type'] ?? null, res.text);
    return { status: res.status, header: (name) => lower[name.toLowerCase()], setCookies: res.setCookies, text: res.text, body: parsed };
  }
  return { call, doc, checker };
}

function isDocumented(doc: { paths: Record<string, Record<string, unknown>> }, method: string, url: string): boolean {
  const path = new URL(url, 'http://x').pathname;
  return Object.entries(doc.paths).some(([template, ops]) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path) && method.toLowerCase() in ops);
}

/** The value of a cookie set by a response, or undefined. */
export function cookieValue(setCookies: string[], name: string): string | undefined {
  for (const c of setCookies) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq).trim() === name) return decodeURIComponent(pair!.slice(eq + 1));
  }
  return undefined;
}
