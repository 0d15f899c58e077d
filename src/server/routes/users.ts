import type { FastifyInstance } from 'fastify';
import { SessionError } from '../../core/errors.js';
import type { AuditQuery, StoredAuditEvent } from '../../core/types.js';
import { NO_STORE_HEADERS } from '../../http/core.js';
import type { SessionStore } from '../../stores/types.js';
import { auditPageSchema, errorResponses, revokedCountSchema, sessionJson, sessionListSchema } from '../schemas.js';
import type { RouteDeps } from './sessions.js';

const userParams = { type: 'object', required: ['userId'], properties: { userId: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const MAX_AUDIT_PAGE = 1000;
/**
 * A time filter of `/v1/audit`: what `parseTime` accepts, stated so that Fastify refuses the rest
 * before the handler (the document promised `maxLength: 64` only, and the handler refused most of it).
 */
const auditTime = {
  type: 'string',
  anyOf: [
    { format: 'date-time', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})$' },
    { pattern: '^[0-9]{1,16}$' },
  ],
} as const;

/**
 * The routes a backend uses on one user's sessions (API key `sessions`), and the audit trail
 * (API key `admin`).
 *
 * @example app.register(async (scope) => userRoutes(scope, deps, store))
 */
export function userRoutes(app: FastifyInstance, deps: RouteDeps, store: SessionStore): void {
  const { sessions, auth } = deps;

  app.get('/v1/users/:userId/sessions', {
    schema: {
      operationId: 'listUserSessions', tags: ['users'], security: [['apiKey']],
      summary: "A user's live sessions",
      params: userParams,
      response: { 200: sessionListSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    await auth.apiKey(request, 'sessions');
    const { userId } = request.params as { userId: string };
    reply.headers(NO_STORE_HEADERS);
    return { sessions: (await sessions.listForUser(userId)).map((s) => sessionJson(s)) };
  });

  app.delete('/v1/users/:userId/sessions', {
    schema: {
      operationId: 'revokeUserSessions', tags: ['users'], security: [['apiKey']],
      summary: "Revoke all of a user's sessions (`?except=<sessionId>` keeps one)",
      params: userParams,
      querystring: { type: 'object', properties: { except: { type: 'string', minLength: 1, maxLength: 256, description: 'A session id to keep.' } }, additionalProperties: false },
      response: { 200: revokedCountSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const principal = await auth.apiKey(request, 'sessions');
    const { userId } = request.params as { userId: string };
    const { except } = request.query as { except?: string };
    const revoked = await sessions.revokeAllForUser(userId, { ...auth.context(request, `apikey:${principal.id}`), reason: 'admin', ...(except ? { except } : {}) });
    reply.headers(NO_STORE_HEADERS);
    return { revoked };
  });

  app.get('/v1/audit', {
    schema: {
      operationId: 'queryAudit', tags: ['admin'], security: [['apiKey']],
      summary: 'Audit events, newest first (API key `admin`)',
      querystring: {
        type: 'object',
        properties: {
          userId: { type: 'string', maxLength: 256 },
          sessionId: { type: 'string', maxLength: 256 },
          type: { type: 'string', maxLength: 64, description: 'An event type, e.g. `session.revoked`.' },
          ip: { type: 'string', maxLength: 64, description: 'The client IP the event recorded, e.g. every `session.rejected` from one address.' },
          since: { ...auditTime, description: 'From this time (inclusive): RFC 3339 date-time, or milliseconds since the epoch.' },
          until: { ...auditTime, description: 'Before this time (exclusive): RFC 3339 date-time, or milliseconds since the epoch.' },
          // Exactly the range the handler accepts (no leading zeros), so a generated client never sends a refused page size.
          limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: `Page size, 1 to ${MAX_AUDIT_PAGE} (default 100), in decimal without leading zeros.` },
          cursor: { type: 'string', pattern: '^[0-9]{1,16}$', description: 'The `nextCursor` of the previous page: the `seq` of its last event (the page holds older events).' },
        },
        additionalProperties: false,
      },
      response: { 200: auditPageSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    await auth.apiKey(request, 'admin');
    const q = request.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) throw new SessionError('invalid_request', `limit: expected 1 to ${MAX_AUDIT_PAGE}`);
    const query: AuditQuery = { limit };
    if (q.userId) query.userId = q.userId;
    if (q.sessionId) query.sessionId = q.sessionId;
    if (q.type) query.type = q.type;
    if (q.ip) query.ip = q.ip;
    if (q.since) query.since = parseTime(q.since, 'since');
    if (q.until) query.until = parseTime(q.until, 'until');
    if (q.cursor) query.before = decodeCursor(q.cursor);
    let events: StoredAuditEvent[];
    try {
      events = await store.queryAudit(query);
    } catch (err) {
      throw err instanceof SessionError ? err : new SessionError('store_unavailable', 'the audit trail could not be read', {}, { cause: err });
    }
    const last = events[events.length - 1];
    reply.headers(NO_STORE_HEADERS);
    return {
      events: events.map((e) => ({
        seq: e.seq, type: e.type, at: new Date(e.at).toISOString(), sessionId: e.sessionId, userId: e.userId, ip: e.ip,
        userAgent: e.userAgent, reason: e.reason, detail: e.detail ?? null, actor: e.actor, requestId: e.requestId,
        tokenFingerprint: e.tokenFingerprint ?? null, prevHash: e.prevHash, hash: e.hash,
      })),
      nextCursor: events.length === limit && last ? encodeCursor(last.seq) : null,
    };
  });
}

function parseTime(value: string, name: string): number {
  // A leap second (23:59:60, valid RFC 3339) is not something Date.parse reads: count it as the next second.
  const ms = /^\d{1,16}$/.test(value) ? Number(value) : /T\d{2}:\d{2}:60/.test(value) ? Date.parse(value.replace(/:60(?=[.Z+-])/, ':59')) + 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new SessionError('invalid_request', `${name}: expected an ISO-8601 time such as 2025-01-31T12:00:00Z`);
  return ms;
}

/**
 * The cursor is the seq of the last event shown, in decimal, so paging is stable while events
 * arrive. It was base64url text the document could not describe (any value the pattern allowed
 * but the service had not issued was refused); now every value the document allows is a cursor.
 */
function encodeCursor(seq: number): string {
  return String(seq);
}

function decodeCursor(cursor: string): number {
  // The route's schema has already checked `^[0-9]{1,16}$`; this keeps the function honest on its own.
  if (!/^[0-9]{1,16}$/.test(cursor)) throw new SessionError('invalid_request', 'cursor: expected the nextCursor of a previous page');
  return Number(cursor);
}
