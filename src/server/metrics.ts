import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditSink } from '../audit/sink.js';
import type { SessionStore } from '../stores/types.js';

/** The store calls timed by `sessionkit_store_operation_duration_seconds`. */
const TIMED_STORE_CALLS = ['get', 'create', 'replace', 'touch', 'revoke', 'revokeAllForUser', 'listForUser', 'sweepExpired',
  'appendAudit', 'queryAudit', 'getRecord', 'putRecord', 'listRecords', 'deleteRecord', 'ping'] as const;

export type ServiceMetrics = ReturnType<typeof createMetrics>;

/**
 * The service's Prometheus metrics, in a registry of their own (so two servers in one process,
 * as in tests, do not collide). Session counts come from the audit events this process emits;
 * `sessionkit_active_sessions` is kept up to date from them rather than by scanning the store.
 *
 * @example
 * const metrics = createMetrics();
 * createSessionManager({ store: metrics.timedStore(store), audit: [metrics.auditSink] });
 * res.end(await metrics.registry.metrics());
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'sessionkit_' });
  const validations = new Counter({
    name: 'sessionkit_validations_total', help: 'Session token validations by result (ok, or the error code).',
    labelNames: ['result'], registers: [registry],
  });
  const created = new Counter({ name: 'sessionkit_sessions_created_total', help: 'Sessions created.', registers: [registry] });
  const revoked = new Counter({
    name: 'sessionkit_sessions_revoked_total', help: 'Sessions revoked, by reason.', labelNames: ['reason'], registers: [registry],
  });
  const expired = new Counter({ name: 'sessionkit_sessions_expired_total', help: 'Expired sessions swept from the store.', registers: [registry] });
  const refreshed = new Counter({ name: 'sessionkit_sessions_refreshed_total', help: 'Refresh-token rotations (JWT sessions).', registers: [registry] });
  const reuse = new Counter({ name: 'sessionkit_refresh_reuse_detected_total', help: 'Reused refresh tokens detected (the session is revoked).', registers: [registry] });
  const rejected = new Counter({
    name: 'sessionkit_rejections_total', help: 'Rejected credentials, by kind (session, apikey) and reason.',
    labelNames: ['kind', 'reason'], registers: [registry],
  });
  const active = new Gauge({
    name: 'sessionkit_active_sessions',
    help: 'Sessions created minus sessions ended, as seen by this process since it started (sum over instances).',
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'sessionkit_http_request_duration_seconds', help: 'HTTP request latency by method, route and status.',
    labelNames: ['method', 'route', 'status'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const storeDuration = new Histogram({
    name: 'sessionkit_store_operation_duration_seconds', help: 'Session store call latency by operation and outcome.',
    labelNames: ['operation', 'outcome'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });

  const auditSink: AuditSink = {
    write(event) {
      switch (event.type) {
        case 'session.created': created.inc(); active.inc(); break;
        case 'session.revoked': revoked.inc({ reason: event.reason ?? 'unknown' }); active.dec(); break;
        case 'session.expired': expired.inc(); active.dec(); break;
        case 'session.refreshed': refreshed.inc(); break;
        case 'session.refresh_reuse_detected': reuse.inc(); break;
        case 'session.rejected': rejected.inc({ kind: 'session', reason: event.reason ?? 'unknown' }); break;
        case 'apikey.rejected': rejected.inc({ kind: 'apikey', reason: event.reason ?? 'unknown' }); break;
        default: break;
      }
    },
  };

  // Label lookups hash their label object on every call; requests reuse a few label sets, so the
  // bound children are kept (bounded: routes x methods x statuses is small, unmatched URLs share one).
  const requestChildren = new Map<string, { observe(v: number): void }>();
  function observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = requestChildren.get(key);
    if (!child) {
      if (requestChildren.size > 2000) requestChildren.clear();
      child = requestDuration.labels(method, route, String(status));
      requestChildren.set(key, child);
    }
    child.observe(seconds);
  }
  const storeChildren = new Map<string, { observe(v: number): void }>();
  function storeChild(operation: string, outcome: 'ok' | 'error'): { observe(v: number): void } {
    const key = `${operation} ${outcome}`;
    let child = storeChildren.get(key);
    if (!child) storeChildren.set(key, (child = storeDuration.labels(operation, outcome)));
    return child;
  }
  const validationChildren = new Map<string, { inc(): void }>();
  function countValidation(result: string): void {
    let child = validationChildren.get(result);
    if (!child) validationChildren.set(result, (child = validations.labels(result)));
    child.inc();
  }

  /** Wraps a store so each call's latency is observed; everything else passes through untouched. */
  function timedStore(store: SessionStore): SessionStore {
    const wrapped: SessionStore = Object.create(store) as SessionStore;
    for (const operation of TIMED_STORE_CALLS) {
      const original = store[operation] as (...args: unknown[]) => Promise<unknown>;
      if (typeof original !== 'function') continue;
      (wrapped as unknown as Record<string, unknown>)[operation] = function timed(...args: unknown[]) {
        const start = performance.now();
        return original.apply(store, args).then(
          (value) => { storeChild(operation, 'ok').observe((performance.now() - start) / 1000); return value; },
          (err: unknown) => { storeChild(operation, 'error').observe((performance.now() - start) / 1000); throw err; },
        );
      };
    }
    return wrapped;
  }

  return { registry, countValidation, observeRequest, auditSink, timedStore, rejected };
}
