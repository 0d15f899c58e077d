import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { auditKey, checkpointLine, listCheckpoints, sealAuditChain } from '../../audit/checkpoint.js';
import { verifyTrail } from '../../audit/verify-trail.js';
import { MASTER_KEY_FILE, parseStoreUrl, resolveMasterKey, type ServiceConfig } from '../../config/index.js';
import { parseMasterKey } from '../../tokens/key-encryption.js';
import { parseDuration } from '../../core/duration.js';
import type { AuditQuery, StoredAuditEvent } from '../../core/types.js';
import type { SessionStore } from '../../stores/types.js';
import type { ParsedCommandLine } from '../args.js';
import { jsonOption, type Command } from '../command.js';
import { EXIT_FAILURE, EXIT_OK, usageError } from '../errors.js';
import { escapeText, isoTime, jsonLine } from '../output.js';
import { withStore } from '../service.js';

const POLL_INTERVAL_MS = 500;
const PAGE = 500;

/** An audit event for `--json`: every field, the time as ISO-8601 UTC. */
export function eventJson(e: StoredAuditEvent): Record<string, unknown> {
  return { ...e, at: isoTime(e.at) };
}

/**
 * One readable line per event. Every value is escaped, so a user id or user agent holding
 * `\r\n` or terminal escapes cannot forge a second line.
 */
export function eventLine(e: StoredAuditEvent): string {
  const fields: [string, unknown][] = [['user', e.userId], ['session', e.sessionId], ['reason', e.reason], ['detail', e.detail],
    ['actor', e.actor], ['ip', e.ip], ['request', e.requestId], ['token', e.tokenFingerprint], ['ua', e.userAgent]];
  const shown = fields.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => `${k}=${quoted(escapeText(v))}`);
  return `${isoTime(e.at) ?? '-'} #${e.seq} ${escapeText(e.type)}${shown.length ? ` ${shown.join(' ')}` : ''}\n`;
}

/** A value with spaces or quotes is quoted, so `key=value` pairs stay unambiguous. */
function quoted(value: string): string {
  return /[ "]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

/** `--since`: a duration back from now (`10m`, `2h`, `7d`) or an ISO-8601 time. */
function parseSince(value: string, now: number): number {
  try {
    return now - parseDuration(value, 'since');
  } catch {
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw usageError(`audit tail: --since: expected a duration such as 10m or an ISO-8601 time, got ${escapeText(value.slice(0, 40))}`);
    return t;
  }
}

function filters(args: ParsedCommandLine): Pick<AuditQuery, 'userId' | 'sessionId' | 'type'> {
  const out: Pick<AuditQuery, 'userId' | 'sessionId' | 'type'> = {};
  if (typeof args.values.user === 'string') out.userId = args.values.user;
  if (typeof args.values.session === 'string') out.sessionId = args.values.session;
  if (typeof args.values.type === 'string') out.type = args.values.type;
  return out;
}

/** Resolves after `ms`, or early (false) when the signal is aborted. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

const tail: Command = {
  path: ['audit', 'tail'],
  summary: 'print recent audit events, then follow new ones as they happen (Ctrl-C stops)',
  usage: 'audit tail [--since <10m|ISO time>] [--lines <n>] [--user <id>] [--session <id>] [--type <type>] [--once] [--json] [config flags]',
  options: {
    since: { type: 'string', valueName: '<when>', description: 'start at events from this time (a duration back from now, or ISO-8601) instead of the last --lines' },
    lines: { type: 'string', short: 'n', valueName: '<n>', description: 'how many recent events to show first (default 10)' },
    user: { type: 'string', valueName: '<userId>', description: "only this user's events" },
    session: { type: 'string', valueName: '<sessionId>', description: "only this session's events" },
    type: { type: 'string', valueName: '<type>', description: 'only events of this type, e.g. session.revoked' },
    once: { type: 'boolean', description: 'print what is there and exit instead of following' },
    ...jsonOption,
  },
  usesConfig: true,
  details: [
    'Follows by polling the store every 500 ms, so it works on every store and from any machine',
    'that reaches it. With --json, one JSON object per line (JSON Lines).',
    'Example: sessionkit audit tail --since 1h --type session.rejected --json',
  ].join('\n'),
  async run(args, { io, env, signal }) {
    const lines = args.values.lines === undefined ? 10 : Number(args.values.lines);
    if (!Number.isInteger(lines) || lines < 0 || lines > 10_000) throw usageError('audit tail: --lines: expected an integer from 0 to 10000');
    const since = typeof args.values.since === 'string' ? parseSince(args.values.since, Date.now()) : undefined;
    const query = filters(args);
    const print = (e: StoredAuditEvent): void => io.stdout(args.values.json ? jsonLine(eventJson(e)) : eventLine(e));
    return withStore(args.configArgv, env, async (store) => {
      let cursor = await startCursor(store, query, since, lines, print);
      if (args.values.once) return EXIT_OK;
      let failing = false;
      while (await pause(POLL_INTERVAL_MS, signal)) {
        try {
          cursor = await drain(store, query, cursor, print);
          if (failing) io.stderr('sessionkit: audit tail: the store answers again\n');
          failing = false;
        } catch (err) {
          // A store that blips must not end a long-running tail; say so once and keep polling.
          if (!failing) io.stderr(`sessionkit: audit tail: the store is not answering (${escapeText(err instanceof Error ? err.message : String(err))}); retrying\n`);
          failing = true;
        }
      }
      return EXIT_OK;
    });
  },
};

/**
 * Prints the starting events (every event since `since`, or else the last `lines`) and resolves
 * with the `seq` to follow from.
 */
async function startCursor(store: SessionStore, query: AuditQuery, since: number | undefined, lines: number,
  print: (e: StoredAuditEvent) => void): Promise<number> {
  // The newest seq before printing: following starts after it even when the filters match nothing.
  const newest = await store.queryAudit({ limit: 1 });
  if (since !== undefined) return Math.max(newest[0]?.seq ?? 0, await drain(store, query, 0, print, since));
  const recent = lines > 0 ? await store.queryAudit({ ...query, limit: lines }) : [];
  for (const e of [...recent].reverse()) print(e);
  return Math.max(newest[0]?.seq ?? 0, recent[0]?.seq ?? 0);
}

/** Prints every event after `cursor` (oldest first, page by page); resolves with the new cursor. */
async function drain(store: SessionStore, query: AuditQuery, cursor: number, print: (e: StoredAuditEvent) => void, since?: number): Promise<number> {
  for (;;) {
    const page = await store.queryAudit({ ...query, ...(since !== undefined ? { since } : {}), after: cursor, limit: PAGE });
    for (const e of page) {
      print(e);
      cursor = Math.max(cursor, e.seq);
    }
    if (page.length < PAGE) return cursor;
  }
}

/**
 * The audit key of the configured master key: `SESSIONKIT_MASTER_KEY`, or the SQLite store's
 * `master.key` when it exists (never created here: verifying writes nothing). Null without one.
 */
function configuredAuditKey(config: ServiceConfig): Buffer | null {
  if (config.masterKey !== null) return auditKey(parseMasterKey(config.masterKey));
  const target = parseStoreUrl(config.store);
  if (target.kind !== 'sqlite' || !existsSync(join(dirname(resolve(target.path)), MASTER_KEY_FILE))) return null;
  const resolved = resolveMasterKey(config).masterKey;
  return resolved === null ? null : auditKey(parseMasterKey(resolved));
}

/** `--max-unsealed`: a duration; default 10 minutes (ten of the service's sealing intervals). */
function parseMaxUnsealed(value: unknown): number {
  if (value === undefined) return 600_000;
  try {
    return parseDuration(String(value), 'max-unsealed');
  } catch {
    throw usageError(`audit verify: --max-unsealed: expected a duration such as 10m, got ${escapeText(String(value).slice(0, 40))}`);
  }
}

/** `--expect-checkpoint seq:at:mac`, as `audit seal` prints it. */
function parseExpected(value: unknown): { seq: number; at: number; mac: string } | null {
  if (value === undefined) return null;
  const match = typeof value === 'string' ? /^(\d{1,15}):(\d{1,15}):([0-9a-f]{64})$/.exec(value) : null;
  if (!match) throw usageError('audit verify: --expect-checkpoint: expected seq:at:mac as `sessionkit audit seal` prints it');
  return { seq: Number(match[1]), at: Number(match[2]), mac: match[3] as string };
}

const verify: Command = {
  path: ['audit', 'verify'],
  summary: "check the audit trail's hash chain and its keyed checkpoints; report the first problem",
  usage: 'audit verify [--max-unsealed <10m>] [--expect-checkpoint <seq:at:mac>] [--json] [config flags]',
  options: {
    'max-unsealed': { type: 'string', valueName: '<duration>', description: 'fail when an event older than this is not sealed by a checkpoint (default 10m)' },
    'expect-checkpoint': { type: 'string', valueName: '<seq:at:mac>', description: 'a checkpoint exported earlier (audit seal): it must still be in the store' },
    ...jsonOption,
  },
  usesConfig: true,
  details: [
    'Walks every stored event oldest first and recomputes its hash. Exits 1 at the first event',
    'whose link or content does not match (tampering, or a lost event), 0 when the chain holds.',
    'When older events were pruned, the chain is checked from the oldest event kept.',
    'With a master key (SESSIONKIT_MASTER_KEY, or the SQLite master.key) it also checks the keyed',
    'checkpoints the service writes every minute: a checkpoint must verify under the key derived',
    'from the master key and match the event it sealed, so deleting an event and re-hashing the',
    'rest of the chain is found. See docs/SECURITY.md for what store write access can still hide.',
  ].join('\n'),
  async run(args, { io, env }) {
    const maxUnsealed = parseMaxUnsealed(args.values['max-unsealed']);
    const expect = parseExpected(args.values['expect-checkpoint']);
    const report = await withStore(args.configArgv, env, async (store, config) => {
      const key = configuredAuditKey(config);
      if (expect && !key) throw usageError('audit verify: --expect-checkpoint needs the master key (SESSIONKIT_MASTER_KEY)');
      return verifyTrail(store, { key, now: Date.now(), maxUnsealedMs: maxUnsealed, expect });
    });
    if (args.values.json) {
      io.stdout(jsonLine(report));
    } else if (report.ok) {
      const pruned = report.firstSeq !== null && report.firstSeq > 1 ? ` (from #${report.firstSeq}; earlier events were pruned)` : '';
      const sealed = !report.keyed ? '; no master key, so the keyed checkpoints were not checked'
        : report.sealedThrough === null ? '; no checkpoint yet' : `; sealed through #${report.sealedThrough}, ${report.unsealed} newer event(s) not sealed yet`;
      io.stdout(`audit chain ok: ${report.checked} events${pruned}${sealed}\n`);
    } else {
      io.stdout(`audit chain BROKEN at event #${report.brokenAt}: ${report.reason} (${report.checked} events verified before it)\n`);
    }
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  },
};

const seal: Command = {
  path: ['audit', 'seal'],
  summary: 'write a keyed checkpoint of the audit chain now and print it (seq:at:mac) for safekeeping elsewhere',
  usage: 'audit seal [--json] [config flags]',
  options: { ...jsonOption },
  usesConfig: true,
  details: [
    'The service seals every minute and at shutdown; this seals on demand (after CLI writes, or',
    'from cron) and prints the newest checkpoint. Kept outside the store (a log host, a ticket),',
    'that line lets `audit verify --expect-checkpoint` prove no checkpoint was removed since.',
  ].join('\n'),
  async run(args, { io, env }) {
    const checkpoint = await withStore(args.configArgv, env, async (store, config) => {
      const key = configuredAuditKey(config);
      if (!key) throw usageError('audit seal: needs the master key (SESSIONKIT_MASTER_KEY), from which the audit key is derived');
      await sealAuditChain(store, key, Date.now());
      return (await listCheckpoints(store)).at(-1) ?? null;
    });
    if (args.values.json) io.stdout(jsonLine(checkpoint === null ? { checkpoint: null } : { checkpoint: checkpointLine(checkpoint), seq: checkpoint.seq, at: isoTime(checkpoint.at) }));
    else io.stdout(checkpoint === null ? 'no audit events to seal\n' : `${checkpointLine(checkpoint)}\n`);
    return EXIT_OK;
  },
};

export const auditCommands: Command[] = [tail, verify, seal];
