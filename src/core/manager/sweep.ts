/** Sweeping: removing expired sessions in batches, with one `session.expired` event each. */
import { storeFailure } from '../errors.js';
import type { StoredSession } from '../types.js';
import type { ManagerContext } from './context.js';

/**
 * The manager's `sweepExpired`: deletes expired sessions `batchSize` at a time until a batch comes
 * back short (or `maxBatches` ran) and returns how many went. Sessions that were still live when
 * they expired get a `session.expired` event (actor `sweeper`); revoked ones were audited already.
 *
 * @example const sweepExpired = sweepOperation(ctx); await sweepExpired({ batchSize: 500 });
 */
export function sweepOperation(ctx: ManagerContext) {
  const { store, now } = ctx;

  return async function sweepExpired(opts: { batchSize?: number; maxBatches?: number } = {}): Promise<number> {
    const batchSize = opts.batchSize ?? 500;
    const maxBatches = opts.maxBatches ?? Number.POSITIVE_INFINITY;
    let total = 0;
    for (let batch = 0; batch < maxBatches; batch += 1) {
      let swept: StoredSession[];
      try {
        swept = await store.sweepExpired(now(), batchSize);
      } catch (err) {
        throw storeFailure(err, 'sweepExpired');
      }
      const events = swept.filter((s) => s.revokedAt === null)
        .map((s) => ctx.event('session.expired', s, { actor: 'sweeper' }, 'expired', { detail: now() >= s.absoluteExpiresAt ? 'absolute' : 'idle' }));
      if (events.length > 0) {
        ctx.emit(events);
        try {
          await store.appendAudit(events);
        } catch {
          // the records are gone either way; the sinks have the events
        }
      }
      total += swept.length;
      if (swept.length < batchSize) break;
    }
    return total;
  };
}
