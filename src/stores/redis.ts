/**
 * The Redis store: standalone, Sentinel or Cluster, on ioredis (an optional peer dependency,
 * loaded on first use). One `GET` validates a session; every change that touches more than one
 * key is one Lua script (see ./redis/scripts.ts); all keys of a user's sessions share a hash slot.
 * Design and trade-offs: docs/DESIGN.md ("Redis store") and docs/OPERATIONS.md ("Redis").
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { canonicalEvent } from '../audit/chain.js';
import { SessionError, storeFailure } from '../core/errors.js';
import type { AuditEvent, AuditQuery, StoredAuditEvent, StoredSession } from '../core/types.js';
import { deepFreeze } from './freeze.js';
import { readMemo } from './read-memo.js';
import { decodeRecord, encodeRecord } from './redis/codec.js';
import { getLane, type GetLane } from './redis/get-lane.js';
import { watchSentinelMaster, type MasterWatch } from './redis/master-watch.js';
import { ID_PATTERN, TAG_LENGTH, keySpace, saltKey, type KeySpace } from './redis/keys.js';
import { replicaAck } from './redis/replica-ack.js';
import { SCRIPTS, type ScriptName } from './redis/scripts.js';
import { parseRedisUrl } from './redis/url.js';
import { isLive, retentionOf, type CreateOptions, type CreateResult, type RevokeAllOptions, type RevokeOptions, type SessionStore, type StoreChange } from './types.js';

export const name = 'redis';

export interface RedisStoreOptions {
  /** `redis://`, `rediss://`, `redis+cluster://h:p,h:p` or `redis+sentinel://h:p,h:p/<master>[/<db>]`. */
  url?: string | undefined;
  /** An ioredis `Redis` or `Cluster` you configured yourself (the store defines its scripts on it and never closes it). */
  client?: Redis | Cluster;
  /** Prefix of every key (no braces). Default `'sk:'`. One prefix per application sharing a server. */
  prefix?: string;
  /**
   * Salt of the user tags in session ids (at least 16 bytes). Default: generated once and kept in
   * Redis under `<prefix>salt`. Configure it to survive a flushed or restored server unchanged.
   */
  salt?: string | Uint8Array | undefined;
  /** A command that gets no answer within this many ms fails with `store_unavailable`. Default 2000. */
  commandTimeout?: number;
  /** Approximate number of events kept in the audit stream (XADD MAXLEN ~). Default 1,000,000. */
  auditRetention?: number;
  /** Extra ioredis options for connections the store opens from `url`. */
  redisOptions?: RedisOptions;
  /**
   * How many decoded sessions the validation read keeps, so a session read again skips decoding
   * when its stored value is unchanged (stores/read-memo.ts). Default 4096; raise it when
   * more sessions than that are active at once in one process, 0 turns it off.
   */
  readCache?: number;
  /**
   * Sentinel only: how often (ms) one sentinel is asked for the master's address; a connection
   * to any other node (a frozen master that came back after a failover) is dropped and remade
   * through Sentinel. Default 250.
   */
  sentinelCheckInterval?: number;
  /**
   * How many replicas must hold a revocation (`revoke`, `revokeAllForUser`) before it is
   * acknowledged (`WAIT`, on a connection of its own); fewer within `revocationWaitTimeout` fails
   * the call with `store_unavailable` (the revocation may still have happened). Default 1 on
   * Sentinel and Cluster, 0 on a standalone server. docs/OPERATIONS.md ("Failover").
   */
  revocationReplicas?: number;
  /** How long (ms) a revocation waits for `revocationReplicas` replicas. Default 1000 (at most `commandTimeout`). */
  revocationWaitTimeout?: number;
}

/** A Redis-backed `SessionStore`, with the client it uses. */
export interface RedisSessionStore extends SessionStore {
  readonly client: Redis | Cluster;
  readonly isCluster: boolean;
}

type Reply = unknown;
type ScriptClient = Record<ScriptName, (...args: (string | number)[]) => Promise<Reply>>;

const DEFAULT_PREFIX = 'sk:';
const SCAN_COUNT = 1000;
const AUDIT_PAGE = 500;
const OUTBOX_LENGTH = 1000;

async function loadIoredis(): Promise<{ Redis: typeof Redis; Cluster: typeof Cluster }> {
  try {
    const mod = await import('ioredis') as unknown as { Redis?: typeof Redis; Cluster?: typeof Cluster; default?: { Redis: typeof Redis; Cluster: typeof Cluster } };
    const Client = mod.Redis ?? mod.default?.Redis;
    const ClusterClient = mod.Cluster ?? mod.default?.Cluster;
    if (!Client || !ClusterClient) throw new Error('unexpected ioredis exports');
    return { Redis: Client, Cluster: ClusterClient };
  } catch (err) {
    throw new SessionError('invalid_request', 'redisStore needs the ioredis package: npm install ioredis', {}, { cause: err });
  }
}

/** Opens a client for a URL with the fail-closed settings: bounded waits, endless reconnects. */
async function connectUrl(url: string, commandTimeout: number, extra: RedisOptions): Promise<Redis | Cluster> {
  const { Redis: Client, Cluster: ClusterClient } = await loadIoredis();
  const plan = parseRedisUrl(url);
  const retry = (times: number): number => Math.min(50 * 2 ** Math.min(times, 5), 1000);
  const common: RedisOptions = {
    commandTimeout, connectTimeout: commandTimeout, maxRetriesPerRequest: 1, retryStrategy: retry,
    // Commands issued in the same tick share one socket write: under concurrency this multiplies
    // throughput, and each command is still one round trip.
    enableAutoPipelining: true, enableReadyCheck: true, ...extra,
  };
  if (plan.kind === 'standalone') return new Client(plan.url, common);
  // A write refused with READONLY reached a replica (a demoted master): reconnect, which asks
  // Sentinel for the master again, and resend the refused command there.
  const readOnly = (err: Error): 2 | false => (err.message.startsWith('READONLY') ? 2 : false);
  const creds = { ...(plan.username ? { username: plan.username } : {}), ...(plan.password ? { password: plan.password } : {}), ...(plan.tls ? { tls: {} } : {}) };
  if (plan.kind === 'cluster') {
    // No auto-pipelining on a cluster: ioredis 6 refuses an automatic pipeline whose commands
    // target different slots of one node ("All keys in the pipeline should belong to the same slots").
    const { retryStrategy: _ignored, enableAutoPipelining: _off, ...nodeOptions } = common;
    return new ClusterClient(plan.nodes, {
      redisOptions: { ...nodeOptions, ...creds }, clusterRetryStrategy: retry, scaleReads: 'master',
      slotsRefreshTimeout: commandTimeout, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200,
    });
  }
  return new Client({
    reconnectOnError: readOnly, ...common, ...creds, sentinels: plan.sentinels, name: plan.name, db: plan.db, sentinelRetryStrategy: retry,
    ...(plan.sentinelUsername ? { sentinelUsername: plan.sentinelUsername } : {}),
    ...(plan.sentinelPassword ? { sentinelPassword: plan.sentinelPassword } : {}),
  });
}

/**
 * The read lane for a standalone client the store opened itself (not for a client you pass, whose
 * connections are yours to decide, nor for Sentinel or Cluster, where ioredis follows the topology):
 * same address, credentials and database as the client. See ./redis/get-lane.ts.
 */
function laneFor(client: Redis, timeout: number): GetLane {
  const o = client.options;
  const target = o.path ? { path: o.path } : { host: o.host ?? 'localhost', port: o.port ?? 6379, ...(o.family ? { family: o.family } : {}) };
  return getLane({
    open: () => (o.tls ? tlsConnect({ ...target, ...o.tls }) : createConnection(target)),
    username: o.username || undefined, password: o.password || undefined, db: o.db ?? 0, timeout,
    // While the main connection is known to be down (or being closed: `disconnect()` ends its
    // stream at once, its status follows later), fail at once instead of opening sockets too.
    down: () => {
      const status = client.status;
      if (status === 'reconnecting' || status === 'end' || status === 'close') return `Connection is ${status}`;
      const stream = client.stream as { writableEnded?: boolean; destroyed?: boolean } | undefined;
      return stream && (stream.writableEnded === true || stream.destroyed === true) ? 'Connection is closed' : null;
    },
  });
}

/** The pieces of a `session.revoked` event around its session id, user id and reason (see scripts.ts). */
function revokedTemplate(t: AuditEvent | undefined): [string, string, string] {
  if (!t) return ['', '', ''];
  return [`${JSON.stringify(['session.revoked', t.at]).slice(0, -1)},`, `${JSON.stringify([t.ip, t.userAgent]).slice(1, -1)},`,
    `,${JSON.stringify([t.actor, t.requestId, t.tokenFingerprint ?? null, t.detail ?? null]).slice(1)}`];
}

function storedEvent(id: string, fields: string[]): StoredAuditEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  const [type, at, sessionId, userId, ip, userAgent, reason, actor, requestId, tokenFingerprint, detail] = JSON.parse(f.e as string) as [
    AuditEvent['type'], number, string | null, string | null, string | null, string | null, string | null, string | null, string | null, string | null, string | null];
  return { type, at, sessionId, userId, ip, userAgent, reason, actor, requestId, tokenFingerprint, detail,
    seq: Number(id.slice(id.indexOf('-') + 1)), prevHash: f.p as string, hash: f.h as string };
}

function matches(e: StoredAuditEvent, q: AuditQuery): boolean {
  return (q.userId === undefined || e.userId === q.userId) && (q.sessionId === undefined || e.sessionId === q.sessionId)
    && (q.type === undefined || e.type === q.type) && (q.ip === undefined || e.ip === q.ip) && (q.since === undefined || e.at >= q.since)
    && (q.until === undefined || e.at < q.until);
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Creates a Redis store. Resolves once the store can make session ids (it loads the tag salt
 * unless you pass one); every later failure of Redis rejects with `store_unavailable`.
 *
 * @example
 * const store = await redisStore({ url: 'redis+cluster://10.0.0.1:6379,10.0.0.2:6379' });
 * const sessions = createSessionManager({ store });
 */
export async function redisStore(options: RedisStoreOptions): Promise<RedisSessionStore> {
  if (typeof options !== 'object' || options === null || (!options.url && !options.client)) {
    throw new SessionError('invalid_request', 'redisStore: expected { url } or { client }');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9:_.\-/]{0,64}$/.test(prefix)) {
    throw new SessionError('invalid_request', 'redisStore option prefix: up to 64 letters, digits or : _ . - / (no braces)');
  }
  const commandTimeout = options.commandTimeout ?? 2000;
  if (!Number.isInteger(commandTimeout) || commandTimeout < 1) throw new SessionError('invalid_request', 'redisStore option commandTimeout: expected a positive integer of ms');
  const readCache = options.readCache ?? 4096;
  if (!Number.isInteger(readCache) || readCache < 0) throw new SessionError('invalid_request', 'redisStore option readCache: expected a number of sessions (0 or more)');
  const read = readCache > 0 ? readMemo(readCache, decodeRecord, deepFreeze) : decodeRecord;
  const auditRetention = options.auditRetention ?? 1_000_000;
  if (!Number.isInteger(auditRetention) || auditRetention < 1) throw new SessionError('invalid_request', 'redisStore option auditRetention: expected a positive integer');
  const sentinelCheckInterval = options.sentinelCheckInterval ?? 250;
  if (!Number.isInteger(sentinelCheckInterval) || sentinelCheckInterval < 10) throw new SessionError('invalid_request', 'redisStore option sentinelCheckInterval: expected an integer of ms (10 or more)');
  const revocationWait = options.revocationWaitTimeout ?? Math.min(1000, commandTimeout);
  if (!Number.isInteger(revocationWait) || revocationWait < 1) throw new SessionError('invalid_request', 'redisStore option revocationWaitTimeout: expected a positive integer of ms');
  let configuredSalt: Buffer | null = null;
  if (options.salt !== undefined) {
    configuredSalt = typeof options.salt === 'string' ? Buffer.from(options.salt, 'utf8') : Buffer.from(options.salt);
    if (configuredSalt.length < 16) throw new SessionError('invalid_request', 'redisStore option salt: at least 16 bytes');
  }

  const owned = !options.client;
  const client = options.client ?? await connectUrl(options.url as string, commandTimeout, options.redisOptions ?? {});
  // Connection errors reach callers as rejected commands (store_unavailable); the event itself
  // would only be printed by ioredis as "Unhandled error event" on every reconnect attempt.
  if (owned) client.on('error', () => {});
  const isCluster = (client as { isCluster?: boolean }).isCluster === true;
  for (const [script, lua] of Object.entries(SCRIPTS)) {
    if (typeof (client as unknown as ScriptClient)[script as ScriptName] !== 'function') client.defineCommand(script, { lua });
  }
  const run = client as unknown as ScriptClient;
  let closed = false;
  const isSentinel = !isCluster && Array.isArray((client as Redis).options.sentinels) && ((client as Redis).options.sentinels?.length ?? 0) > 0;
  const lane = owned && !isCluster && !isSentinel ? laneFor(client as Redis, commandTimeout) : null;
  const fromUrl = options.url ? parseRedisUrl(options.url) : null;
  const urlReplicas = fromUrl && fromUrl.kind !== 'standalone' ? fromUrl.revocationReplicas : undefined;
  const revocationReplicas = options.revocationReplicas ?? urlReplicas ?? (isSentinel || isCluster ? 1 : 0);
  if (!Number.isInteger(revocationReplicas) || revocationReplicas < 0) {
    throw new SessionError('invalid_request', 'redisStore option revocationReplicas: expected a number of replicas (0 or more)');
  }
  const watch: MasterWatch | null = isSentinel
    ? watchSentinelMaster((await loadIoredis()).Redis, (client as Redis).options, sentinelCheckInterval, commandTimeout) : null;
  watch?.add(client as Redis);

  /** Any failure of Redis, as the `store_unavailable` the manager and callers expect. */
  const guard = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    if (closed) throw new SessionError('store_unavailable', 'redis store is closed');
    if (!isCluster) {
      try {
        return await work();
      } catch (err) {
        throw storeFailure(err, `redis ${what}`);
      }
    }
    // A cluster client queues commands while it has no slot map; bound that wait ourselves.
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([work(), new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${commandTimeout} ms`)), commandTimeout);
      })]);
    } catch (err) {
      throw storeFailure(err, `redis ${what}`);
    } finally {
      clearTimeout(timer);
    }
  };

  const acked = revocationReplicas > 0
    ? replicaAck({ client, isCluster, replicas: revocationReplicas, waitMs: revocationWait, readyMs: commandTimeout, onConnection: (c) => watch?.add(c) })
    : null;
  /** Runs a revocation of `tag`'s sessions; with `revocationReplicas`, acknowledged once replicas hold it (./redis/replica-ack.ts). */
  const replicated = <T>(what: string, tag: string, work: (on: ScriptClient) => Promise<T>): Promise<T> => guard(what, () =>
    (acked ? acked.run(tag, (on) => work(on as unknown as ScriptClient)) : work(run)));

  let salt = configuredSalt;
  if (!salt) {
    const stored = await guard('loading the tag salt', () => run.skSalt(1, saltKey(prefix), randomBytes(32).toString('base64url')));
    salt = Buffer.from(String(stored), 'utf8');
  }
  const keys: KeySpace = keySpace(prefix, salt);

  /** The common audit arguments of a mutation script, and the audit keys to append to its KEYS. */
  const audit = (tag: string, events: AuditEvent[], template?: AuditEvent): { keys: string[]; args: (string | number)[] } => ({
    keys: isCluster ? [keys.outbox(tag)] : [keys.auditLog, keys.auditHead],
    args: [isCluster ? 'o' : 'i', isCluster ? OUTBOX_LENGTH : auditRetention, ...revokedTemplate(template ?? events[0]), keys.channel,
      events.length, ...events.map(canonicalEvent)],
  });

  /** Appends canonical events to the chained stream (single shard: directly; cluster: after the outbox). */
  const chain = async (canonical: string[]): Promise<void> => {
    if (canonical.length === 0) return;
    await run.skAppend(2, keys.auditLog, keys.auditHead, 'i', auditRetention, '', '', '', keys.channel, canonical.length, ...canonical);
  };

  /** On a cluster, events reached the user's outbox with the change; chain them now. */
  const forward = async (outbox: unknown): Promise<void> => {
    if (!isCluster || !Array.isArray(outbox) || outbox.length === 0) return;
    try {
      await chain(outbox as string[]);
    } catch {
      // The change and its events are committed (in the user's outbox stream); only the global
      // chained copy is missing. docs/OPERATIONS.md describes this window.
    }
  };

  const idOf = (id: string): { tag: string; rest: string } => {
    const parts = keys.split(id);
    if (!parts) throw new SessionError('invalid_request', 'redis store: not a session id of this store');
    return parts;
  };

  const listeners = new Set<(change: StoreChange) => void>();
  let subscriber: Redis | Cluster | null = null;
  const subscribe = (): void => {
    if (subscriber) return;
    const sub = (client as unknown as { duplicate(): Redis | Cluster }).duplicate();
    subscriber = sub;
    // The subscriber must follow a failover too: revocations are published on the new master.
    watch?.add(sub as Redis);
    sub.on('error', () => { /* reconnects on its own; changes missed meanwhile are bounded by the JWT cache TTL */ });
    sub.on('message', (channel: string, message: string) => {
      if (channel !== keys.channel) return;
      let change: StoreChange;
      try {
        change = JSON.parse(message) as StoreChange;
      } catch {
        return;
      }
      for (const l of listeners) {
        try {
          l(change);
        } catch {
          // one failing listener must not starve the others
        }
      }
    });
    sub.subscribe(keys.channel).catch(() => {});
  };

  const store: RedisSessionStore = {
    name,
    client,
    isCluster,
    capabilities: { exactUserLimit: true, persistentAudit: true, crossProcessEvents: true, recordChanges: true },

    newSessionId(userId, random) {
      return keys.tagOf(userId) + random(24).toString('base64url');
    },

    get(id) {
      // The hot path of every validation: no async wrapper, one promise from the read lane.
      if (typeof id !== 'string' || !ID_PATTERN.test(id)) return Promise.resolve(null);
      const key = keys.record(id.slice(0, TAG_LENGTH), id.slice(TAG_LENGTH));
      if (!lane || closed) {
        return guard('get', () => client.get(key)).then((value) => (value === null ? null : read(id, value)));
      }
      return lane.get(key).then((value) => (value === null ? null : read(id, value)), (err: unknown) => {
        throw storeFailure(err, 'redis get');
      });
    },

    async create(session: StoredSession, opts: CreateOptions): Promise<CreateResult> {
      const { tag, rest } = idOf(session.id);
      if (tag !== keys.tagOf(session.userId)) {
        throw new SessionError('invalid_request', "redis store: the session id was not made by this store's newSessionId for this user");
      }
      let replaces = opts.replaces ? keys.split(opts.replaces) : null;
      // On a cluster a replaced session of another user lives in another slot: revoke it after
      // the create (it never counts toward this user's limit), as a second step.
      const later = replaces && isCluster && replaces.tag !== tag ? opts.replaces as string : null;
      if (later) replaces = null;
      const a = audit(tag, opts.events);
      const reply = await guard('create', () => run.skCreate(2 + (replaces ? 1 : 0) + a.keys.length,
        keys.record(tag, rest), keys.index(tag), ...(replaces ? [keys.record(replaces.tag, replaces.rest)] : []), ...a.keys,
        ...a.args, opts.now, encodeRecord(session), session.createdAt, retentionOf(session),
        opts.limit?.max ?? 0, opts.limit?.policy ?? 'evict-oldest', replaces ? opts.replaces as string : '', tag, rest, session.userId)) as [number, unknown, string[] | null, unknown];
      if (reply[0] === -1) throw new SessionError('invalid_request', 'a session with this id exists');
      if (reply[0] === 0) throw new SessionError('session_limit_reached', `the user already has ${String(reply[1])} sessions (limit ${opts.limit?.max ?? 0})`);
      const ids = reply[2] ?? [];
      const revoked = ((reply[1] as string[] | null) ?? []).map((v, i) => decodeRecord(ids[i] as string, v));
      await forward(reply[3]);
      if (later) {
        const first = opts.events[0];
        const old = await store.revoke(later, { reason: 'replaced', at: opts.now, events: [] });
        if (old) {
          if (first) await guard('audit', () => chain([canonicalEvent({ ...first, type: 'session.revoked', sessionId: old.id, userId: old.userId, reason: 'replaced' })])).catch(() => {});
          revoked.unshift(old);
        }
      }
      return { revoked };
    },

    async replace(next, expectedVersion, events) {
      const { tag, rest } = idOf(next.id);
      const a = audit(tag, events);
      const reply = await guard('replace', () => run.skReplace(2 + a.keys.length, keys.record(tag, rest), keys.index(tag), ...a.keys,
        ...a.args, expectedVersion, encodeRecord(next), events[0]?.at ?? next.lastSeenAt, next.id)) as [number, unknown];
      await forward(reply[1]);
      return reply[0] === 1;
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      const { tag, rest } = idOf(id);
      await guard('touch', () => run.skTouch(2, keys.record(tag, rest), keys.index(tag), lastSeenAt, idleExpiresAt));
    },

    async revoke(id, opts: RevokeOptions) {
      const parts = keys.split(id);
      if (!parts) return null;
      const a = audit(parts.tag, opts.events);
      const reply = await replicated('revoke', parts.tag, (on) => on.skRevoke(1 + a.keys.length, keys.record(parts.tag, parts.rest), ...a.keys,
        ...a.args, opts.at, opts.reason, id)) as [string | null, unknown];
      await forward(reply[1]);
      return reply[0] === null ? null : decodeRecord(id, reply[0]);
    },

    async revokeAllForUser(userId, opts: RevokeAllOptions) {
      const tag = keys.tagOf(userId);
      const a = audit(tag, [], opts.event);
      const reply = await replicated('revokeAllForUser', tag, (on) => on.skRevokeAll(1 + a.keys.length, keys.index(tag), ...a.keys,
        ...a.args, opts.at, opts.reason, opts.except ?? '', tag, userId)) as [string[] | null, string[] | null, unknown];
      await forward(reply[2]);
      const ids = reply[1] ?? [];
      return (reply[0] ?? []).map((v, i) => decodeRecord(ids[i] as string, v));
    },

    async listForUser(userId, now) {
      const tag = keys.tagOf(userId);
      const reply = await guard('listForUser', () => run.skList(1, keys.index(tag))) as [string[] | null, string[] | null];
      const members = reply[0] ?? [];
      return (reply[1] ?? []).map((v, i) => decodeRecord(tag + (members[i] as string), v))
        .filter((s) => s.userId === userId && isLive(s, now))
        .sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1));
    },

    async sweepExpired(now, limit) {
      const swept: StoredSession[] = [];
      const nodes = isCluster ? (client as Cluster).nodes('master') : [client as Redis];
      const pattern = `${globEscape(prefix)}{*}:s:*`;
      const recordKey = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}\\{([A-Za-z0-9_-]{11})\\}:s:([A-Za-z0-9_-]{32})$`);
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [nextCursor, found] = await guard('sweepExpired', () => node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT));
          cursor = nextCursor;
          const parsed = found.map((k) => recordKey.exec(k)).filter((m): m is RegExpExecArray => m !== null);
          const values = await guard('sweepExpired', () => Promise.all(parsed.map((m) => client.get(m[0]))));
          const due = parsed.filter((m, i) => {
            const v = values[i];
            return typeof v === 'string' && retentionOf(decodeRecord('', v)) <= now;
          });
          for (const m of due) {
            if (swept.length >= limit) return swept;
            const [key, tag, rest] = m as unknown as [string, string, string];
            const old = await guard('sweepExpired', () => run.skSweep(2, key, keys.index(tag), now, rest)) as string | null;
            if (old !== null) swept.push(decodeRecord(tag + rest, old));
          }
        } while (cursor !== '0' && swept.length < limit);
      }
      return swept;
    },

    async appendAudit(events) {
      if (events.length === 0) return;
      await guard('appendAudit', () => chain(events.map(canonicalEvent)));
    },

    async queryAudit(q: AuditQuery) {
      const limit = q.limit ?? 100;
      const out: StoredAuditEvent[] = [];
      if (q.after !== undefined) {
        let start = `(0-${q.after}`;
        for (;;) {
          const page = await guard('queryAudit', () => client.xrange(keys.auditLog, start, '+', 'COUNT', AUDIT_PAGE));
          for (const [id, fields] of page) {
            const e = storedEvent(id, fields);
            if (matches(e, q)) out.push(e);
            if (out.length >= limit) return out;
          }
          if (page.length < AUDIT_PAGE) return out;
          start = `(${(page[page.length - 1] as [string, string[]])[0]}`;
        }
      }
      let end = q.before !== undefined ? `(0-${q.before}` : '+';
      for (;;) {
        const page = await guard('queryAudit', () => client.xrevrange(keys.auditLog, end, '-', 'COUNT', AUDIT_PAGE));
        for (const [id, fields] of page) {
          const e = storedEvent(id, fields);
          if (matches(e, q)) out.push(e);
          if (out.length >= limit) return out;
        }
        if (page.length < AUDIT_PAGE) return out;
        end = `(${(page[page.length - 1] as [string, string[]])[0]}`;
      }
    },

    async getRecord<T>(kind: string, id: string) {
      const raw = await guard('getRecord', () => client.hget(keys.records(kind), id));
      return raw === null ? null : JSON.parse(raw) as T;
    },

    async putRecord<T>(kind: string, id: string, value: T, opts: { ifAbsent?: boolean } = {}) {
      const written = await guard('putRecord', () => run.skPutRecord(1, keys.records(kind), id, JSON.stringify(value),
        opts.ifAbsent ? '1' : '0', kind === 'signing-keys' ? keys.channel : '', Date.now()));
      return written === 1;
    },

    async listRecords<T>(kind: string) {
      const raw = await guard('listRecords', () => client.hvals(keys.records(kind)));
      return raw.map((r) => JSON.parse(r) as T);
    },

    async deleteRecord(kind, id) {
      const removed = await guard('deleteRecord', () => client.hdel(keys.records(kind), id));
      if (removed === 1 && kind === 'signing-keys') {
        await guard('deleteRecord', () => client.publish(keys.channel, JSON.stringify({ type: 'keys', at: Date.now() })));
      }
      // Every process drops its cached copy of a revoked API key at once (its TTL bounds a lost notice).
      if (removed === 1 && kind === 'api-keys') {
        await guard('deleteRecord', () => client.publish(keys.channel, JSON.stringify({ type: 'record', kind, id, at: Date.now() })));
      }
      return removed === 1;
    },

    watch(listener) {
      listeners.add(listener);
      subscribe();
      return () => {
        listeners.delete(listener);
      };
    },

    async ping() {
      await guard('ping', () => client.ping());
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      lane?.close();
      watch?.close();
      acked?.close();
      const sub = subscriber;
      subscriber = null;
      if (sub) sub.disconnect();
      if (owned) {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }
    },
  };
  return store;
}

export default redisStore;
