/**
 * The signing-key ring. Keys live in the store (`signing-keys` records, private halves encrypted
 * with the master key), so every instance on one store signs with the same active key and verifies
 * the same set. A key is `active` (signs and verifies), `verify-only` (verifies until every token it
 * signed has expired) or `retired` (neither; kept for the record, private half erased).
 *
 * Instances learn of changes through `store.watch` (`{ type: 'keys' }`), a periodic reload, and a
 * throttled reload when a token names a `kid` they do not know yet.
 */
import { randomBytes, createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SessionError, storeFailure } from '../errors.js';
import type { SessionStore } from '../store.js';
import { assertKeyFits, exportPrivate, generateSigningKey, importPrivate, importPublicJwk, isJwtAlgorithm, makeSigner, makeVerifier, publicJwk, signatureLength, type JwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import type { SigningKey } from '../../tokens/jwt-sign.js';
import type { VerificationKey } from '../../tokens/jwt-verify.js';
import { decryptPrivate, encryptPrivate, type EncryptedBlob } from '../../tokens/key-encryption.js';

export type KeyState = 'active' | 'verify-only' | 'retired';

/** What the store holds for one key. */
export interface StoredSigningKey {
  kid: string;
  alg: JwtAlgorithm;
  state: KeyState;
  createdAt: number;
  /** When a verify-only key stops verifying (its last token has expired); null: no end set. */
  retireAt: number | null;
  publicJwk: JsonWebKey | null;
  /** PKCS#8 DER (or the HS256 secret), AES-256-GCM under the master key; null once retired. */
  privateKey: EncryptedBlob | null;
  origin: 'generated' | 'imported';
}

/** A key as `sessions.keys.list()` shows it: no key material. */
export interface SigningKeyInfo {
  kid: string;
  alg: JwtAlgorithm;
  state: KeyState;
  createdAt: Date;
  retiresAt: Date | null;
  origin: 'generated' | 'imported';
}

/** A key to add with `sessions.keys.import()`. */
export interface ImportKeyInput {
  alg: JwtAlgorithm;
  /** A KeyObject, a JWK, or PEM text: private (can sign) or public (verifies only). */
  key: KeyObject | JsonWebKey | string;
  kid?: string;
  /** Make it the signing key (needs a private key). Default false: it verifies only. */
  activate?: boolean;
}

export interface KeyRingOptions {
  store: SessionStore;
  now: () => number;
  algorithm: JwtAlgorithm;
  masterKey: () => Promise<Buffer>;
  /** How long a demoted key keeps verifying: the longest token lifetime, tolerance and reload lag. */
  verifyWindow: number;
  rotateEvery: number | null;
  /** How often the ring is re-read from the store even without change events. */
  reloadInterval: number;
  onRotated?: (kid: string, previous: string | null, reason: string) => void;
}

export type KeyRing = ReturnType<typeof createKeyRing>;

export const SIGNING_KEYS = 'signing-keys';
const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const UNKNOWN_KID_RELOAD_INTERVAL = 1000;
/** The longest a ring may go unread before it signs or publishes the JWKS (ms of wall-clock time). */
const RING_STALENESS_MS = 1000;

/**
 * Builds a key ring over a store. Nothing is read until the first use.
 *
 * @example
 * const ring = createKeyRing({ store, now: Date.now, algorithm: 'EdDSA', masterKey, verifyWindow, rotateEvery, reloadInterval: 60_000 });
 * const key = await ring.signingKey();
 */
export function createKeyRing(options: KeyRingOptions) {
  const { store, now, algorithm } = options;
  let verifying = new Map<string, VerificationKey>();
  let records: StoredSigningKey[] = [];
  let signer: SigningKey | null = null;
  /** The record of the key that signs: decrypted only when a token is signed, so a process with
   * the wrong master key (or none) can still verify. */
  let signerRecord: StoredSigningKey | null = null;
  let loaded = false;
  /** Wall-clock time of the last read of the ring (not the injectable clock: this bounds staleness). */
  let readAt = 0;
  let loading: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  let lastKidReload = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setInterval> | null = null;
  const listeners = new Set<() => void>();
  let lastFingerprint = '';

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

  /** Reads the ring, retires expired keys and demotes all but the newest active key. */
  async function read(): Promise<void> {
    let stored: StoredSigningKey[];
    try {
      stored = await store.listRecords<StoredSigningKey>(SIGNING_KEYS);
    } catch (err) {
      throw storeFailure(err, 'loading signing keys');
    }
    const t = now();
    const actives = stored.filter((k) => k.state === 'active' && k.privateKey !== null && isJwtAlgorithm(k.alg))
      .sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : -1));
    const newest = actives[0] ?? null;
    for (const k of stored) {
      // Best effort: a failed write here changes nothing this instance does (states are also
      // enforced by time below), and the next reload tries again.
      if (k.state === 'active' && k !== newest && k.privateKey !== null) {
        // Two instances rotated at once, or a rotation was cut short: keep one signer.
        Object.assign(k, { state: 'verify-only', retireAt: t + options.verifyWindow });
        await put(k).catch(() => false);
      } else if (k.state === 'verify-only' && k.retireAt !== null && k.retireAt <= t) {
        Object.assign(k, { state: 'retired', privateKey: null });
        await put(k).catch(() => false);
        await store.deleteRecord('settings', `key-rotation:${k.kid}`).catch(() => false);
      }
    }
    const next = new Map<string, VerificationKey>();
    for (const k of stored) {
      if (k.state === 'retired' || !isJwtAlgorithm(k.alg)) continue;
      let key: KeyObject;
      try {
        key = k.alg === 'HS256' ? await decrypt(k) : importPublicJwk(k.publicJwk as JsonWebKey);
      } catch {
        continue; // a key this instance cannot read verifies nothing here
      }
      next.set(k.kid, {
        kid: k.kid, alg: k.alg, verify: makeVerifier(k.alg, key),
        signatureChars: Math.ceil((signatureLength(k.alg, key) * 4) / 3),
        usableUntil: k.state === 'verify-only' ? k.retireAt : null,
      });
    }
    records = stored;
    verifying = next;
    signerRecord = newest;
    if (signer && signer.kid !== newest?.kid) signer = null;
    loaded = true;
    readAt = Date.now();
    const fingerprint = [...next.values()].map((k) => `${k.kid}:${k.alg}:${k.usableUntil}`).sort().join(',');
    if (fingerprint !== lastFingerprint) {
      lastFingerprint = fingerprint;
      for (const l of listeners) l();
    }
  }

  /** Re-reads the ring; a call made while a read is running gets a read that starts after it. */
  function reload(): Promise<void> {
    if (!loading) {
      loading = read().finally(() => {
        loading = null;
      });
      return loading;
    }
    if (!queued) {
      queued = loading.catch(() => {}).then(() => {
        queued = null;
        return reload();
      });
    }
    return queued;
  }

  async function ensureLoaded(): Promise<void> {
    if (!loaded) await reload();
  }

  /**
   * Before signing or publishing the JWKS: a ring read more than a second ago is read again, so a
   * rotation made by another instance reaches this one within that bound even when a change
   * notification is lost (pub/sub is at-most-once, and on a Redis Cluster the subscriber may sit
   * on a node that is failing over). Costs at most one store read per second, on these paths only.
   */
  async function ensureRecent(): Promise<void> {
    if (!loaded || Date.now() - readAt > RING_STALENESS_MS) await reload();
  }

  async function addKey(alg: JwtAlgorithm, privateKey: KeyObject | null, publicKey: KeyObject | null, state: KeyState, origin: StoredSigningKey['origin'], kid = randomBytes(12).toString('base64url')): Promise<StoredSigningKey> {
    // Strictly after every key this instance knows: the newest active key is the signer, and
    // rotations within one clock tick must still order.
    const createdAt = records.reduce((latest, k) => Math.max(latest, k.createdAt + 1), now());
    const record: StoredSigningKey = {
      kid, alg, state, createdAt, retireAt: null,
      publicJwk: publicKey ? publicJwk(alg, kid, publicKey) : null, privateKey: null, origin,
    };
    if (privateKey) record.privateKey = encryptPrivate(await options.masterKey(), context(record), exportPrivate(privateKey));
    if (!(await put(record, true))) throw new SessionError('invalid_request', `a signing key with kid ${kid} exists`);
    return record;
  }

  /** Adds a new active key and demotes the current ones to verify-only. */
  async function rotate(reason = 'manual'): Promise<{ kid: string }> {
    // A fresh read, not the cached ring: the new key must be created after every key on the
    // store (another instance may have added one this instance has not heard of yet), or two
    // active keys could tie on createdAt and the signer would be picked by kid order.
    await reload();
    const previous = signerRecord?.kid ?? null;
    const { privateKey, publicKey } = generateSigningKey(algorithm);
    const added = await addKey(algorithm, privateKey, publicKey, 'active', 'generated');
    const retireAt = now() + options.verifyWindow;
    for (const k of records) {
      if (k.state === 'active' && k.kid !== added.kid) await put({ ...k, state: 'verify-only', retireAt });
    }
    await reload();
    options.onRotated?.(added.kid, previous, reason);
    return { kid: added.kid };
  }

  /** The signing key: created on first use, rotated when due (one instance wins the due rotation). */
  async function signingKey(): Promise<SigningKey> {
    await ensureRecent();
    if (!signerRecord) {
      await rotate('initial');
    } else {
      const current = signerRecord;
      const due = (current.alg !== algorithm
        || (options.rotateEvery !== null && now() >= current.createdAt + options.rotateEvery));
      if (due) {
        let won: boolean;
        try {
          won = await store.putRecord('settings', `key-rotation:${current.kid}`, { at: now() }, { ifAbsent: true });
        } catch (err) {
          throw storeFailure(err, 'rotating signing keys');
        }
        if (won) await rotate(current.alg !== algorithm ? 'algorithm' : 'scheduled');
        else await reload();
      }
    }
    const record = signerRecord;
    if (!record) throw new SessionError('store_unavailable', 'no signing key is available');
    if (signer?.kid !== record.kid) signer = { kid: record.kid, alg: record.alg, sign: makeSigner(record.alg, await decrypt(record)) };
    return signer;
  }

  return {
    /** The verification key for a `kid`, if this instance knows it. Synchronous: the hot path. */
    key(kid: string): VerificationKey | undefined {
      return verifying.get(kid);
    },
    get loaded(): boolean {
      return loaded;
    },
    ensureLoaded,
    reload,
    /** Re-reads the ring for a `kid` not known yet, at most once a second. */
    async reloadForUnknownKid(): Promise<boolean> {
      const t = now();
      if (t - lastKidReload < UNKNOWN_KID_RELOAD_INTERVAL) return false;
      lastKidReload = t;
      await reload();
      return true;
    },
    signingKey,
    rotate: () => rotate('manual'),
    /** The public keys of the keys this ring signs with (active and verify-only), as a JWKS. */
    async jwks(): Promise<{ keys: JsonWebKey[] }> {
      await ensureRecent();
      const t = now();
      const keys = records
        .filter((k) => k.publicJwk !== null && k.privateKey !== null && (k.state === 'active' || (k.state === 'verify-only' && (k.retireAt === null || t < k.retireAt))))
        .sort((a, b) => (a.kid === signerRecord?.kid ? -1 : b.kid === signerRecord?.kid ? 1 : b.createdAt - a.createdAt))
        .map((k) => ({ ...(k.publicJwk as JsonWebKey) }));
      return { keys };
    },
    async list(): Promise<SigningKeyInfo[]> {
      await reload();
      return records
        .map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, createdAt: new Date(k.createdAt), retiresAt: k.retireAt === null ? null : new Date(k.retireAt), origin: k.origin }))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    },
    /** Adds an existing key: private (can sign, optionally active) or public (verifies only). */
    async import(input: ImportKeyInput): Promise<{ kid: string }> {
      if (typeof input !== 'object' || input === null || !isJwtAlgorithm(input.alg)) {
        throw new SessionError('invalid_request', "keys.import: expected { alg: 'EdDSA' | 'ES256' | 'RS256' | 'HS256', key, kid?, activate? }");
      }
      const kid = input.kid ?? randomBytes(12).toString('base64url');
      if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) throw new SessionError('invalid_request', 'keys.import: kid must be 1 to 64 base64url characters');
      const { privateKey, publicKey } = toKeyObjects(input.alg, input.key);
      assertKeyFits(input.alg, privateKey ?? (publicKey as KeyObject));
      if (input.activate && !privateKey) throw new SessionError('invalid_request', 'keys.import: activate needs a private key');
      await ensureLoaded();
      const retireAt = now() + options.verifyWindow;
      await addKey(input.alg, privateKey, publicKey, input.activate ? 'active' : 'verify-only', 'imported', kid);
      if (input.activate) {
        for (const k of records) if (k.state === 'active' && k.kid !== kid) await put({ ...k, state: 'verify-only', retireAt });
      }
      await reload();
      return { kid };
    },
    /** Retires a key now: tokens it signed stop verifying at once (for a compromised key). */
    async retire(kid: string): Promise<boolean> {
      await ensureLoaded();
      const k = records.find((r) => r.kid === kid);
      if (!k || k.state === 'retired') return false;
      await put({ ...k, state: 'retired', privateKey: null, retireAt: now() });
      await reload();
      return true;
    },
    /** Called when a reload changed the verification keys (caches of verified tokens reset). */
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Starts the periodic reload (unref'd: it never keeps a process alive). */
    start(): void {
      if (timer || options.reloadInterval <= 0) return;
      timer = setInterval(() => {
        reload().catch(() => {});
      }, options.reloadInterval);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

function toKeyObjects(alg: JwtAlgorithm, key: ImportKeyInput['key']): { privateKey: KeyObject | null; publicKey: KeyObject | null } {
  try {
    let object: KeyObject;
    if (typeof key === 'object' && key !== null && 'type' in key && typeof (key as KeyObject).export === 'function') object = key as KeyObject;
    else if (typeof key === 'string') object = /PRIVATE KEY/.test(key) ? createPrivateKey(key) : createPublicKey(key);
    else if (typeof key === 'object' && key !== null) {
      const jwk = key as JsonWebKey;
      object = jwk.kty === 'oct' ? createSecretKey(Buffer.from(String(jwk.k), 'base64url')) : jwk.d !== undefined ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
    } else throw new Error('unsupported key');
    if (object.type === 'secret') return { privateKey: object, publicKey: null };
    if (object.type === 'private') return { privateKey: object, publicKey: alg === 'HS256' ? null : createPublicKey(object) };
    return { privateKey: null, publicKey: object };
  } catch (err) {
    if (err instanceof SessionError) throw err;
    throw new SessionError('invalid_request', `keys.import: the key could not be read as a ${alg} key (KeyObject, JWK or PEM)`);
  }
}
