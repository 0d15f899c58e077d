import type { SessionStore } from '../core/store.js';
import { sealAuditChain } from './checkpoint.js';

/** How often the service seals the head of the audit chain. */
export const AUDIT_SEAL_INTERVAL_MS = 60_000;

/**
 * Seals the audit chain every minute (`sealAuditChain`) until stopped; `stop()` seals once more,
 * so a service that shuts down leaves no unsealed events behind. A failed seal is logged and
 * retried at the next tick: sealing never blocks a request.
 *
 * @example const sealer = startAuditSealer({ store, key, now: Date.now, log }); await sealer.stop()
 */
export function startAuditSealer(options: {
  store: SessionStore;
  key: Uint8Array;
  now: () => number;
  log: { warn(obj: object, msg?: string): void };
  intervalMs?: number;
}): { seal(): Promise<void>; stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const seal = (): Promise<void> => {
    // One seal at a time: two would both write a checkpoint for the same head.
    running = running.then(() => sealAuditChain(options.store, options.key, options.now()).then(() => undefined, (err: unknown) => {
      options.log.warn({ err: (err as Error).message }, 'sealing the audit chain failed; retrying at the next interval');
    }));
    return running;
  };
  const timer = setInterval(() => { void seal(); }, options.intervalMs ?? AUDIT_SEAL_INTERVAL_MS);
  timer.unref();
  return {
    seal,
    async stop() {
      clearInterval(timer);
      await seal();
    },
  };
}
