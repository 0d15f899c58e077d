/**
 * A dedicated connection that LISTENs on the store's channel and hands every notification to a
 * callback. It is opened when the first watcher subscribes, reconnects with a capped backoff when
 * the server goes away, and is closed when the last watcher leaves or the store closes.
 * Notifications sent while it was disconnected are lost (PostgreSQL does not queue them for an
 * absent listener), so watchers treat `watch` as a fast path, never as the only source of truth.
 */
import type { Client, ClientConfig, Notification } from 'pg';
import { settleWithin } from './sql.js';

export interface ListenerOptions {
  /** Makes a fresh, unconnected client (pg is loaded lazily by the caller). */
  makeClient: (config: ClientConfig) => Client;
  config: ClientConfig;
  channel: string;
  onPayload: (payload: string) => void;
  /** Called after every (re)connection has issued LISTEN: other processes' changes flow again. */
  onListening?: () => void;
  /** Called when an established LISTEN connection is found dead (notifications may have been missed). */
  onLost?: () => void;
  /**
   * How often an idle LISTEN connection proves it is alive with `SELECT 1`. A server that stops
   * answering without closing the socket would otherwise leave the listener deaf for as long as
   * TCP keepalive takes (hours by default). Default 10 s; 0 turns it off.
   */
  heartbeatMs?: number;
  /** How long the heartbeat waits for its answer. Default 2 s. */
  heartbeatTimeoutMs?: number;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export interface Listener {
  stop(): Promise<void>;
  /** Resolves once LISTEN is active on the current connection (for tests and start-up). */
  listening(): Promise<void>;
}

/**
 * Starts listening; never throws: connection failures are retried in the background.
 *
 * @example const l = startListener({ makeClient: (c) => new pg.Client(c), config, channel, onPayload });
 */
export function startListener(options: ListenerOptions): Listener {
  let stopped = false;
  let client: Client | null = null;
  let backoff = MIN_BACKOFF_MS;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let waiters: (() => void)[] = [];
  let active = false;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 2_000;

  const stopHeartbeat = (): void => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = null;
  };

  const onNotification = (msg: Notification): void => {
    if (msg.channel === options.channel && typeof msg.payload === 'string') options.onPayload(msg.payload);
  };

  const scheduleReconnect = (): void => {
    stopHeartbeat();
    const wasActive = active;
    active = false;
    if (wasActive && !stopped) options.onLost?.();
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, backoff);
    timer.unref?.();
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = options.makeClient(options.config);
    client = c;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      c.removeListener('notification', onNotification);
      c.end().catch(() => {});
      if (client === c) client = null;
      scheduleReconnect();
    };
    // An 'error' without a listener would crash the process; 'end' covers a clean server close.
    c.on('error', fail);
    c.on('end', fail);
    c.on('notification', onNotification);
    try {
      await c.connect();
      await c.query(`LISTEN "${options.channel}"`);
    } catch {
      fail();
      return;
    }
    if (stopped || failed) return;
    backoff = MIN_BACKOFF_MS;
    active = true;
    if (heartbeatMs > 0) {
      let inFlight = false;
      heartbeat = setInterval(() => {
        if (inFlight) return;
        inFlight = true;
        c.query({ text: 'SELECT 1', query_timeout: heartbeatTimeoutMs } as { text: string }).then(() => { inFlight = false; }, () => {
          inFlight = false;
          // A reply that never came leaves the socket in an unknown state: drop it and start over.
          const stream = (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
          stream?.destroy();
          fail();
        });
      }, heartbeatMs);
      heartbeat.unref?.();
    }
    for (const w of waiters.splice(0)) w();
    options.onListening?.();
  };

  void connect();

  return {
    listening() {
      if (active) return Promise.resolve();
      return new Promise((resolve) => { waiters.push(resolve); });
    },
    async stop() {
      stopped = true;
      active = false;
      waiters = [];
      stopHeartbeat();
      if (timer) clearTimeout(timer);
      timer = null;
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        c.removeAllListeners('notification');
        c.removeAllListeners('error');
        c.on('error', () => {});
        // A polite Terminate first; if the server cannot even acknowledge it, just drop the socket.
        await settleWithin(c.end(), heartbeatTimeoutMs);
        (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      }
    },
  };
}
