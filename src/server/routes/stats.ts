import type { FastifyInstance } from 'fastify';
import { SessionError } from '../../core/errors.js';
import type { SessionManager } from '../../core/manager.js';
import { NO_STORE_HEADERS } from '../../http/core.js';
import type { DashboardAuth } from '../dashboard/auth.js';
import { SERIES, type DashboardStatsModel } from '../dashboard/stats.js';
import { errorResponses } from '../schemas.js';

const counts = { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } } as const;
const time = { type: 'string', format: 'date-time' } as const;

export const statsSchema = {
  type: 'object',
  required: ['at', 'activeSessions', 'complete', 'perMinute', 'devices', 'signingKeys', 'lastSeq'],
  properties: {
    at: time,
    activeSessions: { type: 'integer', minimum: 0, description: 'Sessions neither revoked nor expired now.' },
    complete: { type: 'boolean', description: 'False when the audit trail did not reach back over the whole session lifetime (pruned, or longer than the bounded read), so counts may be low.' },
    perMinute: {
      type: 'object', required: ['start', 'minutes', 'series'],
      description: 'Events per minute over the last hour, oldest minute first: `created` (session.created), `renewed` (session.renewed and session.refreshed), `revoked`, `rejected` (session.rejected), `expired`.',
      properties: {
        start: time, minutes: { type: 'integer' },
        series: {
          type: 'object', required: Object.keys(SERIES),
          properties: Object.fromEntries(Object.keys(SERIES).map((k) => [k, { type: 'array', items: { type: 'integer', minimum: 0 } }])),
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    devices: {
      type: 'object', required: ['type', 'browser', 'os'], description: 'Active sessions by device type, browser and OS.',
      properties: { type: counts, browser: counts, os: counts }, additionalProperties: false,
    },
    signingKeys: {
      type: 'array', description: 'The JWT signing keys and their state (no key material).',
      items: {
        type: 'object', required: ['kid', 'alg', 'state', 'createdAt', 'retiresAt'],
        properties: { kid: { type: 'string' }, alg: { type: 'string' }, state: { type: 'string' }, createdAt: time, retiresAt: { anyOf: [time, { type: 'null' }] }, origin: { type: 'string' } },
        additionalProperties: false,
      },
    },
    lastSeq: { type: 'integer', description: 'The newest audit event counted (resume `/v1/events` after it).' },
  },
  additionalProperties: false,
} as const;

/**
 * `GET /v1/stats`: what the dashboard charts, as JSON (API key `admin` or the dashboard cookie).
 * Answered from memory kept current by the audit feed; the first call seeds it with bounded reads.
 *
 * @example statsRoutes(app, { stats, dashAuth, sessions })
 */
export function statsRoutes(app: FastifyInstance, deps: { stats: DashboardStatsModel; dashAuth: DashboardAuth; sessions: SessionManager }): void {
  app.get('/v1/stats', {
    schema: {
      operationId: 'getStats', tags: ['admin'], security: [['apiKey'], ['dashboardCookie']],
      summary: 'Active sessions, events per minute over the last hour, devices and signing keys (API key `admin` or the dashboard cookie)',
      response: { 200: statsSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    await deps.dashAuth.admin(request);
    let snapshot;
    let keys;
    try {
      [snapshot, keys] = await Promise.all([deps.stats.snapshot(), deps.sessions.keys.list().catch(() => [])]);
    } catch (err) {
      throw err instanceof SessionError ? err : new SessionError('store_unavailable', 'the audit trail could not be read', {}, { cause: err });
    }
    reply.headers(NO_STORE_HEADERS);
    return {
      ...snapshot,
      signingKeys: keys.map((k) => ({
        kid: k.kid, alg: k.alg, state: k.state, createdAt: k.createdAt.toISOString(),
        retiresAt: k.retiresAt ? k.retiresAt.toISOString() : null, ...(k.origin ? { origin: String(k.origin) } : {}),
      })),
    };
  });
}
