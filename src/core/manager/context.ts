/**
 * The one context every operation of the manager works over, built once from the checked
 * options: the store, the clock and the random source, the derived secrets, the audit helpers and
 * the JWT half. The operation families (create.ts, validate.ts, update.ts, revoke.ts, sweep.ts,
 * csrf.ts) each take it and return their functions; nothing else is shared between them.
 */
import { createHmac } from 'node:crypto';
import { opaqueTokenParser, tokenFingerprint, type ParsedOpaqueToken } from '../../tokens/opaque.js';
import { storeFailure, type SessionError } from '../errors.js';
import { createJwtSessions } from '../jwt/sessions.js';
import type { AuditEvent, AuditEventType, RequestContext } from '../types.js';
import { checkOptions, type CheckedOptions, type SessionManagerOptions } from './options.js';
import { toSession } from './session-view.js';

/** Who an audit event is about: a session (id and user), or nobody. */
export type EventSubject = { id: string; userId: string } | null;

/** The audit helpers: build an event, send events to the sinks, record a rejection. */
export interface AuditHelpers {
  event(type: AuditEventType, s: EventSubject, ctx: RequestContext | undefined, reason?: string | null, extra?: Partial<AuditEvent>): AuditEvent;
  /** Sends events to the sinks; a failing sink never breaks the request. */
  emit(events: AuditEvent[]): void;
  /** Records a rejected attempt (no state change) and returns the error to throw. */
  reject(error: SessionError, token: unknown, ctx: RequestContext | undefined, s: EventSubject, reason: string, detail?: string | null): Promise<SessionError>;
}

/** The derivations from the server secret. */
export interface SecretHelpers {
  /** The server secret: configured, or generated once and shared through the store. */
  serverSecret(): Promise<Buffer>;
  /** A key for one purpose, derived from the server secret. */
  derivedKey(purpose: string): Promise<Buffer>;
  /** The token that follows `secret` at `generation`: derived, so concurrent renewals agree. */
  nextSecret(id: string, generation: number, secret: string): Promise<string>;
}

export interface ManagerContext extends CheckedOptions, AuditHelpers, SecretHelpers {
  /** Parses `<prefix>_<id>.<secret>`; null for anything else. */
  parseToken(token: unknown): ParsedOpaqueToken | null;
  /** The JWT half: access tokens, refresh tokens, the key ring (inert without the `jwt` option). */
  jwt: ReturnType<typeof createJwtSessions>;
}

/**
 * Checks the options and builds the context of one manager.
 *
 * @example const ctx = managerContext({ store: memoryStore() }); await ctx.derivedKey('csrf');
 */
export function managerContext(options: SessionManagerOptions): ManagerContext {
  const checked = checkOptions(options);
  const audit = auditHelpers(checked);
  const secrets = secretHelpers(checked);
  const parseToken = opaqueTokenParser(checked.prefix);
  const jwt = createJwtSessions(options, {
    store: checked.store, now: checked.now, prefix: checked.prefix, resolvePolicy: checked.resolvePolicy,
    derivedKey: secrets.derivedKey, nextSecret: secrets.nextSecret,
    reject: audit.reject, event: audit.event, emit: audit.emit, toSession,
    isOpaqueToken: (token) => parseToken(token) !== null,
  });
  return { ...checked, ...audit, ...secrets, parseToken, jwt };
}

function auditHelpers({ store, now, sinks }: CheckedOptions): AuditHelpers {
  function event(type: AuditEventType, s: EventSubject, ctx: RequestContext | undefined, reason: string | null = null, extra: Partial<AuditEvent> = {}): AuditEvent {
    return {
      type, at: now(), sessionId: s?.id ?? null, userId: s?.userId ?? null,
      ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null, reason,
      actor: ctx?.actor ?? null, requestId: ctx?.requestId ?? null, ...extra,
    };
  }

  function emit(events: AuditEvent[]): void {
    for (const e of events) {
      for (const sink of sinks) {
        try {
          const result = sink.write(e);
          if (result && typeof (result as Promise<void>).catch === 'function') (result as Promise<void>).catch(() => {});
        } catch {
          // a sink that throws must not turn a completed change into a failure
        }
      }
    }
  }

  async function reject(error: SessionError, token: unknown, ctx: RequestContext | undefined, s: EventSubject, reason: string, detail: string | null = null): Promise<SessionError> {
    const e = event('session.rejected', s, ctx, reason, { detail, tokenFingerprint: tokenFingerprint(token) });
    emit([e]);
    try {
      await store.appendAudit([e]);
    } catch {
      // the rejection stands even when the trail cannot be written; the sinks have the event
    }
    return error;
  }

  return { event, emit, reject };
}

function secretHelpers({ store, random, secret }: CheckedOptions): SecretHelpers {
  let secretKey: Promise<Buffer> | null = secret ? Promise.resolve(secret) : null;

  function serverSecret(): Promise<Buffer> {
    if (secretKey) return secretKey;
    secretKey = (async () => {
      try {
        const candidate = random(32).toString('base64url');
        await store.putRecord('settings', 'server-secret', { key: candidate }, { ifAbsent: true });
        const stored = await store.getRecord<{ key: string }>('settings', 'server-secret');
        if (!stored) throw new Error('server secret could not be read back');
        return Buffer.from(stored.key, 'base64url');
      } catch (err) {
        secretKey = null;
        throw storeFailure(err, 'loading the server secret');
      }
    })();
    return secretKey;
  }

  async function derivedKey(purpose: string): Promise<Buffer> {
    return createHmac('sha256', await serverSecret()).update(`sessionkit:${purpose}`).digest();
  }

  async function nextSecret(id: string, generation: number, presented: string): Promise<string> {
    return createHmac('sha256', await derivedKey('renew')).update(`${id}.${generation}.${presented}`).digest('base64url');
  }

  return { serverSecret, derivedKey, nextSecret };
}
