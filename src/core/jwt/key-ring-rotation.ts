/**
 * Rotating the key ring: adding keys (generated or imported), the due rotation that one instance
 * wins, and the signing key with its private half decrypted on first use.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { generateSigningKey, makeSigner, publicJwk, type JwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import type { SigningKey } from '../../tokens/jwt-sign.js';
import { SessionError, storeFailure } from '../errors.js';
import type { RingLoader, RingState } from './key-ring-load.js';
import type { KeyState, StoredSigningKey } from './key-records.js';
import type { KeyRingOptions } from './keyring.js';

/**
 * The rotation of one ring.
 *
 * @example const { signingKey } = ringRotation(options, state, loader); const key = await signingKey();
 */
export function ringRotation(options: KeyRingOptions, state: RingState, loader: RingLoader) {
  const { store, now, algorithm } = options;
  const { put, reload } = loader;

  async function addKey(alg: JwtAlgorithm, privateKey: KeyObject | null, publicKey: KeyObject | null, keyState: KeyState, origin: StoredSigningKey['origin'], kid = randomBytes(12).toString('base64url'), activatesAt: number | null = null): Promise<StoredSigningKey> {
    // Strictly after every key this instance knows: the newest active key is the signer, and
    // rotations within one clock tick must still order.
    const createdAt = state.records.reduce((latest, k) => Math.max(latest, k.createdAt + 1), now());
    const record: StoredSigningKey = {
      kid, alg, state: keyState, createdAt, activatesAt: activatesAt ?? (keyState === 'active' ? createdAt : null), retireAt: null,
      publicJwk: publicKey ? publicJwk(alg, kid, publicKey) : null, privateKey: null, origin,
    };
    if (privateKey) record.privateKey = await loader.encrypt(record, privateKey);
    if (!(await put(record, true))) throw new SessionError('invalid_request', `a signing key with kid ${kid} exists`);
    return record;
  }

  /** Demotes every active key but `kid` to verify-only until `retireAt`. */
  async function demoteOthers(kid: string, retireAt: number): Promise<void> {
    for (const k of state.records) {
      if (k.state === 'active' && k.kid !== kid) await put({ ...k, state: 'verify-only', retireAt });
    }
  }

  /**
   * Adds a new key. With a current signer it is `pending` for the propagation window: published in
   * the JWKS and verifying at once, signing only from `activatesAt` on (the reload that reaches
   * that time promotes it and demotes the old signer), so verifiers that cache the JWKS fetch it
   * before they meet a token it signed. With no signer (the very first key, or the active one was
   * retired) it is active at once: there is nothing else to sign with.
   */
  async function rotate(reason = 'manual'): Promise<{ kid: string; activatesAt: number }> {
    // A fresh read, not the cached ring: the new key must be created after every key on the
    // store (another instance may have added one this instance has not heard of yet), or two
    // active keys could tie on createdAt and the signer would be picked by kid order.
    await reload();
    const previous = state.signerRecord?.kid ?? null;
    const { privateKey, publicKey } = generateSigningKey(algorithm);
    const wait = previous !== null && options.propagation > 0;
    const added = await addKey(algorithm, privateKey, publicKey, wait ? 'pending' : 'active', 'generated', undefined, wait ? now() + options.propagation : null);
    if (!wait) await demoteOthers(added.kid, now() + options.verifyWindow);
    await reload();
    options.onRotated?.(added.kid, previous, reason);
    return { kid: added.kid, activatesAt: added.activatesAt ?? added.createdAt };
  }

  /** Creates the first key when the ring has none that signs or will sign (start-up, JWKS). */
  async function ensureKey(): Promise<void> {
    await loader.ensureRecent();
    if (!state.signerRecord && !state.records.some((k) => k.state === 'pending')) await rotate('initial');
  }

  /** The signing key: created on first use, rotated when due (one instance wins the due rotation). */
  async function signingKey(): Promise<SigningKey> {
    await loader.ensureRecent();
    if (!state.signerRecord) {
      await rotate('initial');
    } else {
      const current = state.signerRecord;
      // A pending key is the rotation already under way: wait for it rather than add another.
      const due = !state.records.some((k) => k.state === 'pending') && (current.alg !== algorithm
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
    const record = state.signerRecord;
    if (!record) throw new SessionError('store_unavailable', 'no signing key is available');
    if (state.signer?.kid !== record.kid) state.signer = { kid: record.kid, alg: record.alg, sign: makeSigner(record.alg, await loader.decrypt(record)) };
    return state.signer;
  }

  return { addKey, demoteOthers, rotate, ensureKey, signingKey };
}
