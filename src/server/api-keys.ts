import { createHash, randomBytes } from 'node:crypto';
import { boundedMap, type BoundedMap } from '../core/bounded-map.js';
import { SessionError } from '../core/errors.js';
import type { SessionStore } from '../stores/types.js';
import { hashesEqual, hashSecret, MAX_TOKEN_LENGTH } from '../tokens/opaque.js';

/** What an API key may do: `sessions` (the session routes) or `admin` (everything). */
export type ApiKeyScope = 'sessions' | 'admin';

export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['sessions', 'admin'];

/** An API key as it may be shown: never the key, never its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  /** Written at most once a minute per process, so it lags real use by up to that. */
  lastUsedAt: Date | null;
}

/** The stored record (kind `api-keys`): the SHA-256 of the secret, never the secret. */
interface StoredApiKey {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  secretHash: string;
  createdAt: number;
}

/** Last use lives in its own record (kind `api-key-usage`), so writing it can never resurrect a revoked key. */
interface StoredApiKeyUsage {
  id: string;
  lastUsedAt: number;
}

const KIND = 'api-keys';
const USAGE_KIND = 'api-key-usage';
const KEY_PATTERN = /^ska_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const USAGE_WRITE_INTERVAL = 60_000;
/** Id of the key given by `SESSIONKIT_ADMIN_KEY`: not in the store, always `admin`. */
export const CONFIGURED_ADMIN_KEY_ID = 'config';

/** Per store and process: when each key's last use was last written. */
const usageWritten = new WeakMap<SessionStore, Map<string, number>>();

/**
 * How long (ms) a verified API key is used from memory without reading the store again, on
 * stores that announce deleted keys (`capabilities.recordChanges`: Redis). A revocation reaches
 * every process through that notice at once; the TTL bounds it when a notice is lost (subscriber
 * down). On a Cluster the keys live in one hash slot: the cache keeps verified keys working for
 * this long while that one shard fails over (docs/OPERATIONS.md).
 */
export const API_KEY_CACHE_MS = 5000;
const API_KEY_CACHE_ENTRIES = 1000;

interface CachedKey {
  record: StoredApiKey;
  /** When the store was read (the caller's clock). */
  readAt: number;
}

/** Per store and process: verified keys by id, and whether the store's notices are subscribed. */
const verifiedKeys = new WeakMap<SessionStore, BoundedMap<string, CachedKey>>();

function cacheOf(store: SessionStore): BoundedMap<string, CachedKey> | null {
  if (store.capabilities.recordChanges !== true) return null;
  let cache = verifiedKeys.get(store);
  if (!cache) {
    const made = boundedMap<string, CachedKey>(API_KEY_CACHE_ENTRIES);
    cache = made;
    verifiedKeys.set(store, made);
    store.watch((change) => {
      if (change.type === 'record' && change.kind === KIND) made.delete(change.id);
    });
  }
  return cache;
}

function checkedName(name: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new SessionError('invalid_request', 'name: expected 1 to 100 printable characters');
  }
  return name;
}

function checkedScopes(scopes: unknown): ApiKeyScope[] {
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => (API_KEY_SCOPES as readonly unknown[]).includes(s))) {
    throw new SessionError('invalid_request', "scopes: expected a non-empty list of 'sessions' and 'admin'");
  }
  return [...new Set(scopes as ApiKeyScope[])];
}

function info(record: StoredApiKey, usage: StoredApiKeyUsage | undefined): ApiKeyInfo {
  return {
    id: record.id, name: record.name, scopes: [...record.scopes], createdAt: new Date(record.createdAt),
    lastUsedAt: usage ? new Date(usage.lastUsedAt) : null,
  };
}

/**
 * Creates an API key: `ska_<id>.<secret>` with a 256-bit secret. The store keeps only the
 * SHA-256 of the secret, so the returned `key` is the one and only time the key exists in clear.
 *
 * @example
 * const { id, key } = await createApiKey(store, { name: 'shop', scopes: ['sessions'] });
 * console.log(`X-API-Key: ${key}`); // show it once
 */
export async function createApiKey(store: SessionStore, input: { name: string; scopes: ApiKeyScope[] | string[] }, now: () => number = Date.now): Promise<ApiKeyInfo & { key: string }> {
  const name = checkedName(input?.name);
  const scopes = checkedScopes(input?.scopes);
  const id = randomBytes(16).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const record: StoredApiKey = { id, name, scopes, secretHash: hashSecret(secret), createdAt: now() };
  const written = await store.putRecord(KIND, id, record, { ifAbsent: true });
  if (!written) throw new SessionError('store_unavailable', 'an API key id collided; try again');
  return { ...info(record, undefined), key: `ska_${id}.${secret}` };
}

/**
 * Lists the API keys, oldest first: ids, names, scopes and times, never a key or hash.
 *
 * @example for (const k of await listApiKeys(store)) console.log(k.id, k.name, k.scopes)
 */
export async function listApiKeys(store: SessionStore): Promise<ApiKeyInfo[]> {
  const [records, usage] = await Promise.all([
    store.listRecords<StoredApiKey>(KIND),
    store.listRecords<StoredApiKeyUsage>(USAGE_KIND),
  ]);
  const usageById = new Map(usage.map((u) => [u.id, u]));
  return records.map((r) => info(r, usageById.get(r.id))).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
}

/**
 * Revokes an API key by id: requests with it fail from the next one on. Resolves false when no
 * key has that id.
 *
 * @example if (!(await revokeApiKey(store, id))) console.error('no such key')
 */
export async function revokeApiKey(store: SessionStore, id: string): Promise<boolean> {
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) return false;
  verifiedKeys.get(store)?.delete(id);
  const removed = await store.deleteRecord(KIND, id);
  verifiedKeys.get(store)?.delete(id);
  await store.deleteRecord(USAGE_KIND, id);
  return removed;
}

/** Who an accepted API key belongs to. */
export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
}

export interface AuthenticateApiKeyOptions {
  /** A key accepted as `admin` besides the stored ones (`SESSIONKIT_ADMIN_KEY`). */
  adminKey?: string | null;
  now?: () => number;
}

/**
 * Checks a presented API key: the configured admin key, or a stored key whose secret hashes to
 * the stored hash (compared in constant time). Resolves with the key's principal, or null for a
 * missing, malformed, unknown or wrong key. Records the last use, at most once a minute per key
 * and process, without waiting for the write. Rejects only when the store cannot answer. On a
 * store with `recordChanges` a verified key is reused from memory for `API_KEY_CACHE_MS`.
 *
 * @example
 * const principal = await authenticateApiKey(store, req.headers['x-api-key'], { adminKey });
 * if (!principal) return reply.code(401).send(...)
 */
export async function authenticateApiKey(store: SessionStore, presented: unknown, options: AuthenticateApiKeyOptions = {}): Promise<ApiKeyPrincipal | null> {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) return null;
  if (options.adminKey && matchesConfiguredKey(presented, options.adminKey)) {
    return { id: CONFIGURED_ADMIN_KEY_ID, name: 'SESSIONKIT_ADMIN_KEY', scopes: ['admin'] };
  }
  const match = KEY_PATTERN.exec(presented);
  if (!match) return null;
  const id = match[1] as string;
  const now = options.now ?? Date.now;
  const cache = cacheOf(store);
  const cached = cache?.get(id);
  let record: StoredApiKey | null;
  if (cached && now() - cached.readAt < API_KEY_CACHE_MS) {
    record = cached.record;
  } else {
    const readAt = now();
    record = await store.getRecord<StoredApiKey>(KIND, id);
    if (record && cache) cache.set(id, { record, readAt });
    else cache?.delete(id);
  }
  if (!record || typeof record.secretHash !== 'string' || !hashesEqual(hashSecret(match[2] as string), record.secretHash)) return null;
  noteUse(store, id, now());
  return { id: record.id, name: record.name, scopes: [...record.scopes] };
}

/** Whether a principal may use a route that needs `scope` (`admin` may use everything). */
export function hasScope(principal: ApiKeyPrincipal, scope: ApiKeyScope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

function matchesConfiguredKey(presented: string, configured: string): boolean {
  const a = createHash('sha256').update(presented).digest('hex');
  const b = createHash('sha256').update(configured).digest('hex');
  return hashesEqual(a, b);
}

function noteUse(store: SessionStore, id: string, at: number): void {
  let written = usageWritten.get(store);
  if (!written) usageWritten.set(store, (written = new Map()));
  const last = written.get(id);
  if (last !== undefined && at - last < USAGE_WRITE_INTERVAL) return;
  written.set(id, at);
  // Not awaited: the request never waits for bookkeeping, and a failed write is retried next minute.
  store.putRecord<StoredApiKeyUsage>(USAGE_KIND, id, { id, lastUsedAt: at }).catch(() => written.delete(id));
}
