/**
 * Private signing keys are encrypted at rest with the master key: AES-256-GCM, a fresh 96-bit IV
 * per key, and the key's `kid` and `alg` as additional authenticated data, so a ciphertext cannot
 * be moved to another key record without failing to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SessionError } from '../base/errors.js';

export interface EncryptedBlob {
  /** Format marker, so a later scheme can be told apart. */
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

/**
 * Reads the `masterKey` option: 32 bytes as a Buffer/Uint8Array, or a string of 64 hex digits or
 * base64/base64url of 32 bytes (the form of `SESSIONKIT_MASTER_KEY`).
 *
 * @example parseMasterKey(process.env.SESSIONKIT_MASTER_KEY) // 32-byte Buffer
 */
export function parseMasterKey(value: unknown): Buffer {
  let key: Buffer | null = null;
  if (value instanceof Uint8Array) key = Buffer.from(value);
  else if (typeof value === 'string') {
    const text = value.trim();
    if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text.replace(/=$/, ''), 'base64url');
  }
  if (!key || key.length !== 32) {
    throw new SessionError('invalid_request', 'option masterKey: expected 32 bytes (a Buffer, 64 hex digits, or base64 of 32 bytes; e.g. `openssl rand -base64 32`)');
  }
  return key;
}

/** Encrypts `plain` under `masterKey`, bound to `context` (the key's kid and alg). */
export function encryptPrivate(masterKey: Buffer, context: string, plain: Buffer): EncryptedBlob {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { v: 1, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') };
}

/** Decrypts a blob, or returns null when the master key (or the context) does not match. */
export function decryptPrivate(masterKey: Buffer, context: string, blob: EncryptedBlob): Buffer | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(blob.iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(blob.tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(blob.data, 'base64url')), decipher.final()]);
  } catch {
    return null;
  }
}
