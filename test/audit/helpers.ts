// Helpers for the audit and dashboard tests: an in-process service on a real port, and a
// Server-Sent Events reader over fetch.
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServerDeps, type ServiceApp } from '../../src/server/index.js';

export const ADMIN_KEY = 'audit-tests-admin-key-0123456789abcdef';

/** Builds the service (memory store unless given) and listens on 127.0.0.1 on a free port. */
export async function listeningService(argv: string[] = [], deps: ServerDeps = {}): Promise<{ app: ServiceApp; url: string }> {
  const config = loadConfig({
    env: {},
    argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0', ...argv],
  });
  const app = await buildServer(config, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

export interface SseEvent {
  id: string | null;
  event: string | null;
  data: string;
}

/** Waits until `check` returns a value (not undefined), polling every 20 ms; fails after `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Opens an SSE stream with fetch and collects its events as they arrive. */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  let raw = '';
  let ended = false;
  const done = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        const text = decoder.decode(value, { stream: true });
        raw += text;
        buffer += text;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const lines = block.split('\n').filter((l) => !l.startsWith(':'));
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
          if (data.length === 0) continue;
          events.push({
            id: lines.find((l) => l.startsWith('id: '))?.slice(4) ?? null,
            event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? null,
            data: data.join('\n'),
          });
        }
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
    }
  })();
  return {
    res,
    events,
    raw: () => raw,
    ended: () => ended,
    /** The parsed `data` of the audit events received so far. */
    audit: () => events.filter((e) => e.event === null).map((e) => JSON.parse(e.data) as Record<string, unknown> & { seq: number; type: string }),
    close: async () => {
      controller.abort();
      await done;
    },
    done,
  };
}

/** Creates a session for `userId` on a work laptop with `userAgent` through the service's API (201 expected). */
export async function createDeviceSession(base: string, userId: string, userAgent: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${base}/v1/sessions`, {
    method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ userId, device: { userAgent, ip: '203.0.113.9', label: 'work laptop' } }),
  });
  if (res.status !== 201) throw new Error(`creating a session answered ${res.status}: ${await res.text()}`);
  const body = await res.json() as { session: { id: string }; token: string };
  return { id: body.session.id, token: body.token };
}

/** The status `GET /v1/sessions/current` answers for a Bearer `token`: 200 while it is live. */
export async function bearerStatus(base: string, token: string): Promise<number> {
  return (await fetch(`${base}/v1/sessions/current`, { headers: { authorization: `Bearer ${token}` } })).status;
}
