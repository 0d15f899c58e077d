import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SessionStore } from '../core/store.js';

/** The named-record kind that holds audit checkpoints. */
export const CHECKPOINT_KIND = 'audit-checkpoint';
/** How many checkpoints are kept: the newest covers every event before it; older ones are history. */
const KEEP = 100;

/** A keyed seal over the head of the audit hash chain. */
export interface AuditCheckpoint {
  /** The `seq` of the event sealed. */
  seq: number;
  /** That event's chain hash: through the chain, it commits to every event up to `seq`. */
  hash: string;
  /** When the seal was made (epoch ms). */
  at: number;
  /** HMAC-SHA-256 (hex) under the audit key of `seq`, `hash` and `at`. */
  mac: string;
}

/**
 * The audit key: HMAC-SHA-256 of a fixed label under the master key (`SESSIONKIT_MASTER_KEY`, or
 * the SQLite `master.key`). It never lives in the store, so someone who can write the store but
 * does not hold the master key cannot make a checkpoint that verifies.
 *
 * @example const key = auditKey(parseMasterKey(process.env.SESSIONKIT_MASTER_KEY))
 */
export function auditKey(masterKey: Uint8Array): Buffer {
  return createHmac('sha256', masterKey).update('sessionkit:audit-checkpoint:v1').digest();
}

function macOf(key: Uint8Array, seq: number, hash: string, at: number): string {
  return createHmac('sha256', key).update(`sessionkit-audit-checkpoint|v1|${seq}|${hash}|${at}`).digest('hex');
}

/**
 * True when the checkpoint's MAC is the one the audit key gives (compared in constant time).
 *
 * @example checkpointValid(key, checkpoint) // false for a forged or edited checkpoint
 */
export function checkpointValid(key: Uint8Array, c: AuditCheckpoint): boolean {
  if (!Number.isSafeInteger(c.seq) || typeof c.hash !== 'string' || !Number.isFinite(c.at) || typeof c.mac !== 'string') return false;
  const expected = Buffer.from(macOf(key, c.seq, c.hash, c.at), 'hex');
  const given = Buffer.from(c.mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The checkpoints in the store, oldest first. Malformed records are returned too (and fail
 * `checkpointValid`), so a verifier reports them instead of skipping them.
 *
 * @example const checkpoints = await listCheckpoints(store)
 */
export async function listCheckpoints(store: SessionStore): Promise<AuditCheckpoint[]> {
  const records = await store.listRecords<AuditCheckpoint>(CHECKPOINT_KIND);
  return records.filter((c) => c !== null && typeof c === 'object').sort((a, b) => Number(a.seq) - Number(b.seq));
}

/**
 * Seals the head of the audit chain: writes a checkpoint for the newest event when it is newer
 * than the newest checkpoint, and drops all but the newest 100 checkpoints. The service calls it
 * every minute and at shutdown; `sessionkit audit seal` calls it on demand. Resolves with the new
 * checkpoint, or null when there was nothing new to seal.
 *
 * @example await sealAuditChain(store, auditKey(masterKey), Date.now())
 */
export async function sealAuditChain(store: SessionStore, key: Uint8Array, now: number): Promise<AuditCheckpoint | null> {
  const [newest] = await store.queryAudit({ limit: 1 });
  if (!newest) return null;
  const existing = await listCheckpoints(store);
  const last = existing[existing.length - 1];
  if (last && last.seq >= newest.seq) return null;
  const checkpoint: AuditCheckpoint = { seq: newest.seq, hash: newest.hash, at: now, mac: macOf(key, newest.seq, newest.hash, now) };
  await store.putRecord(CHECKPOINT_KIND, String(newest.seq).padStart(16, '0'), checkpoint);
  for (const old of existing.slice(0, Math.max(0, existing.length + 1 - KEEP))) {
    await store.deleteRecord(CHECKPOINT_KIND, String(old.seq).padStart(16, '0'));
  }
  return checkpoint;
}

/**
 * The line an operator exports to keep a checkpoint outside the store (`seq:at:mac`), and reads
 * back with `audit verify --expect-checkpoint`.
 *
 * @example checkpointLine(c) // '42:1764860000000:9f…'
 */
export function checkpointLine(c: AuditCheckpoint): string {
  return `${c.seq}:${c.at}:${c.mac}`;
}
