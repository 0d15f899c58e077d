// A bounded load of logins, validations and revocations run in-process against a session
// manager on a replicated Redis (Sentinel or Cluster), and the audit of what survived a failover:
// acknowledged logins lost, acknowledged revocations undone, users above their session limit,
// revoked tokens accepted during the run, and how long writes and reads were unavailable.
import { randomBytes } from 'node:crypto';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import type { SessionStore } from '../../src/stores/types.js';

/** The per-user limit the load runs with (evict-oldest). */
export const USER_LIMIT = 3;
const SECRET = 'failover-suite-secret-0123456789abcdef0123';

interface Issued {
  id: string;
  token: string;
  userId: string;
  /** When the 201-equivalent (create resolved) came back. */
  at: number;
}

export interface FailoverFigures {
  creates: number;
  lostLogins: number;
  revocations: number;
  undoneRevocations: number;
  limitViolations: number;
  /** Validations that accepted a token after its revocation had been acknowledged. */
  revokedAccepted: number;
  /** Calls that failed with `store_unavailable` (the 503 of the service). */
  unavailable: number;
  /** Anything else that went wrong (must stay 0). */
  otherErrors: string[];
  /** Longest time without one successful login / validation, in seconds. */
  writeGapSeconds: number;
  readGapSeconds: number;
}

export interface FailoverLoad {
  stop(): Promise<void>;
  /** Successful logins so far. */
  readonly acknowledged: number;
  /** Checks every acknowledged login and revocation against `verify` (a fresh store on the settled deployment). */
  audit(verify: SessionStore): Promise<FailoverFigures>;
}

/**
 * Starts `concurrency` loops on `store`: 30% logins (a pool of `users` users, limit
 * `USER_LIMIT`, evict-oldest), 10% revocations of sessions the load created, 60% validations.
 *
 * @example const load = startFailoverLoad(store); ...fault...; await load.stop(); const figures = await load.audit(fresh);
 */
export function startFailoverLoad(store: SessionStore, opts: { concurrency?: number; users?: number } = {}): FailoverLoad {
  const sessions = createSessionManager({ store, secret: SECRET, maxSessionsPerUser: { max: USER_LIMIT, policy: 'evict-oldest' } });
  const users = Array.from({ length: opts.users ?? 200 }, () => `fo-${randomBytes(6).toString('hex')}`);
  const issued: Issued[] = [];
  const live: Issued[] = [];
  const revokedAt = new Map<string, number>();
  const okCreates: number[] = [];
  const okReads: number[] = [];
  const otherErrors: string[] = [];
  let unavailable = 0;
  let revokedAccepted = 0;
  let running = true;
  let n = 0;
  const started = Date.now();

  const failed = (op: string, err: unknown): void => {
    if (err instanceof SessionError && err.code === 'store_unavailable') unavailable += 1;
    else otherErrors.push(`${op}: ${err instanceof SessionError ? err.code : String(err)}`);
  };
  const loop = async (): Promise<void> => {
    while (running) {
      n += 1;
      const pick = n % 10;
      if (pick < 3 || live.length < 10) {
        const userId = users[Math.floor(Math.random() * users.length)] as string;
        try {
          const { token, session } = await sessions.create({ userId });
          const s = { id: session.id, token, userId, at: Date.now() };
          issued.push(s);
          live.push(s);
          okCreates.push(s.at);
        } catch (err) {
          failed('create', err);
        }
      } else if (pick === 3) {
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0] as Issued;
        try {
          if (await sessions.revoke(victim.id)) revokedAt.set(victim.id, Date.now());
        } catch (err) {
          live.push(victim);
          failed('revoke', err);
        }
      } else {
        const s = issued[Math.floor(Math.random() * issued.length)] as Issued;
        const asked = Date.now();
        try {
          await sessions.validate(s.token);
          okReads.push(Date.now());
          const when = revokedAt.get(s.id);
          if (when !== undefined && when < asked) revokedAccepted += 1;
        } catch (err) {
          if (err instanceof SessionError && err.code !== 'store_unavailable') okReads.push(Date.now());
          else failed('validate', err);
        }
      }
    }
  };
  const loops = Array.from({ length: opts.concurrency ?? 8 }, () => loop());
  let stopped = 0;
  const gap = (times: number[]): number => {
    const sorted = [started, ...times, stopped].sort((a, b) => a - b);
    let most = 0;
    for (let i = 1; i < sorted.length; i += 1) most = Math.max(most, (sorted[i] as number) - (sorted[i - 1] as number));
    return Math.round(most / 100) / 10;
  };

  return {
    get acknowledged() {
      return okCreates.length;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      stopped = Date.now();
    },
    async audit(verify) {
      let lostLogins = 0;
      let undoneRevocations = 0;
      const liveByUser = new Map<string, number>();
      const now = Date.now();
      for (const s of issued) {
        const record = await verify.get(s.id);
        if (record === null) {
          lostLogins += 1;
          continue;
        }
        if (revokedAt.has(s.id) && record.revokedAt === null) undoneRevocations += 1;
        if (record.revokedAt === null && record.idleExpiresAt > now) liveByUser.set(s.userId, (liveByUser.get(s.userId) ?? 0) + 1);
      }
      return {
        creates: issued.length, lostLogins, revocations: revokedAt.size, undoneRevocations,
        limitViolations: [...liveByUser.values()].filter((c) => c > USER_LIMIT).length,
        revokedAccepted, unavailable, otherErrors,
        writeGapSeconds: gap(okCreates), readGapSeconds: gap(okReads),
      };
    },
  };
}
