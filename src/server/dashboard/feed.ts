/**
 * The service's live view of the audit trail: one poller per process that reads the events written
 * after the last one it saw (`queryAudit({ after })`, an indexed seq range on every store), keeps
 * the most recent ones in memory, and wakes its listeners (Server-Sent Events streams, the stats).
 * Polling the store rather than listening to this process's sinks means events written by every
 * process on the store (other instances, the CLI) arrive, and in commit order.
 */
import type { StoredAuditEvent } from '../../core/types.js';
import type { SessionStore } from '../../stores/types.js';

export interface AuditFeedOptions {
  /** How often the store is asked for new events while someone listens. Default 300 ms. */
  pollInterval?: number;
  /** Events kept in memory for listeners that are a little behind. Default 2000. */
  keep?: number;
  /** Page size of one poll. Default 500. */
  page?: number;
  /** Told once when polling starts failing and once when it recovers. */
  onError?: (err: unknown) => void;
  onRecover?: () => void;
}

export interface AuditFeed {
  /** The seq of the newest event seen (0 before the first poll found one). */
  readonly head: number;
  /**
   * The events after `cursor` (oldest first, at most `limit`): from memory when the feed still
   * holds them, else from the store. Resolves with [] once `cursor` reached the head.
   */
  read(cursor: number, limit: number): Promise<StoredAuditEvent[]>;
  /** Calls `listener(events)` after each poll that found events; polls while anyone listens. */
  subscribe(listener: (events: StoredAuditEvent[]) => void): () => void;
  /** Makes sure the head is known (one query the first time), then resolves with it. */
  ready(): Promise<number>;
  /** Asks the store for its newest seq now (one query) and resolves with it. */
  newest(): Promise<number>;
  /** Stops polling for good. */
  close(): void;
}

/**
 * Creates the feed. Nothing is polled until the first subscriber; the timer is unref'd and stops
 * when the last one leaves, so an idle service asks the store nothing.
 *
 * @example
 * const feed = auditFeed(store);
 * const stop = feed.subscribe((events) => events.forEach(send));
 */
export function auditFeed(store: SessionStore, options: AuditFeedOptions = {}): AuditFeed {
  const pollInterval = options.pollInterval ?? 300;
  const keep = options.keep ?? 2000;
  const page = options.page ?? 500;
  const listeners = new Set<(events: StoredAuditEvent[]) => void>();
  /** Contiguous run of the newest events seen, oldest first. */
  let recent: StoredAuditEvent[] = [];
  let head = 0;
  let known: Promise<number> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let polling = false;
  let failing = false;
  let closed = false;

  async function newest(): Promise<number> {
    const found = await store.queryAudit({ limit: 1 });
    return found[0]?.seq ?? 0;
  }

  function ready(): Promise<number> {
    known ??= newest().then((seq) => {
      head = Math.max(head, seq);
      return head;
    }, (err: unknown) => {
      known = null;
      throw err;
    });
    return known.then(() => head);
  }

  function remember(events: StoredAuditEvent[]): void {
    const first = events[0];
    if (!first) return;
    // Only a contiguous run can answer "everything after seq n" from memory.
    if (recent.length > 0 && first.seq !== (recent[recent.length - 1] as StoredAuditEvent).seq + 1) recent = [];
    recent.push(...events);
    if (recent.length > keep) recent = recent.slice(recent.length - keep);
  }

  async function poll(): Promise<void> {
    if (polling || closed) return;
    polling = true;
    try {
      await ready();
      for (;;) {
        const events = await store.queryAudit({ after: head, limit: page });
        if (events.length === 0) break;
        remember(events);
        head = (events[events.length - 1] as StoredAuditEvent).seq;
        for (const listener of [...listeners]) {
          try {
            listener(events);
          } catch {
            // one broken listener must not starve the others
          }
        }
        if (events.length < page) break;
      }
      if (failing) options.onRecover?.();
      failing = false;
    } catch (err) {
      if (!failing) options.onError?.(err);
      failing = true;
    } finally {
      polling = false;
    }
  }

  function start(): void {
    if (timer || closed) return;
    timer = setInterval(() => { void poll(); }, pollInterval);
    timer.unref();
    void poll();
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  return {
    get head() {
      return head;
    },
    async read(cursor, limit) {
      const first = recent[0];
      if (first && first.seq <= cursor + 1) {
        const from = recent.findIndex((e) => e.seq > cursor);
        return from < 0 ? [] : recent.slice(from, from + limit);
      }
      if (cursor >= head) return [];
      return store.queryAudit({ after: cursor, limit });
    },
    subscribe(listener) {
      listeners.add(listener);
      start();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    ready,
    newest,
    close() {
      closed = true;
      stop();
      listeners.clear();
    },
  };
}
