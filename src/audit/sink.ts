import type { AuditEvent } from '../core/types.js';

/** Where audit events go besides the store: a log, a live stream, a test's array. */
export interface AuditSink {
  write(event: AuditEvent): void | Promise<void>;
}

/**
 * Sends every event to a pino logger as one structured line at `info` (rejections at `warn`).
 * Strings are JSON-escaped by pino, so a user id holding `\r\n` cannot forge a line.
 *
 * @example createSessionManager({ store, audit: [pinoAudit(pino())] })
 */
export function pinoAudit(logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }): AuditSink {
  return {
    write(event) {
      const line = { audit: { ...event, at: new Date(event.at).toISOString() } };
      if (event.type === 'session.rejected' || event.type === 'session.refresh_reuse_detected' || event.type === 'apikey.rejected') {
        logger.warn(line, event.type);
      } else {
        logger.info(line, event.type);
      }
    },
  };
}

/** Keeps events in an array: for tests and small tools. */
export function memoryAudit(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, write(event) { events.push(event); } };
}
