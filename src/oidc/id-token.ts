import { CompactEncrypt, compactDecrypt } from 'jose';

const MAX_SEALED = 16_384;

/**
 * Seals an ID Token for storage beside its session (JWE `dir` + A256GCM under a key derived from
 * the server secret, the client id as additional authenticated data through the `kid` header), so
 * the store and its backups hold no readable ID Token. The token is kept only to be sent back to
 * the provider as `id_token_hint` at RP-initiated logout; it is never logged or returned.
 *
 * @example const sealed = await sealIdToken(key, 'app', tokens.id_token)
 */
export async function sealIdToken(key: Uint8Array, clientId: string, idToken: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(idToken))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: `oidc-id-token:${clientId}` })
    .encrypt(key);
}

/**
 * Opens a sealed ID Token; null when it is missing, altered or sealed for another client (the
 * logout then goes to the provider without a hint, and the provider asks the user to confirm).
 *
 * @example const idToken = await openIdToken(key, 'app', entry.idToken)
 */
export async function openIdToken(key: Uint8Array, clientId: string, sealed: unknown): Promise<string | null> {
  if (typeof sealed !== 'string' || sealed.length === 0 || sealed.length > MAX_SEALED) return null;
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    if (protectedHeader.kid !== `oidc-id-token:${clientId}`) return null;
    return new TextDecoder().decode(plaintext);
  } catch {
    return null;
  }
}
