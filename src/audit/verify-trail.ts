import type { StoredAuditEvent } from '../core/types.js';
import type { SessionStore } from '../core/store.js';
import { GENESIS_HASH, verifyChain } from './chain.js';
import { checkpointValid, listCheckpoints, type AuditCheckpoint } from './checkpoint.js';

const PAGE = 1000;

/** What `verifyTrail` found. `ok: false` names the first problem in `reason`, at event `brokenAt`. */
export interface TrailReport {
  ok: boolean;
  /** Events whose links were checked. */
  checked: number;
  /** The oldest event kept (earlier ones were pruned), or null for an empty trail. */
  firstSeq: number | null;
  brokenAt?: number;
  reason?: string;
  /** Whether keyed checkpoints were checked (false without an audit key). */
  keyed: boolean;
  /** The newest valid checkpoint: every event up to it is sealed. */
  sealedThrough: number | null;
  /** Events after `sealedThrough`. */
  unsealed: number;
}

export interface TrailOptions {
  /** The audit key (`auditKey(masterKey)`); without it only the unkeyed chain is checked. */
  key: Uint8Array | null;
  now: number;
  /** Fail when an event older than this (ms) is not covered by a checkpoint. */
  maxUnsealedMs: number;
  /** A checkpoint exported earlier (`seq:at:mac`) that must still be in the store and verify. */
  expect?: { seq: number; at: number; mac: string } | null;
}

/**
 * Verifies the whole audit trail: the hash chain (every link, no gaps; from the oldest event kept
 * when older ones were pruned) and, with the audit key, the keyed checkpoints: each must carry a
 * valid MAC, match the event it sealed, and not seal an event past the end of the trail; events
 * older than `maxUnsealedMs` must be sealed; an exported checkpoint must still be there.
 * An attacker who can write the store but lacks the master key can re-hash the unkeyed chain, not
 * a checkpoint: deleting or editing a sealed event is found.
 *
 * @example const report = await verifyTrail(store, { key: auditKey(masterKey), now: Date.now(), maxUnsealedMs: 600_000 })
 */
export async function verifyTrail(store: SessionStore, options: TrailOptions): Promise<TrailReport> {
  const checkpoints = options.key ? await listCheckpoints(store) : [];
  const report: TrailReport = { ok: true, checked: 0, firstSeq: null, keyed: options.key !== null, sealedThrough: null, unsealed: 0 };
  const fail = (brokenAt: number, reason: string): TrailReport => Object.assign(report, { ok: false, brokenAt, reason });

  const bySeq = new Map<number, AuditCheckpoint>();
  for (const c of checkpoints) {
    if (!checkpointValid(options.key as Uint8Array, c)) return fail(Number(c.seq) || 0, `checkpoint #${String(c.seq)} is forged or altered: its MAC does not verify under the audit key`);
    bySeq.set(c.seq, c);
  }
  if (options.expect) {
    const kept = bySeq.get(options.expect.seq);
    if (!kept || kept.at !== options.expect.at || kept.mac !== options.expect.mac) {
      return fail(options.expect.seq, `the exported checkpoint #${options.expect.seq} is not in the store: checkpoints (and the events they sealed) were removed`);
    }
  }

  let cursor = 0;
  let prev: string | null = null;
  let last: StoredAuditEvent | null = null;
  const unsealedSince: StoredAuditEvent[] = [];
  for (;;) {
    const page = await store.queryAudit({ after: cursor, limit: PAGE });
    if (page.length === 0) break;
    const first = page[0] as StoredAuditEvent;
    if (prev === null) {
      report.firstSeq = first.seq;
      // The first event kept anchors the chain; its own content is still checked against its hash.
      prev = first.seq === 1 ? GENESIS_HASH : first.prevHash;
    } else if (first.seq !== cursor + 1) {
      return fail(first.seq, `events ${cursor + 1} to ${first.seq - 1} are missing`);
    }
    const result = verifyChain(page, prev);
    if (!result.ok) return Object.assign(fail(result.brokenAt, result.reason), { checked: report.checked + result.count });
    for (let i = 0; i < page.length; i += 1) {
      const e = page[i] as StoredAuditEvent;
      if (i > 0 && e.seq !== (page[i - 1] as StoredAuditEvent).seq + 1) {
        return Object.assign(fail(e.seq, 'an event before this one is missing'), { checked: report.checked + i });
      }
      const sealed = bySeq.get(e.seq);
      if (sealed && sealed.hash !== e.hash) {
        return Object.assign(fail(e.seq, `event #${e.seq} does not match the checkpoint sealed at ${new Date(sealed.at).toISOString()}: events up to it were edited, deleted or re-hashed`), { checked: report.checked + i });
      }
      if (sealed) {
        report.sealedThrough = e.seq;
        unsealedSince.length = 0;
      } else {
        unsealedSince.push(e);
      }
    }
    report.checked += page.length;
    last = page[page.length - 1] as StoredAuditEvent;
    prev = last.hash;
    cursor = last.seq;
  }
  if (!options.key) return report;
  const newestSealed = checkpoints[checkpoints.length - 1];
  if (newestSealed && (last === null || newestSealed.seq > last.seq)) {
    return fail(newestSealed.seq, `a checkpoint sealed event #${newestSealed.seq} but the trail ends at #${last?.seq ?? 0}: events were deleted`);
  }
  // Checkpoints of pruned events still count: the first event kept is covered if one sealed it or later.
  if (report.sealedThrough === null && newestSealed && report.firstSeq !== null && newestSealed.seq < report.firstSeq) report.sealedThrough = newestSealed.seq;
  report.unsealed = unsealedSince.length;
  const stale = unsealedSince.find((e) => options.now - e.at > options.maxUnsealedMs);
  if (stale) {
    return fail(stale.seq, `event #${stale.seq} and ${unsealedSince.length - 1} after it are not sealed by any checkpoint, and it is older than the allowed ${Math.round(options.maxUnsealedMs / 1000)} s: checkpoints were removed, or nothing has sealed the trail (is the service running? sessionkit audit seal)`);
  }
  return report;
}
