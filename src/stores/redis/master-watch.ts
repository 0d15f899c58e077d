/**
 * Keeps Sentinel connections on the current master. ioredis asks Sentinel for the master only
 * when it (re)connects; a master that froze (SIGSTOP, a stalled VM) and came back after a replica
 * was promoted keeps its sockets, keeps saying `role:master` and keeps accepting writes until
 * Sentinel demotes it about 8 s later, and those writes are discarded when it resyncs
 * (docs/SECURITY.md, issue 22). So every `interval` ms one sentinel is asked for the master's
 * address, and any watched connection whose peer is another address is destroyed: ioredis then
 * reconnects through Sentinel to the promoted master.
 *
 * @example const watch = watchSentinelMaster(Redis, client.options, 250, 2000); watch.add(client); ... watch.close();
 */
import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';

export interface MasterWatch {
  /** Watches one more connection (the main one, the subscriber, the revocation lane). */
  add(client: Redis): void;
  /** Checks once now; resolves with the address Sentinel named, or null when no sentinel answered. */
  check(): Promise<{ host: string; port: number } | null>;
  close(): void;
}

type Address = { host: string; port: number };

const plain = (address: string | undefined): string | undefined => address?.replace(/^::ffff:/, '');

/** The addresses a host name stands for (itself when it is an IP). */
async function addressesOf(host: string): Promise<Set<string>> {
  if (isIP(host)) return new Set([host]);
  try {
    return new Set((await lookup(host, { all: true })).map((a) => a.address));
  } catch {
    return new Set();
  }
}

/**
 * Starts watching for the Sentinel deployment that `options` (a Sentinel client's options) names.
 * `Client` is ioredis's `Redis`, passed in because ioredis is loaded lazily.
 */
export function watchSentinelMaster(Client: typeof Redis, options: RedisOptions, interval: number, timeout: number): MasterWatch {
  const sentinels = (options.sentinels ?? []).map((s) => ({ host: s.host ?? 'localhost', port: s.port ?? 26379 }));
  const clients = new Set<Redis>();
  let current = 0;
  let conn: Redis | null = null;
  let closed = false;
  let running: Promise<Address | null> | null = null;

  const open = (at: Address): Redis => {
    const c = new Client({
      host: at.host, port: at.port, username: options.sentinelUsername, password: options.sentinelPassword,
      ...(options.sentinelTLS ? { tls: options.sentinelTLS } : {}),
      connectTimeout: timeout, commandTimeout: timeout, retryStrategy: () => null, maxRetriesPerRequest: 0, enableReadyCheck: false,
    });
    c.on('error', () => { /* a sentinel that does not answer: the next one is asked */ });
    return c;
  };

  /** The master's address as the first sentinel that answers names it (after natMap). */
  const ask = async (): Promise<Address | null> => {
    for (let tried = 0; tried < sentinels.length && !closed; tried += 1) {
      conn ??= open(sentinels[current] as Address);
      try {
        const reply = await conn.call('SENTINEL', 'get-master-addr-by-name', options.name as string);
        if (!Array.isArray(reply) || reply.length < 2) return null;
        const named = { host: String(reply[0]), port: Number(reply[1]) };
        const nat = options.natMap;
        const mapped = typeof nat === 'function' ? nat(`${named.host}:${named.port}`) : nat?.[`${named.host}:${named.port}`];
        return mapped?.host && mapped.port ? { host: mapped.host, port: mapped.port } : named;
      } catch {
        conn.disconnect();
        conn = null;
        current = (current + 1) % sentinels.length;
      }
    }
    return null;
  };

  const check = (): Promise<Address | null> => {
    running ??= (async () => {
      try {
        const master = await ask();
        if (!master || closed) return master;
        const addresses = await addressesOf(master.host);
        for (const client of clients) {
          const stream = client.stream as Socket | undefined;
          if (!stream || stream.destroyed || stream.remotePort === undefined) continue;
          const remote = plain(stream.remoteAddress);
          if (stream.remotePort !== master.port || (addresses.size > 0 && remote !== undefined && !addresses.has(remote))) {
            // Not `disconnect()`: that ends the socket politely and waits up to ioredis's
            // `disconnectTimeout` (2 s) for a peer that, frozen, never answers. Destroying it
            // closes at once; ioredis reconnects
            // through Sentinel, and commands in flight fail (store_unavailable), none reach
            // the old master afterwards.
            stream.destroy();
          }
        }
        return master;
      } finally {
        running = null;
      }
    })();
    return running;
  };

  const timer = setInterval(() => {
    check().catch(() => {});
  }, interval);
  timer.unref();

  return {
    add(client) {
      clients.add(client);
      client.once('end', () => clients.delete(client));
    },
    check,
    close() {
      closed = true;
      clearInterval(timer);
      clients.clear();
      conn?.disconnect();
      conn = null;
    },
  };
}
