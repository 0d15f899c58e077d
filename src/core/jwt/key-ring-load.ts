/**
 * Reading the key ring from the store: the records, the verification keys, the signer, and the
 * state transitions that time makes (a second active key is demoted, a verify-only key whose
 * window ended is retired). Reads are coalesced: one runs at a time, and a call made during a read
 * gets one read that starts after it.
 */
import type { KeyObject, JsonWebKey } from 'node:crypto';
import { exportPrivate, importPrivate, importPublicJwk, isJwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import type { SigningKey } from '../../tokens/jwt-sign.js';
import type { VerificationKey } from '../../tokens/jwt-verify.js';
import { decryptPrivate, encryptPrivate, type EncryptedBlob } from '../../tokens/key-encryption.js';
import { SessionError, storeFailure } from '../errors.js';
import { SIGNING_KEYS, verificationKey, type StoredSigningKey } from './key-records.js';
import type { KeyRingOptions } from './keyring.js';

/** The longest a ring may go unread before it signs or publishes the JWKS (ms of wall-clock time). */
const RING_STALENESS_MS = 1000;

/** What one key ring knows; shared by its loader, its rotation and its public methods. */
export interface RingState {
  verifying: Map<string, VerificationKey>;
  records: StoredSigningKey[];
  signer: SigningKey | null;
  /** The record of the key that signs: decrypted only when a token is signed, so a process with
   * the wrong master key (or none) can still verify. */
  signerRecord: StoredSigningKey | null;
  loaded: boolean;
  /** Wall-clock time of the last read of the ring (not the injectable clock: this bounds staleness). */
  readAt: number;
  loading: Promise<void> | null;
  queued: Promise<void> | null;
  listeners: Set<() => void>;
  lastFingerprint: string;
  /** When the earliest pending key starts signing (injectable clock); Infinity: none pending. */
  nextActivation: number;
}

/** A ring that has read nothing yet. */
export function emptyRing(): RingState {
  return {
    verifying: new Map(), records: [], signer: null, signerRecord: null, loaded: false, readAt: 0,
    loading: null, queued: null, listeners: new Set(), lastFingerprint: '', nextActivation: Number.POSITIVE_INFINITY,
  };
}

/**
 * The loader of one ring: store reads and writes of key records, decryption, (re)loading.
 *
 * @example const loader = ringLoader(options, state); await loader.ensureLoaded();
 */
export function ringLoader(options: KeyRingOptions, state: RingState) {
  const { store, now } = options;
  const context = (k: StoredSigningKey): string => `sessionkit:signing-key:${k.kid}:${k.alg}`;

  async function put(record: StoredSigningKey, ifAbsent = false): Promise<boolean> {
    try {
      return await store.putRecord(SIGNING_KEYS, record.kid, record, { ifAbsent });
    } catch (err) {
      throw storeFailure(err, 'writing a signing key');
    }
  }

  async function decrypt(record: StoredSigningKey): Promise<KeyObject> {
    const plain = record.privateKey ? decryptPrivate(await options.masterKey(), context(record), record.privateKey) : null;
    if (!plain) {
      throw new SessionError('store_unavailable', `signing key ${record.kid} cannot be decrypted with the configured master key`);
    }
    return importPrivate(record.alg, plain);
  }

  /** The private half of a key, encrypted under the master key and bound to its kid and algorithm. */
  async function encrypt(record: StoredSigningKey, privateKey: KeyObject): Promise<EncryptedBlob> {
    return encryptPrivate(await options.masterKey(), context(record), exportPrivate(privateKey));
  }

  /**
   * Decrypts the private half of every signing key that still has one, and throws
   * `invalid_request` naming the first key the master key cannot decrypt: found at start-up,
   * not by the first login.
   */
  async function checkDecryptable(): Promise<void> {
    let stored: StoredSigningKey[];
    try {
      stored = await store.listRecords<StoredSigningKey>(SIGNING_KEYS);
    } catch (err) {
      throw storeFailure(err, 'loading signing keys');
    }
    for (const k of stored) {
      if (k.state === 'retired' || k.privateKey === null) continue;
      if (decryptPrivate(await options.masterKey(), context(k), k.privateKey) === null) {
        throw new SessionError('invalid_request', `option masterKey: signing key ${k.kid} in the store cannot be decrypted with it (AES-256-GCM authentication failed: the key ring was encrypted under another master key, or the record was altered)`, { kid: k.kid });
      }
    }
  }

  /**
   * Promotes the pending keys whose time has come (or the newest pending key at once when no key
   * is active: the active one was retired), demotes all but the newest active key, and retires
   * verify-only keys whose window ended. Everything follows from stored timestamps and the clock,
   * so every instance on one store reaches the same states without timers of its own.
   */
  async function settleStates(stored: StoredSigningKey[], t: number): Promise<StoredSigningKey | null> {
    const signing = (k: StoredSigningKey): boolean => k.privateKey !== null && isJwtAlgorithm(k.alg);
    const pending = stored.filter((k) => k.state === 'pending' && signing(k)).sort(newestFirst);
    const due = pending.filter((k) => (k.activatesAt ?? 0) <= t);
    const noActive = !stored.some((k) => k.state === 'active' && signing(k));
    const promote = due.length > 0 ? due : noActive && pending[0] ? [pending[0]] : [];
    for (const k of promote) {
      Object.assign(k, { state: 'active', activatesAt: Math.min(k.activatesAt ?? t, t) });
      await put(k).catch(() => false);
    }
    const newest = stored.filter((k) => k.state === 'active' && signing(k)).sort(newestFirst)[0] ?? null;
    for (const k of stored) {
      // Best effort: a failed write here changes nothing this instance does (states are also
      // enforced by time below), and the next reload tries again.
      if (k.state === 'active' && k !== newest && k.privateKey !== null) {
        // A pending key took over, two instances rotated at once, or a rotation was cut short:
        // keep one signer. The old one verifies until every token it signed has expired.
        Object.assign(k, { state: 'verify-only', retireAt: t + options.verifyWindow });
        await put(k).catch(() => false);
      } else if (k.state === 'verify-only' && k.retireAt !== null && k.retireAt <= t) {
        Object.assign(k, { state: 'retired', privateKey: null });
        await put(k).catch(() => false);
        await store.deleteRecord('settings', `key-rotation:${k.kid}`).catch(() => false);
      }
    }
    state.nextActivation = stored.reduce((next, k) => (k.state === 'pending' && k.activatesAt != null ? Math.min(next, k.activatesAt) : next), Number.POSITIVE_INFINITY);
    return newest;
  }

  /** Reads the ring, settles the states, and rebuilds the verification keys. */
  async function read(): Promise<void> {
    let stored: StoredSigningKey[];
    try {
      stored = await store.listRecords<StoredSigningKey>(SIGNING_KEYS);
    } catch (err) {
      throw storeFailure(err, 'loading signing keys');
    }
    const newest = await settleStates(stored, now());
    const next = new Map<string, VerificationKey>();
    for (const k of stored) {
      if (k.state === 'retired' || !isJwtAlgorithm(k.alg)) continue;
      let key: KeyObject;
      try {
        key = k.alg === 'HS256' ? await decrypt(k) : importPublicJwk(k.publicJwk as JsonWebKey);
      } catch {
        continue; // a key this instance cannot read verifies nothing here
      }
      next.set(k.kid, verificationKey(k, key));
    }
    state.records = stored;
    state.verifying = next;
    state.signerRecord = newest;
    if (state.signer && state.signer.kid !== newest?.kid) state.signer = null;
    state.loaded = true;
    state.readAt = Date.now();
    const fingerprint = [...next.values()].map((k) => `${k.kid}:${k.alg}:${k.usableUntil}`).sort().join(',');
    if (fingerprint !== state.lastFingerprint) {
      state.lastFingerprint = fingerprint;
      for (const l of state.listeners) l();
    }
  }

  /** Re-reads the ring; a call made while a read is running gets a read that starts after it. */
  function reload(): Promise<void> {
    if (!state.loading) {
      state.loading = read().finally(() => {
        state.loading = null;
      });
      return state.loading;
    }
    if (!state.queued) {
      state.queued = state.loading.catch(() => {}).then(() => {
        state.queued = null;
        return reload();
      });
    }
    return state.queued;
  }

  async function ensureLoaded(): Promise<void> {
    if (!state.loaded) await reload();
  }

  /**
   * Before signing or publishing the JWKS: a ring read more than a second ago is read again, so a
   * rotation made by another instance reaches this one within that bound even when a change
   * notification is lost (pub/sub is at-most-once, and on a Redis Cluster the subscriber may sit
   * on a node that is failing over). Costs at most one store read per second, on these paths only.
   */
  async function ensureRecent(): Promise<void> {
    // A pending key whose time has come: read again now, so it signs from its activatesAt on.
    if (!state.loaded || Date.now() - state.readAt > RING_STALENESS_MS || now() >= state.nextActivation) await reload();
  }

  return { put, encrypt, decrypt, reload, ensureLoaded, ensureRecent, checkDecryptable };
}

/** Newest first; equal times ordered by kid, so every instance picks the same key. */
function newestFirst(a: StoredSigningKey, b: StoredSigningKey): number {
  return b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : -1);
}

/** The loader's functions, as the rotation and the ring use them. */
export type RingLoader = ReturnType<typeof ringLoader>;
