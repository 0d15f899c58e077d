import { createHash } from 'node:crypto';
import type { AuditEvent, StoredAuditEvent } from '../core/types.js';

/** The hash before the first event of a stream. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an event that the chain covers, in a fixed order. */
export function canonicalEvent(e: AuditEvent): string {
  return JSON.stringify([e.type, e.at, e.sessionId, e.userId, e.ip, e.userAgent, e.reason, e.actor,
    e.requestId, e.tokenFingerprint ?? null, e.detail ?? null]);
}

/** The hash of an event chained to its predecessor: SHA-256(prevHash | seq | canonical event). */
export function chainHash(prevHash: string, seq: number, e: AuditEvent): string {
  return createHash('sha256').update(`${prevHash}|${seq}|${canonicalEvent(e)}`).digest('hex');
}

/** Links events onto a chain that ended at (`seq`, `prevHash`). */
export function linkEvents(events: AuditEvent[], lastSeq: number, lastHash: string): StoredAuditEvent[] {
  let seq = lastSeq;
  let prevHash = lastHash;
  return events.map((e) => {
    seq += 1;
    const hash = chainHash(prevHash, seq, e);
    const linked = { ...e, tokenFingerprint: e.tokenFingerprint ?? null, detail: e.detail ?? null, seq, prevHash, hash };
    prevHash = hash;
    return linked;
  });
}

/** Walks events oldest first; resolves with the first event whose link is broken, or null. */
export function verifyChain(events: Iterable<StoredAuditEvent>, startHash = GENESIS_HASH):
  { ok: true; count: number } | { ok: false; count: number; brokenAt: number; reason: string } {
  let prev = startHash;
  let count = 0;
  for (const e of events) {
    if (e.prevHash !== prev) return { ok: false, count, brokenAt: e.seq, reason: 'prevHash does not match the previous event' };
    if (chainHash(prev, e.seq, e) !== e.hash) return { ok: false, count, brokenAt: e.seq, reason: 'event content does not match its hash' };
    prev = e.hash;
    count += 1;
  }
  return { ok: true, count };
}

/** Filters events like an `AuditQuery`, for stores that hold them in memory. */
export function matchesQuery(e: StoredAuditEvent, q: { userId?: string; sessionId?: string; type?: string; ip?: string; since?: number; until?: number; before?: number; after?: number }): boolean {
  return (q.userId === undefined || e.userId === q.userId)
    && (q.ip === undefined || e.ip === q.ip)
    && (q.sessionId === undefined || e.sessionId === q.sessionId)
    && (q.type === undefined || e.type === q.type)
    && (q.since === undefined || e.at >= q.since)
    && (q.until === undefined || e.at < q.until)
    && (q.before === undefined || e.seq < q.before)
    && (q.after === undefined || e.seq > q.after);
}
