/**
 * The signing-key ring. Keys live in the store (`signing-keys` records, private halves encrypted
 * with the master key), so every instance on one store signs with the same active key and verifies
 * the same set. A key is `pending` (published and verifying, signing from its `activatesAt`: the
 * propagation window of a rotation), `active` (signs and verifies), `verify-only` (verifies until
 * every token it signed has expired) or `retired` (neither; kept for the record, private half erased).
 *
 * Instances learn of changes through `store.watch` (`{ type: 'keys' }`), a periodic reload, and a
 * throttled reload when a token names a `kid` they do not know yet. The reading is key-ring-load.ts,
 * the rotation key-ring-rotation.ts, the records and their pure helpers key-records.ts.
 */
import type { JsonWebKey } from 'node:crypto';
import type { JwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import type { VerificationKey } from '../../tokens/jwt-verify.js';
import type { SessionStore } from '../store.js';
import { emptyRing, ringLoader } from './key-ring-load.js';
import { ringRotation } from './key-ring-rotation.js';
import { checkedImport, keyInfos, publishedKeys, type ImportKeyInput, type SigningKeyInfo } from './key-records.js';

export { SIGNING_KEYS } from './key-records.js';
export type { ImportKeyInput, KeyState, SigningKeyInfo, StoredSigningKey } from './key-records.js';

export interface KeyRingOptions {
  store: SessionStore;
  now: () => number;
  algorithm: JwtAlgorithm;
  masterKey: () => Promise<Buffer>;
  /** How long a demoted key keeps verifying: the longest token lifetime, tolerance and reload lag. */
  verifyWindow: number;
  rotateEvery: number | null;
  /** How long a rotated-in key is published (pending) before it signs: the JWKS propagation window. */
  propagation: number;
  /** Whether publishing the JWKS creates the first key (JWT sessions configured). */
  createOnPublish: boolean;
  /** How often the ring is re-read from the store even without change events. */
  reloadInterval: number;
  onRotated?: (kid: string, previous: string | null, reason: string) => void;
}

export type KeyRing = ReturnType<typeof createKeyRing>;

const UNKNOWN_KID_RELOAD_INTERVAL = 1000;

/**
 * Builds a key ring over a store. Nothing is read until the first use.
 *
 * @example
 * const ring = createKeyRing({ store, now: Date.now, algorithm: 'EdDSA', masterKey, verifyWindow, rotateEvery, reloadInterval: 60_000 });
 * const key = await ring.signingKey();
 */
export function createKeyRing(options: KeyRingOptions) {
  const { now } = options;
  const state = emptyRing();
  const loader = ringLoader(options, state);
  const { put, reload, ensureLoaded, ensureRecent, checkDecryptable } = loader;
  const { addKey, demoteOthers, rotate, ensureKey, signingKey } = ringRotation(options, state, loader);
  let lastKidReload = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setInterval> | null = null;

  return {
    /** The verification key for a `kid`, if this instance knows it. Synchronous: the hot path. */
    key(kid: string): VerificationKey | undefined {
      return state.verifying.get(kid);
    },
    get loaded(): boolean {
      return state.loaded;
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
    checkDecryptable,
    rotate: () => rotate('manual'),
    /** Creates the first signing key if the store has none, so the JWKS is never empty. */
    ensureKey,
    /** The public keys of the keys this ring signs or will sign with (pending, active, verify-only), as a JWKS. */
    async jwks(): Promise<{ keys: JsonWebKey[] }> {
      // The first key is published before a token is signed with it, not created by the first login.
      if (options.createOnPublish) await ensureKey();
      else await ensureRecent();
      return { keys: publishedKeys(state.records, state.signerRecord?.kid ?? null, now()) };
    },
    async list(): Promise<SigningKeyInfo[]> {
      await reload();
      return keyInfos(state.records);
    },
    /** Adds an existing key: private (can sign, optionally active) or public (verifies only). */
    async import(input: ImportKeyInput): Promise<{ kid: string }> {
      const { kid, privateKey, publicKey } = checkedImport(input);
      await ensureLoaded();
      const retireAt = now() + options.verifyWindow;
      await addKey(input.alg, privateKey, publicKey, input.activate ? 'active' : 'verify-only', 'imported', kid);
      if (input.activate) await demoteOthers(kid, retireAt);
      await reload();
      return { kid };
    },
    /** Retires a key now: tokens it signed stop verifying at once (for a compromised key). */
    async retire(kid: string): Promise<boolean> {
      await ensureLoaded();
      const k = state.records.find((r) => r.kid === kid);
      if (!k || k.state === 'retired') return false;
      await put({ ...k, state: 'retired', privateKey: null, retireAt: now() });
      await reload();
      return true;
    },
    /** Called when a reload changed the verification keys (caches of verified tokens reset). */
    onChange(listener: () => void): () => void {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
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
