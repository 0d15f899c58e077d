/**
 * The compact encoding of a session record in one Redis string: `<header>\n<body>`.
 * The header is the small JSON array the Lua scripts read and rewrite (version, times, revocation,
 * user); the body is everything else, written only by JavaScript and never decoded by Lua, so
 * `data` round-trips byte for byte. Times after `createdAt` are stored as offsets from it and the
 * SHA-256 hashes as base64url, which keeps a typical record near 250 bytes.
 *
 * @example decodeRecord(id, encodeRecord(session)) deep-equals session
 */
import type { StoredSession } from '../../core/types.js';

/** Header slots (1-based in Lua): version, createdAt, lastSeen-, idle-, absolute-offset, revokedAt, revokeReason, userId. */
type Header = [number, number, number, number, number, number | null, string | null, string];

const HEX64 = /^[0-9a-f]{64}$/;

function packHash(hex: string): string {
  return HEX64.test(hex) ? Buffer.from(hex, 'hex').toString('base64url') : `!${hex}`;
}

function unpackHash(packed: string): string {
  return packed.startsWith('!') ? packed.slice(1) : Buffer.from(packed, 'base64url').toString('hex');
}

/** Encodes a record; `id` is not stored (it is the key). */
export function encodeRecord(s: StoredSession): string {
  const ca = s.createdAt;
  const header: Header = [s.version, ca, s.lastSeenAt - ca, s.idleExpiresAt - ca, s.absoluteExpiresAt - ca,
    s.revokedAt, s.revokeReason, s.userId];
  const d = s.device;
  const body = [packHash(s.secretHash), s.previousSecretHash === null ? null : packHash(s.previousSecretHash),
    s.previousSecretExpiresAt === null ? null : s.previousSecretExpiresAt - ca, s.usedSecretHashes.map(packHash),
    s.generation, s.tokenType === 'opaque' ? 0 : s.tokenType, s.roles, s.idleTimeout, s.absoluteTimeout, s.policy,
    s.authenticatedAt - ca, s.authMethods, [d.userAgent, d.ip, d.label, d.browser, d.os, d.type], s.data];
  return `${JSON.stringify(header)}\n${JSON.stringify(body)}`;
}

/** Decodes a value written by `encodeRecord` (and possibly rewritten in its header by Lua). */
export function decodeRecord(id: string, value: string): StoredSession {
  const nl = value.indexOf('\n');
  const [version, ca, ls, ie, ae, revokedAt, revokeReason, userId] = JSON.parse(value.slice(0, nl)) as Header;
  const [secretHash, prev, prevExp, used, generation, tokenType, roles, idleTimeout, absoluteTimeout, policy,
    authOffset, authMethods, device, data] = JSON.parse(value.slice(nl + 1)) as [string, string | null, number | null,
    string[], number, 0 | StoredSession['tokenType'], string[], number, number, string | null, number, string[],
    [string | null, string | null, string | null, string | null, string | null, string], Record<string, unknown>];
  return {
    id, secretHash: unpackHash(secretHash), previousSecretHash: prev === null ? null : unpackHash(prev),
    previousSecretExpiresAt: prevExp === null ? null : ca + prevExp, usedSecretHashes: used.map(unpackHash),
    generation, tokenType: tokenType === 0 ? 'opaque' : tokenType, userId, roles,
    createdAt: ca, lastSeenAt: ca + ls, idleExpiresAt: ca + ie, absoluteExpiresAt: ca + ae,
    idleTimeout, absoluteTimeout, policy, authenticatedAt: ca + authOffset, authMethods,
    device: { userAgent: device[0], ip: device[1], label: device[2], browser: device[3], os: device[4], type: device[5] },
    data, version, revokedAt, revokeReason,
  };
}
