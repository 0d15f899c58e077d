import type { FastifyInstance, FastifySchema } from 'fastify';
import { isIP } from 'node:net';
import { SessionError } from '../../core/errors.js';
import type { SessionStore } from '../../stores/types.js';
import type { ServiceAuth } from '../auth.js';
import type { ServiceMetrics } from '../metrics.js';
import { errorResponses, errorSchema } from '../schemas.js';

const statusSchema = (value: string) => ({
  type: 'object', required: ['status'], properties: { status: { type: 'string', enum: [value] } }, additionalProperties: false,
});
const READY_TIMEOUT_MS = 2000;

/** Whether an address is this machine (127.0.0.0/8 or ::1): such callers may read metrics freely. */
export function isLoopback(ip: string | null): boolean {
  if (ip === null) return false;
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1';
}

/**
 * Operations routes: liveness, readiness (the store answers), Prometheus metrics (free on
 * loopback, else API key `admin`) and the OpenAPI document.
 *
 * @example opsRoutes(app, { store, auth, metrics, openapi: () => doc })
 */
export function opsRoutes(app: FastifyInstance, deps: { store: SessionStore; auth: ServiceAuth; metrics: ServiceMetrics; openapi: () => Record<string, unknown> }): void {
  app.get('/healthz', {
    schema: {
      operationId: 'healthz', tags: ['operations'], summary: 'Liveness: the process is up',
      response: { 200: statusSchema('ok'), ...errorResponses },
    },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      operationId: 'readyz', tags: ['operations'], summary: 'Readiness: the store answers (503 otherwise)',
      response: { 200: statusSchema('ready'), 503: { ...errorSchema, description: 'The store does not answer' }, ...errorResponses },
    },
  }, async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.store.ping(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('ping timed out')), READY_TIMEOUT_MS); }),
      ]);
    } catch (err) {
      throw new SessionError('store_unavailable', 'the session store does not answer', {}, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ready' };
  });

  app.get('/metrics', {
    schema: {
      operationId: 'metrics', tags: ['operations'], security: [[], ['apiKey']],
      summary: 'Prometheus metrics (free from loopback, else API key `admin`)',
      openapiResponses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        '4XX': { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    } as FastifySchema,
  }, async (request, reply) => {
    if (!isLoopback(deps.auth.ipOf(request))) await deps.auth.apiKey(request, 'admin');
    const body = await deps.metrics.registry.metrics();
    reply.type(deps.metrics.registry.contentType).header('cache-control', 'no-store');
    return body;
  });

  app.get('/openapi.json', {
    schema: {
      operationId: 'openapi', tags: ['operations'], summary: 'This API as OpenAPI 3.1',
      openapiResponses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } },
    } as FastifySchema,
  }, async (_request, reply) => {
    reply.type('application/json; charset=utf-8');
    return JSON.stringify(deps.openapi());
  });
}
