import type { AuditEvent, AuditSink } from '../core/types.js';

export type { AuditSink };

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
