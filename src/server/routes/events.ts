import type { FastifyInstance, FastifySchema } from 'fastify';
import { matchesQuery } from '../../audit/chain.js';
import { SessionError } from '../../core/errors.js';
import type { StoredAuditEvent } from '../../core/types.js';
import { headerValue } from '../../http/core.js';
import type { DashboardAuth } from '../dashboard/auth.js';
import type { AuditFeed } from '../dashboard/feed.js';
import { auditEventJson } from '../dashboard/json.js';
import { errorSchema } from '../schemas.js';

const HEARTBEAT_MS = 15_000;
const PAGE = 200;
/** Streams one process serves at once; more are refused (429) rather than starving the rest. */
const MAX_STREAMS = 200;
/** A client that has not read its stream for this long is dropped. */
const STALL_MS = 30_000;

export interface EventRouteDeps {
  feed: AuditFeed;
  dashAuth: DashboardAuth;
  logger: { warn(obj: object, msg?: string): void };
  /** A stream ends after this many milliseconds (the client reconnects and is authenticated again). */
  maxLifetime: number;
  /** Every this many milliseconds a stream checks that its credential is still valid, and ends if not. */
  recheckInterval: number;
}

export interface EventStreams {
  /** Ends every open stream (before the server closes: they would hold it open). */
  closeAll(): void;
  readonly open: number;
}

/**
 * `GET /v1/events`: the audit trail as Server-Sent Events (admin API key or dashboard cookie).
 * Each event is `id: <seq>` plus one line of JSON (`JSON.stringify` escapes line breaks, so no
 * field can forge another SSE line). A reconnecting client sends `Last-Event-ID` and gets every
 * event after it from the store before the live ones; without it the stream starts at the newest
 * event. Filters `userId`, `sessionId`, `type` as in `/v1/audit`. A comment line every 15 s keeps
 * proxies from timing the stream out.
 *
 * A stream is only as good as the credential that opened it: every `recheckInterval` it checks
 * that the API key (or the dashboard sign-in and its key) is still valid and ends with
 * `event: error` / `{"error":"token_invalid"}` when not; a dashboard sign-out on this instance
 * ends that sign-in's streams at once. After `maxLifetime` it ends with `event: end`, and the
 * client's reconnection is authenticated afresh.
 *
 * @example eventRoutes(app, { feed, dashAuth, logger })
 */
export function eventRoutes(app: FastifyInstance, deps: EventRouteDeps): EventStreams {
  const streams = new Set<() => void>();

  app.get('/v1/events', {
    schema: {
      operationId: 'streamEvents', tags: ['admin'], security: [['apiKey'], ['dashboardCookie']],
      summary: 'Live audit events as Server-Sent Events (API key `admin` or the dashboard cookie)',
      description: 'Each event: `id: <seq>` and `data: <audit event JSON>` (the fields of `/v1/audit`). Send `Last-Event-ID` '
        + '(or `?lastEventId=`) to resume after an event: the missed events come first. Without it, the stream starts with the '
        + 'events written after the request. A `: ping` comment is sent every 15 s. The stream ends with `event: error` '
        + '(`{"error":"token_invalid"}`) within SESSIONKIT_EVENT_STREAM_RECHECK once its API key is revoked or its dashboard '
        + 'sign-in ends, and with `event: end` (`{"reason":"max_lifetime"}`) after SESSIONKIT_EVENT_STREAM_MAX_LIFETIME.',
      querystring: {
        type: 'object',
        properties: {
          userId: { type: 'string', maxLength: 256 },
          sessionId: { type: 'string', maxLength: 256 },
          type: { type: 'string', maxLength: 64 },
          lastEventId: { type: 'string', pattern: '^[0-9]{1,16}$', description: 'Like the `Last-Event-ID` header, for clients that cannot set it.' },
        },
        additionalProperties: false,
      },
      openapiResponses: {
        200: { description: 'An endless stream of audit events', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '4XX': { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
        '5XX': { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    } as FastifySchema,
  }, async (request, reply) => {
    const caller = await deps.dashAuth.admin(request);
    const q = request.query as { userId?: string; sessionId?: string; type?: string; lastEventId?: string };
    const resumeFrom = headerValue(request.headers, 'last-event-id')?.trim() || q.lastEventId;
    if (resumeFrom !== undefined && !/^[0-9]{1,16}$/.test(resumeFrom)) throw new SessionError('invalid_request', 'Last-Event-ID: expected the id (seq) of an event');
    if (streams.size >= MAX_STREAMS) throw new SessionError('rate_limited', 'too many live event streams on this instance; try again later', { retryAfter: 5 });
    let cursor: number;
    try {
      cursor = resumeFrom !== undefined ? Number(resumeFrom) : await deps.feed.newest();
    } catch (err) {
      throw new SessionError('store_unavailable', 'the audit trail could not be read', {}, { cause: err });
    }
    const filter = { ...(q.userId ? { userId: q.userId } : {}), ...(q.sessionId ? { sessionId: q.sessionId } : {}), ...(q.type ? { type: q.type } : {}) };

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
      'x-accel-buffering': 'no', 'x-request-id': request.id, 'x-content-type-options': 'nosniff',
    });
    res.write(`: sessionkit audit stream (${caller.via})\nretry: 2000\n\n`);

    let closed = false;
    let pumping = false;
    let again = false;
    let stallTimer: NodeJS.Timeout | null = null;
    const send = (e: StoredAuditEvent): boolean => res.write(`id: ${e.seq}\ndata: ${JSON.stringify(auditEventJson(e))}\n\n`);

    /** Sends everything after the cursor, from memory or the store; one run at a time. */
    async function pump(): Promise<void> {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          while (!closed) {
            const events = await deps.feed.read(cursor, PAGE);
            if (events.length === 0) break;
            let writable = true;
            for (const e of events) {
              cursor = e.seq;
              if (matchesQuery(e, filter)) writable = send(e) && writable;
            }
            if (!writable) await drained();
          }
        } while (again && !closed);
      } catch (err) {
        // The store blipped while catching up: say so in the stream and end it; the client reconnects with Last-Event-ID.
        if (!closed) {
          deps.logger.warn({ err: (err as Error).message }, 'audit event stream failed');
          res.write('event: error\ndata: {"error":"store_unavailable"}\n\n');
          close();
        }
      } finally {
        pumping = false;
      }
    }

    function drained(): Promise<void> {
      return new Promise((resolve) => {
        stallTimer = setTimeout(() => close(), STALL_MS);
        res.once('drain', () => {
          if (stallTimer) clearTimeout(stallTimer);
          resolve();
        });
        res.once('close', () => resolve());
      });
    }

    const heartbeat = setInterval(() => { if (!closed) res.write(': ping\n\n'); }, HEARTBEAT_MS);
    heartbeat.unref();
    /** Ends the stream with a last event the client can tell apart from a network failure. */
    const finish = (event: 'end' | 'error', data: object): void => {
      if (closed) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      close();
    };
    const lifetime = setTimeout(() => finish('end', { reason: 'max_lifetime' }), deps.maxLifetime);
    lifetime.unref();
    let checking = false;
    const recheck = setInterval(() => {
      if (checking || closed) return;
      checking = true;
      // A store that cannot answer cannot vouch for the credential either: the stream ends, and
      // the client's reconnection is checked in full.
      deps.dashAuth.stillValid(caller).catch(() => false).then((valid) => {
        if (!valid) finish('error', { error: 'token_invalid' });
      }).finally(() => { checking = false; });
    }, deps.recheckInterval);
    recheck.unref();
    const stopSignOut = caller.sessionId === undefined ? () => {} : deps.dashAuth.onSignOut((id) => {
      if (id === caller.sessionId) finish('error', { error: 'token_invalid' });
    });
    const unsubscribe = deps.feed.subscribe(() => { void pump(); });
    function close(): void {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearInterval(recheck);
      clearTimeout(lifetime);
      stopSignOut();
      if (stallTimer) clearTimeout(stallTimer);
      unsubscribe();
      streams.delete(close);
      res.end();
    }
    streams.add(close);
    res.on('close', close);
    void pump();
  });

  return {
    closeAll() {
      for (const close of [...streams]) close();
    },
    get open() {
      return streams.size;
    },
  };
}
