/**
 * One Memcached server, as the store needs it: multi-key `get`/`gets`, `add`, `cas`, `set`,
 * `append` and `version`, on memcache-client (loaded on first use). Refusals that are answers
 * (`NOT_STORED`, `EXISTS`, `NOT_FOUND`) resolve false; everything else (refused connection,
 * no answer within the command timeout) rejects, and the store turns it into `store_unavailable`.
 *
 * @example const node = await openNode('127.0.0.1:11211', 2000); await node.add('k', 'v', 60)
 */
import { SessionError } from '../../core/errors.js';

/** A value and its CAS unique, as `gets` returns them. */
export interface CasValue {
  value: string;
  cas: string;
}

export interface MemcachedNode {
  readonly address: string;
  get(keys: readonly string[]): Promise<Map<string, string>>;
  gets(keys: readonly string[]): Promise<Map<string, CasValue>>;
  /** Stores only when the key is absent. */
  add(key: string, value: string, exptime: number): Promise<boolean>;
  /** Stores only when the item is unchanged since `gets` returned `cas`. */
  cas(key: string, value: string, cas: string, exptime: number): Promise<boolean>;
  set(key: string, value: string, exptime: number): Promise<void>;
  /** Appends to an existing item (keeping its expiry); false when there is none. */
  append(key: string, value: string): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  version(): Promise<string>;
  close(): void;
}

interface Retrieved { value: unknown; casUniq?: string | number }
interface Client {
  get(keys: string[]): Promise<Record<string, Retrieved>>;
  gets(keys: string[]): Promise<Record<string, Retrieved>>;
  add(key: string, value: string, options: { lifetime: number }): Promise<string[]>;
  cas(key: string, value: string, options: { casUniq: string; lifetime: number }): Promise<string[]>;
  set(key: string, value: string, options: { lifetime: number }): Promise<string[]>;
  append(key: string, value: string): Promise<string[]>;
  delete(key: string): Promise<string[]>;
  version(): Promise<string[]>;
  shutdown(): void;
}
type ClientClass = new (options: Record<string, unknown>) => Client;

let loaded: Promise<ClientClass> | null = null;

/** Imports memcache-client once; a missing package is a clear `invalid_request`. */
function loadClient(): Promise<ClientClass> {
  loaded ??= (async () => {
    try {
      const mod = await import('memcache-client') as unknown as { MemcacheClient?: ClientClass; default?: { MemcacheClient?: ClientClass } };
      const Ctor = mod.MemcacheClient ?? mod.default?.MemcacheClient;
      if (!Ctor) throw new Error('unexpected memcache-client exports');
      return Ctor;
    } catch (err) {
      loaded = null;
      throw new SessionError('invalid_request', 'memcachedStore needs the memcache-client package: npm install memcache-client', {}, { cause: err });
    }
  })();
  return loaded;
}

const REFUSALS = new Set(['NOT_STORED', 'EXISTS', 'NOT_FOUND']);

/** Resolves false for a refusal the protocol answers with; rethrows anything else. */
async function accepted(work: Promise<unknown>): Promise<boolean> {
  try {
    await work;
    return true;
  } catch (err) {
    if (err instanceof Error && REFUSALS.has(err.message)) return false;
    throw err;
  }
}

/** Opens (lazily: the first command connects) a client for one server. */
export async function openNode(address: string, commandTimeout: number): Promise<MemcachedNode> {
  const Ctor = await loadClient();
  const client = new Ctor({ server: address, cmdTimeout: commandTimeout, connectTimeout: commandTimeout, noDelay: true, keepAlive: 60_000 });
  const strings = (r: Record<string, Retrieved>): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(r)) if (typeof v?.value === 'string') out.set(k, v.value);
    return out;
  };
  return {
    address,
    async get(keys) {
      return keys.length === 0 ? new Map() : strings(await client.get([...keys]));
    },
    async gets(keys) {
      const out = new Map<string, CasValue>();
      if (keys.length === 0) return out;
      for (const [k, v] of Object.entries(await client.gets([...keys]))) {
        if (typeof v?.value === 'string' && v.casUniq !== undefined) out.set(k, { value: v.value, cas: String(v.casUniq) });
      }
      return out;
    },
    add: (key, value, exptime) => accepted(client.add(key, value, { lifetime: exptime })),
    cas: (key, value, cas, exptime) => accepted(client.cas(key, value, { casUniq: cas, lifetime: exptime })),
    async set(key, value, exptime) {
      await client.set(key, value, { lifetime: exptime });
    },
    append: (key, value) => accepted(client.append(key, value)),
    delete: (key) => accepted(client.delete(key)),
    async version() {
      return (await client.version()).join(' ');
    },
    close() {
      client.shutdown();
    },
  };
}

/**
 * Memcached's expiry argument for "this many ms from now": whole seconds rounded up; past 30 days
 * the protocol wants an absolute Unix time; nothing left means "already expired" (-1), never 0
 * (which would mean "never expires").
 */
export function exptime(ms: number, wallNow = Date.now()): number {
  if (!(ms > 0)) return -1;
  const seconds = Math.ceil(ms / 1000);
  return seconds > 30 * 86_400 ? Math.floor(wallNow / 1000) + seconds : seconds;
}
