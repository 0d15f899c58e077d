// A small load generator for the fault-injection tests: a few concurrent loops of logins,
// validations and revocations against a running service, each request recorded with when it
// started and ended, so a test can judge exactly the requests that ran inside an outage.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

export interface Attempt {
  op: 'create' | 'validate' | 'revoke';
  started: number;
  ended: number;
  status: number;
  /** The `error` code of an error body. */
  error: string | null;
  /** The session the request was about (validate, revoke) or created (create with 201). */
  sessionId: string | null;
  token: string | null;
}

export interface Issued {
  id: string;
  token: string;
  userId: string;
}

export interface Load {
  attempts: Attempt[];
  /** Sessions answered 201 (by the load or given at the start). */
  issued: Issued[];
  /** Session ids answered 204 to a revoke. */
  revoked: Set<string>;
  stop(): Promise<void>;
}

async function call(url: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> | null }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? JSON.parse(text) as Record<string, unknown> : null;
    } catch {
      body = { raw: text.slice(0, 200) };
    }
    return { status: res.status, body };
  } catch {
    // No answer at all (connection refused, timeout): recorded as status 0.
    return { status: 0, body: null };
  }
}

/** Creates one session through the API; throws unless 201. */
export async function login(base: string, adminKey: string, userId: string): Promise<Issued> {
  const { status, body } = await call(`${base}/v1/sessions`, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  if (status !== 201 || !body) throw new Error(`login failed with ${status}`);
  return { id: (body.session as { id: string }).id, token: body.token as string, userId };
}

/**
 * Starts `concurrency` loops against `base`: mostly validations of the sessions in `seed` (and
 * of those the load creates), some logins, a few revocations of sessions the load created.
 *
 * @example const load = startLoad(url, ADMIN_KEY, seed); ...; await load.stop();
 */
export function startLoad(base: string, adminKey: string, seed: Issued[], concurrency = 6): Load {
  const attempts: Attempt[] = [];
  const issued = [...seed];
  const own: Issued[] = [];
  const revoked = new Set<string>();
  let running = true;
  let n = 0;
  const loop = async (worker: number): Promise<void> => {
    while (running) {
      n += 1;
      const pick = n % 10;
      const started = Date.now();
      if (pick < 2) {
        const userId = `fault-${worker}-${randomBytes(3).toString('hex')}`;
        const { status, body } = await call(`${base}/v1/sessions`, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
        const created = status === 201 && body ? { id: (body.session as { id: string }).id, token: body.token as string, userId } : null;
        if (created) {
          issued.push(created);
          own.push(created);
        }
        attempts.push({ op: 'create', started, ended: Date.now(), status, error: (body?.error as string) ?? null, sessionId: created?.id ?? null, token: created?.token ?? null });
      } else if (pick === 2 && own.length > 3) {
        const victim = own.splice(Math.floor(Math.random() * own.length), 1)[0] as Issued;
        const { status, body } = await call(`${base}/v1/sessions/${victim.id}`, { method: 'DELETE', headers: { 'x-api-key': adminKey } });
        if (status === 204) revoked.add(victim.id);
        else if (status !== 404) own.push(victim);
        attempts.push({ op: 'revoke', started, ended: Date.now(), status, error: (body?.error as string) ?? null, sessionId: victim.id, token: null });
      } else {
        const s = issued[Math.floor(Math.random() * issued.length)] as Issued;
        const { status, body } = await call(`${base}/v1/sessions/current`, { headers: { authorization: `Bearer ${s.token}` } });
        attempts.push({ op: 'validate', started, ended: Date.now(), status, error: (body?.error as string) ?? null, sessionId: s.id, token: s.token });
      }
    }
  };
  const loops = Array.from({ length: concurrency }, (_, i) => loop(i));
  return {
    attempts, issued, revoked,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Resolves once `check` holds, polling every 100 ms, or rejects after `deadlineMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The checks every outage test makes on the recorded attempts:
 * - no answer is a 5xx other than 503 `store_unavailable`, and every request got an answer;
 * - no validation that ran entirely inside the outage got anything but 503;
 * - no revoked session validated after its revocation was answered.
 */
export function outageViolations(attempts: Attempt[], down: { from: number; to: number }, revokedAt: Map<string, number>): string[] {
  const out: string[] = [];
  for (const a of attempts) {
    if (a.status === 0) out.push(`${a.op} got no answer`);
    if (a.status >= 500 && !(a.status === 503 && a.error === 'store_unavailable')) out.push(`${a.op} got ${a.status} ${a.error}`);
    if (a.started >= down.from && a.ended <= down.to && a.status !== 503) out.push(`${a.op} inside the outage got ${a.status}`);
    const revokedWhen = a.sessionId ? revokedAt.get(a.sessionId) : undefined;
    if (a.op === 'validate' && a.status === 200 && revokedWhen !== undefined && a.started > revokedWhen) out.push(`revoked session ${a.sessionId} validated`);
  }
  return out;
}

/** When each revocation was answered 204. */
export function revocationTimes(attempts: Attempt[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of attempts) if (a.op === 'revoke' && a.status === 204 && a.sessionId) m.set(a.sessionId, a.ended);
  return m;
}

/**
 * Every session acknowledged with 201 validates, unless the load revoked it (then 401). A revoke
 * whose answer was lost in the outage may or may not have happened: either answer is right.
 */
export async function expectAllThere(base: string, load: Load): Promise<void> {
  const uncertain = new Set(load.attempts.filter((a) => a.op === 'revoke' && a.status !== 204 && a.status !== 404).map((a) => a.sessionId));
  for (const s of load.issued) {
    const res = await fetch(`${base}/v1/sessions/current`, { headers: { authorization: `Bearer ${s.token}` } });
    const expected = load.revoked.has(s.id) ? [401] : uncertain.has(s.id) ? [200, 401] : [200];
    expect(expected, `session ${s.id} answered ${res.status}`).toContain(res.status);
  }
}

/**
 * One outage under load: traffic first, then `cut()`, until the service has answered at least
 * ten 503s (and /readyz says 503), then `restore()`, until validations and logins succeed again
 * on the same service process. Checks `outageViolations` and that every acknowledged session is
 * still there.
 *
 * @example await outageUnderLoad(service.url, ADMIN_KEY, seed, { cut: () => redis.kill(), restore: () => redis.restart() })
 */
export async function outageUnderLoad(base: string, adminKey: string, seed: Issued[], fault: { cut(): Promise<void> | void; restore(): Promise<void> | void }): Promise<Load> {
  const load = startLoad(base, adminKey, seed);
  try {
    await until('traffic before the outage', () => load.attempts.filter((a) => a.status === 200).length >= 20);
    await fault.cut();
    const down = { from: Date.now(), to: 0 };
    await until('503 answers during the outage', () => load.attempts.filter((a) => a.started >= down.from && a.status === 503).length >= 10);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    down.to = Date.now();
    await fault.restore();
    const up = Date.now();
    await until('validations succeeding again without restarting the service', () =>
      load.attempts.filter((a) => a.op === 'validate' && a.started > up && a.status === 200).length >= 10);
    await until('logins succeeding again', () => load.attempts.some((a) => a.op === 'create' && a.started > up && a.status === 201));
    await pause(200);
    await load.stop();
    const violations = outageViolations(load.attempts, down, revocationTimes(load.attempts));
    expect(violations, violations.slice(0, 10).join('\n')).toEqual([]);
    expect(load.attempts.filter((a) => a.started >= down.from && a.ended <= down.to).length).toBeGreaterThan(0);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await expectAllThere(base, load);
    return load;
  } finally {
    await load.stop();
  }
}
