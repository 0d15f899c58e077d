/**
 * The compact encoding of a session record in one Redis string: `<header>\n<body>`.
 * The header is the small JSON array the Lua scripts read and rewrite (version, times, revocation,
 * user); the body is everything else, written only by JavaScript and never decoded by Lua, so
 * `data` round-trips exactly. Times after `createdAt` are offsets from it, the SHA-256 hashes are
 * base64url, and the body is a JSON array whose trailing fields are left out while they hold their
 * usual value (no previous secret, no refresh history, generation 0, opaque, no policy, ...).
 * The device's browser, OS and type are not stored when they are what `parseDevice` derives from
 * the user agent (always, for records the manager writes): they are derived again on read, through
 * a bounded cache, so a validation does not run the user-agent parser. A typical record is about
 * 200 bytes (it was about 300 with the full body).
 *
 * @example decodeRecord(id, encodeRecord(session)) deep-equals session
 */
import { boundedMap } from '../../core/bounded-map.js';
import { parseDevice } from '../../core/device.js';
import type { DeviceInfo, StoredSession } from '../../core/types.js';

/** Header slots (1-based in Lua): version, createdAt, lastSeen-, idle-, absolute-offset, revokedAt, revokeReason, userId. */
type Header = [number, number, number, number, number, number | null, string | null, string];

/**
 * Body slots, in order; from `AUTH_OFFSET` on, trailing slots holding their default are left out:
 * secretHash, userAgent, ip, roles, idleTimeout, authenticatedAt-, authMethods, data,
 * device overrides ([browser, os, type], or 0 when derived), label, tokenType (0 = opaque),
 * generation, previousSecretHash, previousSecretExpiresAt-, usedSecretHashes, policy,
 * absoluteTimeout minus the absolute offset.
 */
const AUTH_OFFSET = 5;

const HEX64 = /^[0-9a-f]{64}$/;

function packHash(hex: string): string {
  return HEX64.test(hex) ? Buffer.from(hex, 'hex').toString('base64url') : `!${hex}`;
}

function unpackHash(packed: string): string {
  return packed.charCodeAt(0) === 33 ? packed.slice(1) : Buffer.from(packed, 'base64url').toString('hex');
}

/** What `parseDevice` derives from a user agent, memoised: bowser costs ~20 µs, a lookup ~0.1 µs. */
type Derived = [string | null, string | null, string];
const DERIVED_MAX = 4096;
const derivedCache = boundedMap<string | null, Derived>(DERIVED_MAX);

function derived(userAgent: string | null): Derived {
  let d = derivedCache.get(userAgent);
  if (d === undefined) {
    const p = parseDevice({ userAgent });
    d = [p.browser, p.os, p.type];
    derivedCache.set(userAgent, d);
  }
  return d;
}

/** Encodes a record; `id` is not stored (it is the key). */
export function encodeRecord(s: StoredSession): string {
  const ca = s.createdAt;
  const header: Header = [s.version, ca, s.lastSeenAt - ca, s.idleExpiresAt - ca, s.absoluteExpiresAt - ca,
    s.revokedAt, s.revokeReason, s.userId];
  const d = s.device;
  const [browser, os, type] = derived(d.userAgent);
  const overrides = browser === d.browser && os === d.os && type === d.type ? 0 : [d.browser, d.os, d.type];
  const body: unknown[] = [packHash(s.secretHash), d.userAgent, d.ip, s.roles, s.idleTimeout,
    s.authenticatedAt - ca, s.authMethods, s.data, overrides, d.label, s.tokenType === 'opaque' ? 0 : s.tokenType,
    s.generation, s.previousSecretHash === null ? null : packHash(s.previousSecretHash),
    s.previousSecretExpiresAt === null ? null : s.previousSecretExpiresAt - ca, s.usedSecretHashes.map(packHash),
    s.policy, s.absoluteTimeout - (s.absoluteExpiresAt - ca)];
  let n = body.length;
  while (n > AUTH_OFFSET && isDefault(body[n - 1])) n -= 1;
  body.length = n;
  return `${JSON.stringify(header)}\n${JSON.stringify(body)}`;
}

/** 0, null, [] and {}: the usual value of every optional body slot. */
function isDefault(v: unknown): boolean {
  if (v === 0 || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    for (const _ in v as object) return false;
    return true;
  }
  return false;
}

type Body = [string, string | null, string | null, string[], number, number?, string[]?, Record<string, unknown>?,
  (0 | [string | null, string | null, string])?, (string | null)?, (0 | StoredSession['tokenType'])?, number?,
  (string | null)?, (number | null)?, string[]?, (string | null)?, number?];

/** Decodes a value written by `encodeRecord` (and possibly rewritten in its header by Lua). */
export function decodeRecord(id: string, value: string): StoredSession {
  const nl = value.indexOf('\n');
  const h = JSON.parse(value.slice(0, nl)) as Header;
  const b = JSON.parse(value.slice(nl + 1)) as unknown[];
  if (b.length === 14 && Array.isArray(b[12])) return decodeFullBody(id, h, b);
  const [secretHash, userAgent, ip, roles, idleTimeout, authOffset = 0, authMethods = [], data = {}, overrides = 0,
    label = null, tokenType = 0, generation = 0, prev = null, prevExp = null, used, policy = null, absDelta = 0] = b as Body;
  const ca = h[1];
  const [browser, os, type] = overrides === 0 ? derived(userAgent) : overrides;
  const device: DeviceInfo = { userAgent, ip, label, browser, os, type };
  return {
    id, secretHash: unpackHash(secretHash), previousSecretHash: prev === null ? null : unpackHash(prev),
    previousSecretExpiresAt: prevExp === null ? null : ca + prevExp, usedSecretHashes: used === undefined ? [] : used.map(unpackHash),
    generation, tokenType: tokenType === 0 ? 'opaque' : tokenType, userId: h[7], roles,
    createdAt: ca, lastSeenAt: ca + h[2], idleExpiresAt: ca + h[3], absoluteExpiresAt: ca + h[4],
    idleTimeout, absoluteTimeout: h[4] + absDelta, policy, authenticatedAt: ca + authOffset, authMethods,
    device, data, version: h[0], revokedAt: h[5], revokeReason: h[6],
  };
}

/**
 * The body layout of earlier builds (every slot present, device fields stored), still read so
 * that records written before the compact layout stay valid until they expire.
 */
function decodeFullBody(id: string, h: Header, b: unknown[]): StoredSession {
  const [secretHash, prev, prevExp, used, generation, tokenType, roles, idleTimeout, absoluteTimeout, policy,
    authOffset, authMethods, device, data] = b as [string, string | null, number | null,
    string[], number, 0 | StoredSession['tokenType'], string[], number, number, string | null, number, string[],
    [string | null, string | null, string | null, string | null, string | null, string], Record<string, unknown>];
  const ca = h[1];
  return {
    id, secretHash: unpackHash(secretHash), previousSecretHash: prev === null ? null : unpackHash(prev),
    previousSecretExpiresAt: prevExp === null ? null : ca + prevExp, usedSecretHashes: used.map(unpackHash),
    generation, tokenType: tokenType === 0 ? 'opaque' : tokenType, userId: h[7], roles,
    createdAt: ca, lastSeenAt: ca + h[2], idleExpiresAt: ca + h[3], absoluteExpiresAt: ca + h[4],
    idleTimeout, absoluteTimeout, policy, authenticatedAt: ca + authOffset, authMethods,
    device: { userAgent: device[0], ip: device[1], label: device[2], browser: device[3], os: device[4], type: device[5] },
    data, version: h[0], revokedAt: h[5], revokeReason: h[6],
  };
}
